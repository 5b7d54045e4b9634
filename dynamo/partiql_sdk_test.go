package dynamo_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// execStmt runs one statement with parameters.
func execStmt(c *dynamodb.Client, stmt string, params ...types.AttributeValue) (*dynamodb.ExecuteStatementOutput, error) {
	in := &dynamodb.ExecuteStatementInput{Statement: aws.String(stmt)}
	if len(params) > 0 {
		in.Parameters = params
	}
	return c.ExecuteStatement(context.Background(), in)
}

// mustExec runs a statement that must succeed.
func mustExec(t *testing.T, c *dynamodb.Client, stmt string, params ...types.AttributeValue) *dynamodb.ExecuteStatementOutput {
	t.Helper()
	out, err := execStmt(c, stmt, params...)
	if err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
	return out
}

// wantMessage fails unless err is code with a message containing msg.
func wantMessage(t *testing.T, what string, err error, code, msg string) {
	t.Helper()
	wantCode(t, what, err, code)
	if !strings.Contains(err.Error(), msg) {
		t.Fatalf("%s: message %q, want it to contain %q", what, err, msg)
	}
}

func str(v types.AttributeValue) string {
	switch x := v.(type) {
	case *types.AttributeValueMemberS:
		return x.Value
	case *types.AttributeValueMemberN:
		return x.Value
	}
	return fmt.Sprintf("%T", v)
}

func TestSDKPartiQLStatements(t *testing.T) {
	c := startNode(t)
	sdkTable(t, c, "Music", true)

	mustExec(t, c, `INSERT INTO "Music" VALUE {'pk': 'Arvo', 'sk': 1977, 'title': 'Fratres', 'tags': <<'a', 'b'>>, 'info': {'len': 11, 'l': [1, 'x', true, null]}}`)
	mustExec(t, c, `INSERT INTO Music VALUE {'pk': ?, 'sk': ?, 'title': ?}`, s("Arvo"), num("1978"), s("Spiegel"))
	_, err := execStmt(c, `INSERT INTO Music VALUE {'pk': 'Arvo', 'sk': 1977}`)
	wantMessage(t, "duplicate insert", err, "DuplicateItemException", "Duplicate primary key exists in table")

	// Full key: one item, projected under the last names of the paths.
	out := mustExec(t, c, `SELECT title, info.len FROM Music WHERE pk = 'Arvo' AND sk = 1977`)
	if len(out.Items) != 1 || str(out.Items[0]["title"]) != "Fratres" || str(out.Items[0]["len"]) != "11" || len(out.Items[0]) != 2 {
		t.Fatalf("select by key: %+v", out.Items)
	}
	// Partition key with a sort key range and a filter.
	out = mustExec(t, c, `SELECT * FROM "Music" WHERE pk = ? AND sk > 1970 AND title <> 'Spiegel'`, s("Arvo"))
	if len(out.Items) != 1 || str(out.Items[0]["title"]) != "Fratres" {
		t.Fatalf("select by partition: %+v", out.Items)
	}
	// Scan with functions and IS MISSING.
	out = mustExec(t, c, `SELECT sk FROM Music WHERE begins_with(title, 'Fr') AND contains(tags, 'a') AND nope IS MISSING AND title IS NOT MISSING`)
	if len(out.Items) != 1 || str(out.Items[0]["sk"]) != "1977" {
		t.Fatalf("scan: %+v", out.Items)
	}

	// UPDATE with SET, REMOVE, arithmetic and set_add, RETURNING.
	out = mustExec(t, c, `UPDATE Music SET info.len = info.len + 1 SET tags = set_add(tags, <<'c'>>) REMOVE title WHERE pk = 'Arvo' AND sk = 1977 RETURNING MODIFIED NEW *`)
	if len(out.Items) != 1 || str(out.Items[0]["info"].(*types.AttributeValueMemberM).Value["len"]) != "12" {
		t.Fatalf("update returning: %+v", out.Items)
	}
	if tags := out.Items[0]["tags"].(*types.AttributeValueMemberSS).Value; len(tags) != 3 {
		t.Fatalf("set_add: %v", tags)
	}
	// A false condition, and an update of a missing item, fail their check.
	_, err = execStmt(c, `UPDATE Music SET x = 1 WHERE pk = 'Arvo' AND sk = 1977 AND info.len = 5`)
	wantCode(t, "false condition", err, "ConditionalCheckFailedException")
	_, err = execStmt(c, `UPDATE Music SET x = 1 WHERE pk = 'Nobody' AND sk = 1`)
	wantCode(t, "update of a missing item", err, "ConditionalCheckFailedException")

	// DELETE: conditional, returning the old item; a missing item is no error.
	_, err = execStmt(c, `DELETE FROM Music WHERE pk = 'Arvo' AND sk = 1978 AND title = 'Other'`)
	wantCode(t, "delete false condition", err, "ConditionalCheckFailedException")
	out = mustExec(t, c, `DELETE FROM Music WHERE pk = 'Arvo' AND sk = 1978 AND title = 'Spiegel' RETURNING ALL OLD *`)
	if len(out.Items) != 1 || str(out.Items[0]["title"]) != "Spiegel" {
		t.Fatalf("delete returning: %+v", out.Items)
	}
	out = mustExec(t, c, `DELETE FROM Music WHERE pk = 'Arvo' AND sk = 1978 AND title = 'Spiegel'`)
	if len(out.Items) != 0 {
		t.Fatalf("delete of a missing item: %+v", out.Items)
	}
	got, err := c.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String("Music"),
		Key: map[string]types.AttributeValue{"pk": s("Arvo"), "sk": num("1978")}})
	if err != nil || got.Item != nil {
		t.Fatalf("deleted item still there: %v %v", got.Item, err)
	}
}

