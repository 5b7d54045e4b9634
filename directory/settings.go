package directory

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/settings"
)

// The records of the run-time settings' overrides: the state in force
// (one record, read at every refresh) and one record per version, named
// by the version in big-endian order so that a walk reads the history
// oldest first. The history keeps the last SettingsHistory versions.
const (
	kindSettings       = "settings"
	kindSettingsChange = "settings-change"
)

// SettingsHistory is how many versions of the overrides the directory
// keeps: older ones are deleted as new ones are made.
const SettingsHistory = 1000

// SettingsStateKey is the key of the overrides in force.
func SettingsStateKey() []byte { return engine.MetaKey(kindSettings, "state") }

// SettingsChangeKey is the key of the record of version v.
func SettingsChangeKey(v uint64) []byte {
	return engine.MetaKey(kindSettingsChange, string(binary.BigEndian.AppendUint64(nil, v)))
}

// SettingsChangesSpan is the span [lo, hi) of every version's record, in
// version order.
func SettingsChangesSpan() (lo, hi []byte) { return engine.MetaSpan(kindSettingsChange) }

// EncodeSettingsState and EncodeSettingsChange encode a record.
func EncodeSettingsState(s *partitapb.SettingsState) ([]byte, error) {
	return encode("settings state", s)
}

// EncodeSettingsChange: see EncodeSettingsState.
func EncodeSettingsChange(c *partitapb.SettingsChange) ([]byte, error) {
	return encode("settings change", c)
}

// DecodeSettingsChange decodes a version's record.
func DecodeSettingsChange(raw []byte) (*partitapb.SettingsChange, error) {
	return decode(raw, &partitapb.SettingsChange{}, "settings change")
}

// DecodeSettingsState decodes the record of the overrides in force.
func DecodeSettingsState(raw []byte) (*partitapb.SettingsState, error) {
	return decode(raw, &partitapb.SettingsState{}, "settings state")
}

// ReadSettingsState returns the overrides in force: an empty state at
// version 0 when none was ever made.
func ReadSettingsState(r engine.Reader) (*partitapb.SettingsState, error) {
	s, err := read(r, SettingsStateKey(), DecodeSettingsState)
	if s == nil && err == nil {
		s = &partitapb.SettingsState{}
	}
	return s, err
}

// SettingsStateOf converts the stored state into the settings package's.
// An override whose scope no longer parses is an error: the proposer
// checks scopes, so it means a corrupt record.
func SettingsStateOf(s *partitapb.SettingsState) (settings.State, error) {
	ovs := make([]settings.Override, 0, len(s.GetOverrides()))
	for _, o := range s.GetOverrides() {
		sc, err := settings.ParseScope(o.GetScope())
		if err != nil {
			return settings.State{}, fmt.Errorf("directory: settings state: %w", err)
		}
		ovs = append(ovs, settings.Override{Key: o.GetKey(), Scope: sc, Value: o.GetValue(), Version: o.GetVersion()})
	}
	return settings.NewState(s.GetVersion(), ovs), nil
}

// SettingsStateAfter is the state in force after the version c made.
func SettingsStateAfter(c *partitapb.SettingsChange) (settings.State, error) {
	return SettingsStateOf(&partitapb.SettingsState{Version: c.GetVersion(), Overrides: c.GetOverrides()})
}

// SettingsChangeOf converts a stored version into the settings package's.
func SettingsChangeOf(c *partitapb.SettingsChange) (settings.Change, error) {
	out := settings.Change{Version: c.GetVersion(), Author: c.GetAuthor(), Reason: c.GetReason()}
	if n := c.GetUnixNanos(); n != 0 {
		out.Time = time.Unix(0, n).UTC()
	}
	for _, e := range c.GetEdits() {
		sc, err := settings.ParseScope(e.GetScope())
		if err != nil {
			return settings.Change{}, fmt.Errorf("directory: settings v%d: %w", c.GetVersion(), err)
		}
		out.Edits = append(out.Edits, settings.Edit{Key: e.GetKey(), Scope: sc, Value: e.GetValue(), Unset: e.GetUnset()})
	}
	return out, nil
}

// SettingsEdits converts edits into their stored form.
func SettingsEdits(edits []settings.Edit) []*partitapb.SettingsEdit {
	out := make([]*partitapb.SettingsEdit, 0, len(edits))
	for _, e := range edits {
		out = append(out, &partitapb.SettingsEdit{Key: e.Key, Scope: e.Scope.String(), Value: e.Value, Unset: e.Unset})
	}
	return out
}

// ScanSettingsChanges returns the versions kept, oldest first.
func ScanSettingsChanges(r engine.Reader) ([]*partitapb.SettingsChange, error) {
	lo, hi := SettingsChangesSpan()
	it, err := r.NewIter(lo, hi)
	if err != nil {
		return nil, fmt.Errorf("directory: scan settings changes: %w", err)
	}
	defer it.Close()
	var out []*partitapb.SettingsChange
	for ok := it.First(); ok; ok = it.Next() {
		c, err := DecodeSettingsChange(it.Value())
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if err := it.Error(); err != nil {
		return nil, fmt.Errorf("directory: scan settings changes: %w", err)
	}
	return out, nil
}
