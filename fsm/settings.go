package fsm

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
)

// Bounds of one settings change: the proposer checks each edit against
// the settings registry; apply checks only what keeps the records sane.
const (
	maxSettingsEdits = 100
	maxSettingsKey   = 128
	maxSettingsValue = 1024
)

// applyChangeSettings makes the next version of the settings overrides:
// its record, the new state in force, and the oldest version past the
// history's bound deleted. With expected_version, it is refused
// (CONDITION_FAILED, nothing written) unless that version is in force.
func applyChangeSettings(b *engine.Batch, now int64, c *partitapb.ChangeSettings) (*partitapb.Result, error) {
	if res := checkSettingsEdits(c.GetEdits()); res != nil {
		return res, nil
	}
	st, err := directory.ReadSettingsState(b)
	if err != nil {
		return nil, err
	}
	if exp := c.GetExpectedVersion(); exp != 0 && exp != st.GetVersion() {
		return reject(partitapb.Error_CONDITION_FAILED, "settings: version %d is in force, not %d", st.GetVersion(), exp), nil
	}
	v := st.GetVersion() + 1
	next := &partitapb.SettingsState{Version: v, Overrides: applySettingsEdits(st.GetOverrides(), c.GetEdits(), v)}
	change := &partitapb.SettingsChange{Version: v, Edits: c.GetEdits(), Author: c.GetAuthor(), Reason: c.GetReason(), UnixNanos: now,
		Overrides: next.GetOverrides()}
	if err := writeRecord(b, directory.SettingsChangeKey(v), change, directory.EncodeSettingsChange); err != nil {
		return nil, err
	}
	if err := writeRecord(b, directory.SettingsStateKey(), next, directory.EncodeSettingsState); err != nil {
		return nil, err
	}
	if v > directory.SettingsHistory {
		if err := b.Delete(directory.SettingsChangeKey(v - directory.SettingsHistory)); err != nil {
			return nil, fmt.Errorf("fsm: trim settings history: %w", err)
		}
	}
	return &partitapb.Result{SettingsChange: change}, nil
}

func checkSettingsEdits(edits []*partitapb.SettingsEdit) *partitapb.Result {
	if n := len(edits); n == 0 || n > maxSettingsEdits {
		return reject(partitapb.Error_VALIDATION, "settings: a change has 1 to %d edits, not %d", maxSettingsEdits, n)
	}
	for _, e := range edits {
		if k := e.GetKey(); k == "" || len(k) > maxSettingsKey || e.GetScope() == "" || len(e.GetScope()) > maxSettingsKey {
			return reject(partitapb.Error_VALIDATION, "settings: an edit needs a key and a scope of at most %d bytes", maxSettingsKey)
		}
		if len(e.GetValue()) > maxSettingsValue {
			return reject(partitapb.Error_VALIDATION, "settings: %s: a value of at most %d bytes", e.GetKey(), maxSettingsValue)
		}
	}
	return nil
}

// applySettingsEdits returns the overrides after edits made at version v,
// sorted by key then scope, so that every replica writes the same bytes.
func applySettingsEdits(in []*partitapb.SettingsOverride, edits []*partitapb.SettingsEdit, v uint64) []*partitapb.SettingsOverride {
	type slot struct{ key, scope string }
	set := make(map[slot]*partitapb.SettingsOverride, len(in)+len(edits))
	for _, o := range in {
		set[slot{o.GetKey(), o.GetScope()}] = o
	}
	for _, e := range edits {
		k := slot{e.GetKey(), e.GetScope()}
		if e.GetUnset() {
			delete(set, k)
		} else {
			set[k] = &partitapb.SettingsOverride{Key: e.GetKey(), Scope: e.GetScope(), Value: e.GetValue(), Version: v}
		}
	}
	out := make([]*partitapb.SettingsOverride, 0, len(set))
	for _, o := range set {
		out = append(out, o)
	}
	slices.SortFunc(out, func(a, b *partitapb.SettingsOverride) int {
		return cmp.Or(cmp.Compare(a.GetKey(), b.GetKey()), cmp.Compare(a.GetScope(), b.GetScope()))
	})
	return out
}