func TestSDKPartiQLConditionFailureReturnsItem(t *testing.T) {
	c := startNode(t)
	sdkTable(t, c, "Tq1", false)
	mustExec(t, c, `INSERT INTO Tq1 VALUE {'pk': 'a', 'v': 1}`)
	_, err := c.ExecuteStatement(context.Background(), &dynamodb.ExecuteStatementInput{
		Statement:                           aws.String(`UPDATE Tq1 SET v = 2 WHERE pk = 'a' AND v = 5`),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) || str(ccf.Item["v"]) != "1" {
		t.Fatalf("condition failure: %v, item %v", err, ccf)
	}
}

func TestSDKPartiQLPaging(t *testing.T) {
	c := startNode(t)
	sdkTable(t, c, "Pages", true)
	const n = 25
	for i := range n {
		mustExec(t, c, `INSERT INTO Pages VALUE {'pk': ?, 'sk': ?, 'even': ?}`,
			s(fmt.Sprint("k", i%3)), num(fmt.Sprint(i)), &types.AttributeValueMemberBOOL{Value: i%2 == 0})
	}
	count := func(stmt string, params ...types.AttributeValue) (items, pages int) {
		in := &dynamodb.ExecuteStatementInput{Statement: aws.String(stmt), Limit: aws.Int32(4), Parameters: params}
		for pages < 100 {
			out, err := c.ExecuteStatement(context.Background(), in)
			if err != nil {
				t.Fatalf("%s page %d: %v", stmt, pages, err)
			}
			items += len(out.Items)
			pages++
			if out.NextToken == nil {
				return items, pages
			}
			in.NextToken = out.NextToken
		}
		t.Fatalf("%s: no last page", stmt)
		return 0, 0
	}
	if items, pages := count(`SELECT * FROM Pages`); items != n || pages < 7 {
		t.Errorf("scan: %d items in %d pages, want %d in at least 7", items, pages, n)
	}
	if items, _ := count(`SELECT * FROM Pages WHERE even = true`); items != 13 {
		t.Errorf("filtered scan: %d items, want 13", items)
	}
	if items, pages := count(`SELECT * FROM Pages WHERE pk IN ['k1', 'k0'] ORDER BY pk, sk DESC`); items != 17 || pages < 5 {
		t.Errorf("query of two partitions: %d items in %d pages, want 17 in at least 5", items, pages)
	}
	if items, _ := count(`SELECT * FROM Pages WHERE pk = ? AND sk BETWEEN 3 AND 12`, s("k0")); items != 4 {
		t.Errorf("query with BETWEEN: %d items, want 4", items)
	}
	// ORDER BY: partitions by key, each by its sort key, descending.
	out := mustExec(t, c, `SELECT pk, sk FROM Pages WHERE pk IN ['k1', 'k0'] ORDER BY pk, sk DESC`)
	var order []string
	for _, it := range out.Items {
		order = append(order, str(it["pk"])+"/"+str(it["sk"]))
	}
	if got := strings.Join(order, " "); !strings.HasPrefix(got, "k0/24 k0/21 ") || !strings.HasSuffix(got, " k1/4 k1/1") || len(order) != 17 {
		t.Errorf("ORDER BY pk, sk DESC: %s", got)
	}
	// Gets by key page too: a table without a sort key, an IN list.
	sdkTable(t, c, "PagesByKey", false)
	for i := range 5 {
		mustExec(t, c, `INSERT INTO PagesByKey VALUE {'pk': ?}`, s(fmt.Sprint("k", i)))
	}
	if items, pages := count(`SELECT * FROM PagesByKey WHERE pk IN ['k0', 'k1', 'nope', 'k2', 'k3', 'k4']`); items != 5 || pages != 2 {
		t.Errorf("gets by key: %d items in %d pages, want 5 in 2", items, pages)
	}
	// A token serves only its own statement.
	out, err := c.ExecuteStatement(context.Background(), &dynamodb.ExecuteStatementInput{Statement: aws.String(`SELECT * FROM Pages`), Limit: aws.Int32(2)})
	if err != nil || out.NextToken == nil {
		t.Fatalf("first page: %v", err)
	}
	_, err = c.ExecuteStatement(context.Background(), &dynamodb.ExecuteStatementInput{Statement: aws.String(`SELECT pk FROM Pages`), NextToken: out.NextToken})
	wantMessage(t, "token of another statement", err, "ValidationException", "NextToken does not match request")
	_, err = c.ExecuteStatement(context.Background(), &dynamodb.ExecuteStatementInput{Statement: aws.String(`SELECT * FROM Pages`), NextToken: aws.String("garbage")})
	wantMessage(t, "garbage token", err, "ValidationException", "Invalid NextToken")
}

func TestSDKPartiQLErrors(t *testing.T) {
	c := startNode(t)
	sdkTable(t, c, "Errs", true)
	for _, tc := range []struct {
		stmt   string
		params []types.AttributeValue
		code   string
		msg    string
	}{
		{`SELEC * FROM Errs`, nil, "ValidationException", "Statement wasn't well formed, can't be processed: Expected data manipulation"},
		{`SELECT * FROM Errs WHERE`, nil, "ValidationException", "Statement wasn't well formed, can't be processed: "},
		{`SELECT * FROM Nope`, nil, "ResourceNotFoundException", "Requested resource not found"},
		{`SELECT * FROM Errs."byTitle"`, nil, "ValidationException", "The table does not have the specified index: byTitle"},
		{`SELECT * FROM Errs WHERE pk = ?`, nil, "ValidationException", "Number of parameters in request and statement don't match."},
		{`UPDATE Errs SET a = 1 WHERE pk = 'x'`, nil, "ValidationException", "Where clause does not contain a mandatory equality on all key attributes"},
		{`DELETE FROM Errs WHERE a = 1`, nil, "ValidationException", "Where clause does not contain a mandatory equality on all key attributes"},
		{`DELETE FROM Errs WHERE pk = 'x' AND sk = 1 RETURNING ALL NEW *`, nil, "ValidationException", "Only RETURNING ALL OLD * is allowed in DELETE statements."},
		{`INSERT INTO Errs VALUE {'pk': 'x'}`, nil, "ValidationException", "Missing the key sk in the item"},
		{`INSERT INTO Errs VALUE {'pk': 'x', 'sk': 'notanumber'}`, nil, "ValidationException", "Type mismatch for key sk"},
		{`UPDATE Errs SET sk = 2 WHERE pk = 'x' AND sk = 1`, nil, "ValidationException", "This attribute is part of the key"},
		{`SELECT *, a FROM Errs`, nil, "ValidationException", "Other attributes should not be present in the projection when '*' is used."},
		{`INSERT INTO Errs VALUE {'pk': 'x', 'sk': 1, 's': <<>>}`, nil, "ValidationException", "Empty bags are not supported"},
		{`SELECT * FROM Errs WHERE a = MISSING`, nil, "ValidationException", "MISSING must be compared using IS operator"},
		{`SELECT * FROM Errs WHERE EXISTS(SELECT * FROM Errs)`, nil, "ValidationException", "EXISTS can only be used in ExecuteTransaction write requests."},
		{`SELECT * FROM Errs WHERE a BETWEEN 2 AND 1`, nil, "ValidationException", "api error ValidationException: The BETWEEN operator requires upper bound to be greater than or equal to lower bound"},
	} {
		_, err := execStmt(c, tc.stmt, tc.params...)
		wantMessage(t, tc.stmt, err, tc.code, tc.msg)
	}
}
