package doctor

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// TestReplication: the Doctor plans with the settings' replication
// factor (the cluster's record) over its own; without one it plans with
// its own and warns, once per change, not at every cycle.
func TestReplication(t *testing.T) {
	var logs bytes.Buffer
	d := &Doctor{log: slog.New(slog.NewTextHandler(&logs, nil))}
	for range 3 {
		if r := d.replication(Replication{}, 1); r.Factor != 1 || !r.Fallback {
			t.Fatalf("without a record: %+v", r)
		}
	}
	if n := strings.Count(logs.String(), "records no replication factor"); n != 1 {
		t.Fatalf("%d warnings of the fallback over three cycles:\n%s", n, logs.String())
	}
	rec := Replication{Factor: 3, Source: "the cluster's record"}
	if r := d.replication(rec, 1); r != rec {
		t.Fatalf("with the record's 3, the Doctor's own 1: %+v", r)
	}
	if !strings.Contains(logs.String(), "planning with the cluster's replication factor") {
		t.Fatalf("the switch to the record is not logged:\n%s", logs.String())
	}
}
