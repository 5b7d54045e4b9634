package directory_test

import (
	"bytes"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/partitapb"
)

// TestAuthRecordKeys: each record kind's keys fall in its own span and no
// other, so that a walk of the access keys reads keys alone.
func TestAuthRecordKeys(t *testing.T) {
	spans := map[string][2][]byte{}
	for name, span := range map[string]func() ([]byte, []byte){"user": directory.UsersSpan, "key": directory.AccessKeysSpan,
		"policy": directory.PoliciesSpan, "table": directory.TablesSpan} {
		lo, hi := span()
		spans[name] = [2][]byte{lo, hi}
	}
	for kind, key := range map[string][]byte{"user": directory.UserKey("alice"), "key": directory.AccessKeyKey("PKIAAAAAAAAAAAAAAAAA"),
		"policy": directory.PolicyKey("AllowAll")} {
		for name, s := range spans {
			in := bytes.Compare(s[0], key) <= 0 && bytes.Compare(key, s[1]) < 0
			if in != (name == kind) {
				t.Errorf("the %s key %q in the %s span: %t", kind, key, name, in)
			}
		}
	}
}

// TestAuthRecordCodecs: records survive their codecs; garbage does not
// decode.
func TestAuthRecordCodecs(t *testing.T) {
	u := &partitapb.User{Name: "alice", CreatedUnixNanos: 5, AccessKeyIds: []string{"PKIAAAAAAAAAAAAAAAAA"}, Policies: []string{"AllowAll"}}
	raw, err := directory.EncodeUser(u)
	if err != nil {
		t.Fatal(err)
	}
	if back, err := directory.DecodeUser(raw); err != nil || !proto.Equal(back, u) {
		t.Fatalf("user: %v, %v", back, err)
	}
	k := &partitapb.AccessKey{Id: "PKIAAAAAAAAAAAAAAAAA", User: "alice", SealedSecret: []byte{1, 2, 3}, Disabled: true}
	raw, err = directory.EncodeAccessKey(k)
	if err != nil {
		t.Fatal(err)
	}
	if back, err := directory.DecodeAccessKey(raw); err != nil || !proto.Equal(back, k) {
		t.Fatalf("access key: %v, %v", back, err)
	}
	if _, err := directory.DecodePolicy([]byte{0xff, 0xff, 0xff}); err == nil {
		t.Fatal("a corrupt policy record decoded")
	}
}
