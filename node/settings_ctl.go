package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/partitadb/partita/admin"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/settings"
	"github.com/partitadb/partita/store"
)

// The node's side of the /config/ admin routes: the overrides in force
// and their history read from the meta partition's leader, changes
// checked against the catalogue and proposed to the meta partition.

var _ admin.Settings = ctl{}

// ConfigOverrides reads the overrides in force from the meta partition's
// leader, after a read barrier: a listing made after a change answered
// (here or through another node) shows it. The directory's copy is no
// substitute: a node refreshes it with a barrier of its own that gives up
// after half a second, and a node that is slow then (its disk, say, made
// slow by the very override being listed) would answer with the copy it
// had.
func (c ctl) ConfigOverrides(ctx context.Context) (admin.ConfigState, error) {
	raw, err := c.n.sender.Get(ctx, directory.MetaPartition, directory.SettingsStateKey(), true)
	if err != nil {
		return admin.ConfigState{}, fmt.Errorf("node: reading the settings in force: %w", err)
	}
	st := &partitapb.SettingsState{} // absent: no override was ever made
	if raw != nil {
		if st, err = directory.DecodeSettingsState(raw); err != nil {
			return admin.ConfigState{}, err
		}
	}
	return admin.ConfigState{Version: st.GetVersion(), Settings: admin.SettingInfos(settingsCatalog),
		Overrides: configOverrides(st.GetOverrides())}, nil
}

func configOverrides(in []*partitapb.SettingsOverride) []admin.ConfigOverride {
	out := make([]admin.ConfigOverride, 0, len(in))
	for _, o := range in {
		out = append(out, admin.ConfigOverride{Key: o.GetKey(), Scope: o.GetScope(), Value: o.GetValue(), Version: o.GetVersion()})
	}
	return out
}

func configChange(c *partitapb.SettingsChange) admin.ConfigChange {
	out := admin.ConfigChange{Version: c.GetVersion(), Author: c.GetAuthor(), Reason: c.GetReason(),
		Time: time.Unix(0, c.GetUnixNanos()).UTC(), Overrides: configOverrides(c.GetOverrides())}
	for _, e := range c.GetEdits() {
		out.Edits = append(out.Edits, admin.ConfigEdit{Key: e.GetKey(), Scope: e.GetScope(), Value: e.GetValue(), Unset: e.GetUnset()})
	}
	return out
}

// settingsHistory reads the versions kept, oldest first, from the meta
// partition's leader.
func (n *Node) settingsHistory(ctx context.Context) ([]*partitapb.SettingsChange, error) {
	lo, hi := directory.SettingsChangesSpan()
	res, err := n.sender.Walk(ctx, store.WalkRequest{Partition: directory.MetaPartition, Lo: lo, Hi: hi, Consistent: true,
		MaxItems: directory.SettingsHistory})
	if err != nil {
		return nil, fmt.Errorf("node: reading the settings history: %w", err)
	}
	out := make([]*partitapb.SettingsChange, 0, len(res.Values))
	for _, raw := range res.Values {
		c, err := directory.DecodeSettingsChange(raw)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func (c ctl) ConfigHistory(ctx context.Context) ([]admin.ConfigChange, error) {
	h, err := c.n.settingsHistory(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]admin.ConfigChange, 0, len(h))
	for _, ch := range h {
		out = append(out, configChange(ch))
	}
	return out, nil
}

func (c ctl) ConfigChange(ctx context.Context, edits []settings.Edit, expected uint64, by, reason string) (admin.ConfigChange, error) {
	for i, e := range edits {
		if e.Unset {
			if _, err := settingsCatalog.Lookup(e.Key); err != nil {
				return admin.ConfigChange{}, err
			}
			continue
		}
		v, err := settingsCatalog.Check(e.Key, e.Value, e.Scope)
		if err != nil {
			return admin.ConfigChange{}, err
		}
		edits[i].Value = v.String()
	}
	ch, err := c.n.changeSettings(ctx, edits, expected, by, reason)
	if err != nil {
		return admin.ConfigChange{}, err
	}
	return configChange(ch), nil
}

func (c ctl) ConfigRollback(ctx context.Context, version uint64, by, reason string) (admin.ConfigChange, error) {
	h, err := c.n.settingsHistory(ctx)
	if err != nil {
		return admin.ConfigChange{}, err
	}
	if len(h) == 0 {
		return admin.ConfigChange{}, fmt.Errorf("%w: no settings were ever overridden", admin.ErrNoVersion)
	}
	cur := h[len(h)-1]
	if version == 0 {
		version = cur.GetVersion() - 1
	}
	var to settings.State // version 0: no overrides
	if version > 0 {
		at := h[0].GetVersion()
		if version < at || version > cur.GetVersion() {
			return admin.ConfigChange{}, fmt.Errorf("%w: %d (versions %d to %d are kept)", admin.ErrNoVersion, version, at, cur.GetVersion())
		}
		if to, err = directory.SettingsStateAfter(h[version-at]); err != nil {
			return admin.ConfigChange{}, err
		}
	}
	from, err := directory.SettingsStateAfter(cur)
	if err != nil {
		return admin.ConfigChange{}, err
	}
	edits := settings.Diff(from, to)
	if len(edits) == 0 {
		return admin.ConfigChange{}, fmt.Errorf("%w: version %d has the overrides in force already", admin.ErrNoVersion, version)
	}
	if reason == "" {
		reason = fmt.Sprintf("rollback to version %d", version)
	}
	ch, err := c.n.changeSettings(ctx, edits, cur.GetVersion(), by, reason)
	var pe *partitapb.Error
	if errors.As(err, &pe) && pe.GetCode() == partitapb.Error_CONDITION_FAILED {
		return admin.ConfigChange{}, fmt.Errorf("%w: the settings changed meanwhile; look again and retry", err)
	}
	if err != nil {
		return admin.ConfigChange{}, err
	}
	return configChange(ch), nil
}

func (c ctl) ConfigEffective(context.Context) admin.ConfigEffective {
	eff, v := c.n.Settings()
	out := admin.ConfigEffective{Node: c.n.id, Zone: c.n.cfg.Zone, Version: v}
	for _, e := range eff {
		out.Settings = append(out.Settings, admin.ConfigValue{Name: e.Name, Value: e.Value.String(), Source: e.Source.String()})
	}
	return out
}
