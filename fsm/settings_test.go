package fsm_test

import (
	"fmt"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
)

func changeSettings(expected uint64, edits ...*partitapb.SettingsEdit) *partitapb.Command {
	return &partitapb.Command{UnixNanos: 7, Op: &partitapb.Command_ChangeSettings{ChangeSettings: &partitapb.ChangeSettings{
		Edits: edits, Author: "ann", Reason: "test", ExpectedVersion: expected}}}
}

func edit(key, scope, value string) *partitapb.SettingsEdit {
	return &partitapb.SettingsEdit{Key: key, Scope: scope, Value: value, Unset: value == ""}
}

// describeOverrides is the state in force and the versions kept.
func describeOverrides(t *testing.T, eng *engine.Engine) string {
	t.Helper()
	st, err := directory.ReadSettingsState(eng.Reader())
	if err != nil {
		t.Fatal(err)
	}
	out := fmt.Sprintf("v%d", st.GetVersion())
	for _, o := range st.GetOverrides() {
		out += fmt.Sprintf(" %s=%s@%s(v%d)", o.GetKey(), o.GetValue(), o.GetScope(), o.GetVersion())
	}
	changes, err := directory.ScanSettingsChanges(eng.Reader())
	if err != nil {
		t.Fatal(err)
	}
	return out + fmt.Sprintf(" history=%d from v%d", len(changes), changes[0].GetVersion())
}

// TestChangeSettings: versions of the overrides, alike on three replicas;
// a stale compare-and-set and bad edits change nothing; the history keeps
// its last directory.SettingsHistory versions.
func TestChangeSettings(t *testing.T) {
	replicas := []*engine.Engine{openEngine(t), openEngine(t), openEngine(t)}
	run := func(cmd *partitapb.Command) string {
		var out string
		for i, eng := range replicas {
			got := describeResult(apply(t, eng, directory.MetaPartition, proto.Clone(cmd).(*partitapb.Command))) + describeOverrides(t, eng)
			if i > 0 && got != out {
				t.Fatalf("replica %d: %s; replica 0: %s", i, got, out)
			}
			out = got
		}
		return out
	}
	for _, step := range []struct {
		cmd  *partitapb.Command
		want string
	}{
		{changeSettings(0, edit("raft.log-max-bytes", "cluster", "32MiB")),
			"ok\nv1 raft.log-max-bytes=32MiB@cluster(v1) history=1 from v1"},
		{changeSettings(1, edit("raft.log-max-bytes", "zone:b", "64MiB"), edit("doctor.dead-after", "cluster", "1m0s")),
			"ok\nv2 doctor.dead-after=1m0s@cluster(v2) raft.log-max-bytes=32MiB@cluster(v1) raft.log-max-bytes=64MiB@zone:b(v2) history=2 from v1"},
		{changeSettings(1, edit("raft.log-max-bytes", "cluster", "1MiB")),
			"error CONDITION_FAILED: settings: version 2 is in force, not 1\nv2 doctor.dead-after=1m0s@cluster(v2) raft.log-max-bytes=32MiB@cluster(v1) raft.log-max-bytes=64MiB@zone:b(v2) history=2 from v1"},
		{changeSettings(0),
			"error VALIDATION: settings: a change has 1 to 100 edits, not 0\nv2 doctor.dead-after=1m0s@cluster(v2) raft.log-max-bytes=32MiB@cluster(v1) raft.log-max-bytes=64MiB@zone:b(v2) history=2 from v1"},
		{changeSettings(0, edit("", "cluster", "1")),
			"error VALIDATION: settings: an edit needs a key and a scope of at most 128 bytes\nv2 doctor.dead-after=1m0s@cluster(v2) raft.log-max-bytes=32MiB@cluster(v1) raft.log-max-bytes=64MiB@zone:b(v2) history=2 from v1"},
		{changeSettings(0, edit("raft.log-max-bytes", "zone:b", "")),
			"ok\nv3 doctor.dead-after=1m0s@cluster(v2) raft.log-max-bytes=32MiB@cluster(v1) history=3 from v1"},
	} {
		if got := run(step.cmd); got != step.want {
			t.Fatalf("got\n%s\nwant\n%s", got, step.want)
		}
	}
	// The history's bound: a directory at version SettingsHistory (its
	// records written directly), then one change more deletes the oldest.
	eng := openEngine(t)
	b := eng.NewIndexedBatch()
	last := uint64(directory.SettingsHistory)
	for _, v := range []uint64{1, 2, last} {
		raw, err := directory.EncodeSettingsChange(&partitapb.SettingsChange{Version: v})
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Set(directory.SettingsChangeKey(v), raw); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := directory.EncodeSettingsState(&partitapb.SettingsState{Version: last})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Set(directory.SettingsStateKey(), raw); err != nil {
		t.Fatal(err)
	}
	if err := eng.Commit(b); err != nil {
		t.Fatal(err)
	}
	apply(t, eng, directory.MetaPartition, changeSettings(0, edit("request.timeout", "cluster", "5s")))
	want := fmt.Sprintf("v%d request.timeout=5s@cluster(v%d) history=3 from v2", last+1, last+1)
	if got := describeOverrides(t, eng); got != want {
		t.Fatalf("past the bound:\n%s\nwant\n%s", got, want)
	}
}
