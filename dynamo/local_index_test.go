package dynamo_test

import "testing"

// TestCreateTableLocalIndexValidation checks CreateTable's refusals of
// LocalSecondaryIndexes, in DynamoDB's words.
func TestCreateTableLocalIndexValidation(t *testing.T) {
	f := newFixture(t)
	const defs = `"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"sk","AttributeType":"S"},{"AttributeName":"l","AttributeType":"N"}]`
	const keys = `"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}],"BillingMode":"PAY_PER_REQUEST"`
	lsi := func(name, hash, rng, proj string) string {
		ks := `{"AttributeName":"` + hash + `","KeyType":"HASH"}`
		if rng != "" {
			ks += `,{"AttributeName":"` + rng + `","KeyType":"RANGE"}`
		}
		return `{"IndexName":"` + name + `","KeySchema":[` + ks + `],"Projection":` + proj + `}`
	}
	const all = `{"ProjectionType":"ALL"}`
	six := lsi("ix1", "pk", "l", all)
	for _, n := range []string{"ix2", "ix3", "ix4", "ix5", "ix6"} {
		six += "," + lsi(n, "pk", "l", all)
	}
	cases := []struct{ body, msg string }{
		{`{"TableName":"abc",` + defs + `,` + keys + `,"LocalSecondaryIndexes":[]}`,
			"One or more parameter values were invalid: List of LocalSecondaryIndexes is empty"},
		{`{"TableName":"abc","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"l","AttributeType":"N"}],"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST","LocalSecondaryIndexes":[` + lsi("ix1", "pk", "l", all) + `]}`,
			"One or more parameter values were invalid: Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex"},
		{`{"TableName":"abc",` + defs + `,` + keys + `,"LocalSecondaryIndexes":[` + six + `]}`,
			"One or more parameter values were invalid: Number of LocalSecondaryIndexes exceeds per-table limit of 5"},
		{`{"TableName":"abc",` + defs + `,` + keys + `,"LocalSecondaryIndexes":[` + lsi("ix1", "pk", "l", all) + `,` + lsi("ix1", "pk", "l", all) + `]}`,
			"One or more parameter values were invalid: Duplicate index name: ix1"},
		{`{"TableName":"abc",` + defs + `,` + keys + `,"LocalSecondaryIndexes":[` + lsi("ix1", "pk", "zz", all) + `]}`,
			"One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [pk, zz], AttributeDefinitions: [pk, sk, l]"},
		{`{"TableName":"abc",` + defs + `,` + keys + `,"LocalSecondaryIndexes":[` + lsi("ix1", "l", "sk", all) + `]}`,
			"One or more parameter values were invalid: Index KeySchema does not have the same leading hash key as table KeySchema for index: ix1. index hash key: l, table hash key: pk"},
		{`{"TableName":"abc",` + defs + `,` + keys + `,"LocalSecondaryIndexes":[` + lsi("ix1", "pk", "", all) + `]}`,
			"One or more parameter values were invalid: Index KeySchema does not have a range key for index: ix1"},
		{`{"TableName":"abc",` + defs + `,` + keys + `,"LocalSecondaryIndexes":[` + lsi("ix1", "pk", "l", `{"ProjectionType":"INCLUDE"}`) + `]}`,
			"One or more parameter values were invalid: ProjectionType is INCLUDE, but NonKeyAttributes is not specified"},
		{`{"TableName":"abc",` + defs + `,` + keys + `,"LocalSecondaryIndexes":[` + lsi("ix1", "pk", "l", `{"ProjectionType":"KEYS_ONLY","NonKeyAttributes":["a"]}`) + `]}`,
			"One or more parameter values were invalid: ProjectionType is KEYS_ONLY, but NonKeyAttributes is specified"},
		{`{"TableName":"abc",` + defs + `,` + keys + `,"LocalSecondaryIndexes":[{"IndexName":"ix","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}]}]}`,
			"2 validation errors detected: Value 'ix' at 'localSecondaryIndexes.1.member.indexName' failed to satisfy constraint: Member must have length greater than or equal to 3; Value null at 'localSecondaryIndexes.1.member.projection' failed to satisfy constraint: Member must not be null"},
		{`{"TableName":"abc","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"sk","AttributeType":"S"},{"AttributeName":"l","AttributeType":"N"},{"AttributeName":"x","AttributeType":"N"}],` + keys + `,"LocalSecondaryIndexes":[` + lsi("ix1", "pk", "l", all) + `]}`,
			"One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions"},
		{`{"TableName":"abc",` + defs + `,` + keys + `,"LocalSecondaryIndexes":[` + lsi("ix1", "pk", "l", all) + `],"GlobalSecondaryIndexes":[{"IndexName":"ix1","KeySchema":[{"AttributeName":"l","KeyType":"HASH"}],"Projection":{"ProjectionType":"ALL"}}]}`,
			"One or more parameter values were invalid: Duplicate index name: ix1"},
	}
	for _, c := range cases {
		f.fails("CreateTable", c.body, "ValidationException", c.msg)
	}
	if names := f.tableNames(); len(names) != 0 {
		t.Fatalf("tables created by invalid requests: %v", names)
	}
}
