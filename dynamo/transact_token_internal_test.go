package dynamo

import (
	"bytes"
	"testing"
)

// TestRequestDigestCanonical: a request whose members come in another
// order (an SDK's retry re-encodes its maps) has the same digest; another
// value, or another operation, does not.
func TestRequestDigestCanonical(t *testing.T) {
	a := requestDigest("TransactWriteItems", []byte(`{"TransactItems":[{"Put":{"TableName":"t","Item":{"pk":{"S":"a"},"n":{"N":"1.50"}}}}],"ClientRequestToken":"x"}`))
	b := requestDigest("TransactWriteItems", []byte(`{"ClientRequestToken":"x", "TransactItems":[{"Put":{"Item":{"n":{"N":"1.50"},"pk":{"S":"a"}},"TableName":"t"}}]}`))
	if !bytes.Equal(a, b) {
		t.Fatal("one request in two member orders has two digests")
	}
	c := requestDigest("TransactWriteItems", []byte(`{"ClientRequestToken":"x","TransactItems":[{"Put":{"Item":{"n":{"N":"1.5"},"pk":{"S":"a"}},"TableName":"t"}}]}`))
	d := requestDigest("ExecuteTransaction", []byte(`{"TransactItems":[{"Put":{"TableName":"t","Item":{"pk":{"S":"a"},"n":{"N":"1.50"}}}}],"ClientRequestToken":"x"}`))
	if bytes.Equal(a, c) || bytes.Equal(a, d) {
		t.Fatal("another number's text, or another operation, has the same digest")
	}
}
