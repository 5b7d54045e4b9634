package history

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestKeyRoundTrip(t *testing.T) {
	n := Name{
		Node:    3,
		Taken:   time.Date(2026, 12, 3, 16, 4, 5, 6, time.UTC),
		Started: time.Date(2026, 12, 3, 15, 0, 0, 0, time.UTC),
		Seq:     42,
	}
	key := n.Key()
	if want := "topology/v1/2026/12/03/16/node-0000000003/"; !strings.HasPrefix(key, want) {
		t.Fatalf("key %q lacks prefix %q", key, want)
	}
	if !strings.HasPrefix(key, NodePrefix(n.Taken, 3)) || !strings.HasPrefix(key, HourPrefix(n.Taken)) {
		t.Fatalf("key %q outside its own prefixes", key)
	}
	got, err := ParseKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if got.Node != n.Node || !got.Taken.Equal(n.Taken) || !got.Started.Equal(n.Started) || got.Seq != n.Seq {
		t.Fatalf("ParseKey(%q) = %+v, want %+v", key, got, n)
	}
}

func TestKeysOfANodeListInTimeOrder(t *testing.T) {
	start := time.Date(2026, 12, 3, 16, 0, 0, 0, time.UTC)
	a := Name{Node: 1, Taken: start.Add(time.Second), Started: start, Seq: 9}.Key()
	b := Name{Node: 1, Taken: start.Add(10 * time.Second), Started: start, Seq: 10}.Key()
	if a >= b {
		t.Fatalf("%q sorts after %q", a, b)
	}
}

func TestParseKeyRefusesOtherNames(t *testing.T) {
	good := Name{Node: 1, Taken: time.Unix(1764777600, 0), Started: time.Unix(1764770000, 0), Seq: 1}.Key()
	for _, key := range []string{
		"",
		"topology/v1/",
		"other/" + good,
		strings.TrimSuffix(good, ".pb"),
		strings.Replace(good, "/16/", "/17/", 1),
		strings.Replace(good, "node-", "nod-", 1),
		good + "x",
		strings.Replace(good, ".pb", "-1.pb", 1),
	} {
		if _, err := ParseKey(key); !errors.Is(err, ErrNotAKey) {
			t.Errorf("ParseKey(%q) = %v, want ErrNotAKey", key, err)
		}
	}
}

func FuzzParseKey(f *testing.F) {
	f.Add(Name{Node: 7, Taken: time.Unix(1764777600, 5), Started: time.Unix(1764770000, 0), Seq: 3}.Key())
	f.Add("topology/v1/2026/12/03/16/node-1/1-2-3.pb")
	f.Fuzz(func(t *testing.T, key string) {
		n, err := ParseKey(key)
		if err != nil {
			return
		}
		if n.Key() != key {
			t.Fatalf("ParseKey(%q) accepted a key it does not write back (%q)", key, n.Key())
		}
	})
}
