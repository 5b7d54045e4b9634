package node_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partitadb/partita/admin"
	"github.com/partitadb/partita/auth"
	"github.com/partitadb/partita/node"
)

// ownNotes lets a user read and write the items of table Notes whose
// partition key is its name, and never delete.
const ownNotes = `{"Version":"2012-10-17","Statement":[
 {"Sid":"OwnNotes","Effect":"Allow",
  "Action":["dynamodb:GetItem","dynamodb:PutItem","dynamodb:Query","dynamodb:BatchWriteItem","dynamodb:DeleteItem"],
  "Resource":"arn:aws:dynamodb:*:*:table/Notes",
  "Condition":{"ForAllValues:StringEquals":{"dynamodb:LeadingKeys":["${aws:username}"]}}},
 {"Sid":"NoDeletes","Effect":"Deny","Action":"dynamodb:DeleteItem","Resource":"*"}]}`

func putPolicy(t *testing.T, n *node.Node, name, doc string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, n.AdminURL()+"/auth/policies/"+name, bytes.NewReader([]byte(doc)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func note(owner, id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"owner": &types.AttributeValueMemberS{Value: owner}, "id": &types.AttributeValueMemberS{Value: id}}
}

// wantDenied fails unless err is AccessDeniedException with message msg.
func wantDenied(t *testing.T, what string, err error, msg string) {
	t.Helper()
	if !isCode(err, "AccessDeniedException") || !strings.Contains(err.Error(), msg) {
		t.Fatalf("%s: %v, want AccessDeniedException: %s", what, err, msg)
	}
}

// TestAuthPolicies: a user whose policy allows its own partition keys
// (dynamodb:LeadingKeys = ${aws:username}) reads and writes its items and
// no one else's, one forbidden item refuses a whole BatchWriteItem, an
// explicit Deny wins over an Allow, what no statement allows is denied,
// all with DynamoDB's AccessDeniedException and message; ctl's simulate
// route says which statement decided.
func TestAuthPolicies(t *testing.T) {
	t.Parallel()
	n := startAuthMember(t, t.TempDir())
	boot := *n.BootstrapCredentials()
	root := keyClient(n, boot)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	createNotes(ctx, t, root)
	if st := putPolicy(t, n, "own-notes", ownNotes); st != http.StatusOK {
		t.Fatalf("put the policy: status %d", st)
	}
	if st := putPolicy(t, n, "broken", `{"Statement":{"Effect":"Perhaps"}}`); st != http.StatusBadRequest {
		t.Fatalf("put a policy that does not parse: status %d, want 400", st)
	}
	adminCall(t, n, http.MethodPost, "/auth/users/erin", nil)
	attach(t, n, "erin", "own-notes")
	erin := keyClient(n, createKey(t, n, "erin"))
	waitUntil(t, "erin may write her notes", func() bool {
		_, err := erin.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("Notes"), Item: note("erin", "1")})
		return err == nil
	})
	if _, err := erin.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("Notes"), Key: note("erin", "1")}); err != nil {
		t.Fatalf("erin reads her note: %v", err)
	}
	q, err := erin.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("Notes"), KeyConditionExpression: aws.String("#o = :o"),
		ExpressionAttributeNames: map[string]string{"#o": "owner"}, ExpressionAttributeValues: map[string]types.AttributeValue{":o": &types.AttributeValueMemberS{Value: "erin"}}})
	if err != nil || q.Count != 1 {
		t.Fatalf("erin queries her notes: %v, %v", q, err)
	}

	const arn = "arn:aws:dynamodb:us-east-1:000000000000:table/Notes"
	const who = "User: arn:aws:iam::000000000000:user/erin is not authorized to perform: "
	_, err = erin.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("Notes"), Item: note("frank", "1")})
	wantDenied(t, "erin writes frank's note", err, who+"dynamodb:PutItem on resource: "+arn+" because no identity-based policy allows the dynamodb:PutItem action")
	_, err = erin.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("Notes"), KeyConditionExpression: aws.String("#o = :o"),
		ExpressionAttributeNames: map[string]string{"#o": "owner"}, ExpressionAttributeValues: map[string]types.AttributeValue{":o": &types.AttributeValueMemberS{Value: "frank"}}})
	wantDenied(t, "erin queries frank's notes", err, who+"dynamodb:Query on resource: "+arn)
	_, err = erin.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"Notes": {
		{PutRequest: &types.PutRequest{Item: note("erin", "2")}}, {PutRequest: &types.PutRequest{Item: note("frank", "2")}}}}})
	wantDenied(t, "a batch with one of frank's notes", err, who+"dynamodb:BatchWriteItem on resource: "+arn)
	got, err := root.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("Notes"), Key: note("erin", "2"), ConsistentRead: aws.Bool(true)})
	if err != nil || got.Item != nil {
		t.Fatalf("the refused batch wrote erin's second note: %v, %v", got.Item, err)
	}
	_, err = erin.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("Notes"), Key: note("erin", "1")})
	wantDenied(t, "erin deletes her note", err, who+"dynamodb:DeleteItem on resource: "+arn+" with an explicit deny in an identity-based policy")
	_, err = erin.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("Notes")})
	wantDenied(t, "erin scans", err, who+"dynamodb:Scan on resource: "+arn)
	wantDenied(t, "erin lists tables", listTables(erin), who+"dynamodb:ListTables on resource: *")

	var sim admin.SimulateResult
	v := url.Values{"user": {"erin"}, "action": {"DeleteItem"}, "resource": {"Notes"}, "key": {"erin"}}
	if st := adminCall(t, n, http.MethodGet, "/auth/simulate?"+v.Encode(), &sim); st != http.StatusOK ||
		sim.Allowed || !sim.ExplicitDeny || sim.Statement != "NoDeletes" || sim.Policy != "own-notes" {
		t.Fatalf("simulate DeleteItem: status %d, %+v", st, sim)
	}
	v.Set("action", "dynamodb:GetItem")
	if st := adminCall(t, n, http.MethodGet, "/auth/simulate?"+v.Encode(), &sim); st != http.StatusOK || !sim.Allowed || sim.Statement != "OwnNotes" {
		t.Fatalf("simulate GetItem: status %d, %+v", st, sim)
	}
	if st := adminCall(t, n, http.MethodDelete, "/auth/policies/own-notes", nil); st != http.StatusConflict {
		t.Fatalf("delete an attached policy: status %d, want 409", st)
	}

	// Detached, erin may do nothing: deny by default.
	if st := adminCall(t, n, http.MethodDelete, "/auth/users/erin/policies/own-notes", nil); st != http.StatusOK {
		t.Fatalf("detach: status %d", st)
	}
	waitUntil(t, "erin denied everything", func() bool {
		_, err := erin.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("Notes"), Key: note("erin", "1")})
		return isCode(err, "AccessDeniedException")
	})
	if err := listTables(root); err != nil {
		t.Fatalf("the bootstrap user (policy %s): %v", node.AllowAllPolicy, err)
	}

	// dynamodb:Attributes: gus may change the title of notes, nothing else.
	titles := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["dynamodb:UpdateItem","dynamodb:PutItem"],
		"Resource":"` + arn + `","Condition":{"ForAllValues:StringEquals":{"dynamodb:Attributes":["owner","id","title"]}}}}`
	if st := putPolicy(t, n, "titles", titles); st != http.StatusOK {
		t.Fatalf("put the titles policy: status %d", st)
	}
	adminCall(t, n, http.MethodPost, "/auth/users/gus", nil)
	attach(t, n, "gus", "titles")
	gus := keyClient(n, createKey(t, n, "gus"))
	set := func(attr string) error {
		_, err := gus.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("Notes"), Key: note("erin", "1"),
			UpdateExpression: aws.String("SET #a = :v"), ExpressionAttributeNames: map[string]string{"#a": attr},
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": &types.AttributeValueMemberS{Value: "x"}}})
		return err
	}
	waitUntil(t, "gus may set a title", func() bool { return set("title") == nil })
	wantDenied(t, "gus sets a body", set("body"), "User: arn:aws:iam::000000000000:user/gus is not authorized to perform: dynamodb:UpdateItem")
	item := note("erin", "3")
	item["body"] = &types.AttributeValueMemberS{Value: "x"}
	_, err = gus.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("Notes"), Item: item})
	wantDenied(t, "gus puts a note with a body", err, "dynamodb:PutItem on resource: "+arn)
}

// BenchmarkGetItemPolicy measures an SDK GetItem end to end by a user
// whose policy allows everything (decided by the action alone) and by one
// whose policy holds a LeadingKeys condition (the request is read again
// for its table and key); run with -count N, the two alternate.
func BenchmarkGetItemPolicy(b *testing.B) {
	cfg := node.DefaultConfig()
	cfg.DataDir, cfg.APIAddr, cfg.PeerAddr, cfg.AdminAddr = b.TempDir(), "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg.Auth = node.AuthConfig{Enabled: true}
	n, err := node.Start(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer n.Close()
	root := keyClient(n, *n.BootstrapCredentials())
	ctx := context.Background()
	_, err = root.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String("Notes"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("owner"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("owner"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("id"), KeyType: types.KeyTypeRange}},
		BillingMode: types.BillingModePayPerRequest,
	})
	if err != nil {
		b.Fatal(err)
	}
	clients := map[string]*dynamodb.Client{}
	for user, policy := range map[string]string{"erin": "own-notes", "root2": node.AllowAllPolicy} {
		if resp, err := bootstrapAdminDo(n, http.MethodPut, "/auth/policies/own-notes", strings.NewReader(ownNotes)); err == nil {
			resp.Body.Close()
		}
		for _, path := range []string{"/auth/users/" + user, "/auth/users/" + user + "/policies/" + policy} {
			resp, err := bootstrapAdminDo(n, http.MethodPost, path, nil)
			if err != nil || resp.StatusCode != http.StatusOK {
				b.Fatalf("POST %s: %v %v", path, err, resp)
			}
			resp.Body.Close()
		}
		var k admin.NewAccessKey
		resp, err := bootstrapAdminDo(n, http.MethodPost, "/auth/users/"+user+"/keys", nil)
		if err != nil {
			b.Fatal(err)
		}
		if err := json.NewDecoder(resp.Body).Decode(&k); err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		clients[user] = keyClient(n, auth.Key{AccessKeyID: k.ID, Secret: k.Secret})
	}
	if _, err := root.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("Notes"), Item: note("erin", "1")}); err != nil {
		b.Fatal(err)
	}
	in := &dynamodb.GetItemInput{TableName: aws.String("Notes"), Key: note("erin", "1")}
	for round := range 3 {
		for _, user := range []string{"root2", "erin"} {
			b.Run("policy="+map[string]string{"root2": "allow-all", "erin": "leading-keys"}[user]+"/round="+strconv.Itoa(round), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := clients[user].GetItem(ctx, in); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// bootstrapAdminDo sends a request to the admin endpoint of n, a node that made
// its cluster, with the admin token it made.
func bootstrapAdminDo(n *node.Node, method, path string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequest(method, n.AdminURL()+path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+n.BootstrapAdminToken())
	return http.DefaultClient.Do(req)
}

// createNotes creates the policy tests' table Notes (owner, id) through c.
func createNotes(ctx context.Context, t *testing.T, c *dynamodb.Client) {
	t.Helper()
	_, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String("Notes"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("owner"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("owner"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("id"), KeyType: types.KeyTypeRange}},
		BillingMode: types.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatal(err)
	}
}
