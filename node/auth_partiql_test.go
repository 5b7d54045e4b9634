package node_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// ownNotesPartiQL lets a user select and insert the items of Notes whose
// partition key is its name, through PartiQL only.
const ownNotesPartiQL = `{"Version":"2012-10-17","Statement":[
 {"Sid":"OwnNotesQL","Effect":"Allow",
  "Action":["dynamodb:PartiQLSelect","dynamodb:PartiQLInsert"],
  "Resource":"arn:aws:dynamodb:*:*:table/Notes",
  "Condition":{"ForAllValues:StringEquals":{"dynamodb:LeadingKeys":["${aws:username}"]}}}]}`

// TestAuthPartiQL: a PartiQL statement is authorized as DynamoDB's
// policies see it: the action of its kind (dynamodb:PartiQLSelect, ...)
// on its table, with the partition keys it touches; in a batch, each
// statement is checked and one refusal refuses the batch.
func TestAuthPartiQL(t *testing.T) {
	t.Parallel()
	n := startAuthMember(t, t.TempDir())
	root := keyClient(n, *n.BootstrapCredentials())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	createNotes(ctx, t, root)
	if st := putPolicy(t, n, "own-notes-ql", ownNotesPartiQL); st != http.StatusOK {
		t.Fatalf("put the policy: status %d", st)
	}
	adminCall(t, n, http.MethodPost, "/auth/users/gil", nil)
	attach(t, n, "gil", "own-notes-ql")
	gil := keyClient(n, createKey(t, n, "gil"))
	exec := func(stmt string) error {
		_, err := gil.ExecuteStatement(ctx, &dynamodb.ExecuteStatementInput{Statement: aws.String(stmt)})
		return err
	}
	waitUntil(t, "gil may insert his notes", func() bool {
		return exec(`INSERT INTO Notes VALUE {'owner': 'gil', 'id': '1'}`) == nil
	})
	if err := exec(`SELECT * FROM Notes WHERE owner = 'gil'`); err != nil {
		t.Fatalf("gil selects his notes: %v", err)
	}
	const arn = "arn:aws:dynamodb:us-east-1:000000000000:table/Notes"
	const who = "User: arn:aws:iam::000000000000:user/gil is not authorized to perform: "
	wantDenied(t, "gil selects ida's notes", exec(`SELECT * FROM Notes WHERE owner = 'ida'`), who+"dynamodb:PartiQLSelect on resource: "+arn)
	wantDenied(t, "gil inserts ida's note", exec(`INSERT INTO Notes VALUE {'owner': 'ida', 'id': '1'}`), who+"dynamodb:PartiQLInsert on resource: "+arn)
	wantDenied(t, "gil deletes his note", exec(`DELETE FROM Notes WHERE owner = 'gil' AND id = '1'`), who+"dynamodb:PartiQLDelete on resource: "+arn)
	_, err := gil.BatchExecuteStatement(ctx, &dynamodb.BatchExecuteStatementInput{Statements: []types.BatchStatementRequest{
		{Statement: aws.String(`SELECT * FROM Notes WHERE owner = 'gil' AND id = '1'`)},
		{Statement: aws.String(`SELECT * FROM Notes WHERE owner = 'ida' AND id = '1'`)}}})
	wantDenied(t, "a batch with one of ida's notes", err, who+"dynamodb:PartiQLSelect on resource: "+arn)
}
