package dynamo

import (
	"testing"
)

// FuzzShardIterator feeds the streams decoders (shard iterators, shard
// ids, sequence numbers) arbitrary strings: they never panic, accept no
// iterator that was not made with the key, and re-encode what they
// accept to the same value.
func FuzzShardIterator(f *testing.F) {
	key := []byte("fuzz key")
	good := encodeIterator(key, shardIterator{Table: "t", Stream: 1733350000000000000,
		Shard: shardID{5, 1}, After: 42, Issued: 1733350000000000001})
	for _, s := range []string{good, good[:len(good)-1], "", "AAAA", "shardId-00000000000000000005-00000000000000000001",
		"000000000000000000042", "00000000000000000004x", "shardId-0000000000000000000500000000000000000001-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if it, err := decodeIterator(key, s); err == nil {
			if again := encodeIterator(key, it); again != s {
				t.Fatalf("iterator %q decodes to %+v, which encodes to %q", s, it, again)
			}
			if _, err := decodeIterator([]byte("another key"), s); err == nil {
				t.Fatalf("iterator %q is accepted under another key", s)
			}
		}
		if id, ok := parseShardID(s); ok && id.String() != s {
			t.Fatalf("shard id %q parses to %+v, which formats to %q", s, id, id.String())
		}
		if n, ok := parseSeq(s); ok && formatSeq(n) != s {
			t.Fatalf("sequence number %q parses to %d, which formats to %q", s, n, formatSeq(n))
		}
	})
}

// TestShardIteratorRoundTrip: an iterator decodes to what was encoded,
// and a changed byte or another key makes it invalid.
func TestShardIteratorRoundTrip(t *testing.T) {
	key := []byte("k")
	in := shardIterator{Table: "Music", Stream: 7, Shard: shardID{3, 9}, After: 11, Issued: 13}
	s := encodeIterator(key, in)
	out, err := decodeIterator(key, s)
	if err != nil || out != in {
		t.Fatalf("round trip: %+v, %v; want %+v", out, err, in)
	}
	for i := range len(s) {
		b := []byte(s)
		b[i] ^= 0x01
		if _, err := decodeIterator(key, string(b)); err == nil && string(b) != s {
			if out2, _ := decodeIterator(key, string(b)); out2 != in {
				t.Fatalf("altered byte %d accepted: %+v", i, out2)
			}
		}
	}
	if _, err := decodeIterator([]byte("other"), s); err == nil {
		t.Fatal("iterator accepted under another key")
	}
}
