package node_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partitadb/partita/admin"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/node"
	"github.com/partitadb/partita/partitapb"
)

// TestChangeViewThroughAdmin turns a table's change log on and off
// through the admin route (what `partita ctl table change-view` calls):
// SDK writes are logged while the view is on, with the images it names,
// and not before or after.
func TestChangeViewThroughAdmin(t *testing.T) {
	t.Parallel()
	n := start(t, t.TempDir())
	defer n.Close()
	ctx := context.Background()
	db := client(n)
	if _, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("logged"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	}); err != nil {
		t.Fatal(err)
	}
	put := func(pk, v string) {
		t.Helper()
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("logged"), Item: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: pk}, "v": &types.AttributeValueMemberS{Value: v},
		}}); err != nil {
			t.Fatal(err)
		}
	}
	setView := func(view string, want int) {
		t.Helper()
		resp, err := http.Post(n.AdminURL()+"/cluster/tables/logged/change-view?view="+view, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var res admin.ChangeViewResult
		if resp.StatusCode == http.StatusOK {
			if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
				t.Fatal(err)
			}
		}
		if resp.StatusCode != want || (want == http.StatusOK && res.View != view) {
			t.Fatalf("change view %s: status %d, %+v", view, resp.StatusCode, res)
		}
	}
	for i := range 5 {
		put(fmt.Sprint("k", i), "before")
	}
	setView("NEW_AND_OLD_IMAGES", http.StatusOK)
	setView("SOMETIMES", http.StatusBadRequest)
	for i := range 5 {
		put(fmt.Sprint("k", i), "during")
	}
	if _, err := db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("logged"), Key: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "k0"}}}); err != nil {
		t.Fatal(err)
	}
	setView("NONE", http.StatusOK)
	put("k9", "after")
	recs, err := node.TableChanges(ctx, n, "logged")
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[partitapb.ChangeKind]int{}
	for _, r := range recs {
		kinds[r.Record.GetKind()]++
		if r.Record.GetOldImage() == nil {
			newItem, _ := item.DecodeItem(r.Record.GetNewImage())
			t.Errorf("record %d (%s of %v at %s) without its old image", r.Seq, r.Record.GetKind(), newItem,
				time.Unix(0, r.Record.GetUnixNanos()).Format(time.StampMicro))
		}
	}
	if len(recs) != 6 || kinds[partitapb.ChangeKind_MODIFY] != 5 || kinds[partitapb.ChangeKind_REMOVE] != 1 {
		t.Fatalf("%d records (%v), want 5 MODIFY and 1 REMOVE", len(recs), kinds)
	}
}

// TestChangeViewKeepsWhatTheStreamNeeds: the admin route refuses a view
// that keeps less than the table's stream reads (the stream would lose
// its records), and takes one that keeps more.
func TestChangeViewKeepsWhatTheStreamNeeds(t *testing.T) {
	t.Parallel()
	n := start(t, t.TempDir())
	defer n.Close()
	ctx := context.Background()
	if _, err := client(n).CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("streamed"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
		StreamSpecification:  &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewImage},
	}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		view string
		want int
	}{{"NONE", http.StatusBadRequest}, {"KEYS_ONLY", http.StatusBadRequest}, {"OLD_IMAGE", http.StatusBadRequest},
		{"NEW_AND_OLD_IMAGES", http.StatusOK}, {"NEW_IMAGE", http.StatusOK}} {
		resp, err := http.Post(n.AdminURL()+"/cluster/tables/streamed/change-view?view="+c.view, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Fatalf("change view %s: status %d (%s), want %d", c.view, resp.StatusCode, body, c.want)
		}
	}
}
