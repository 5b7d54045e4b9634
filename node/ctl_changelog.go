package node

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/partitadb/partita/admin"
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/member"
	"github.com/partitadb/partita/partitapb"
)

// SetChangeView sets the change view of table's record, then gives this
// node's leaders the new view and every partition's change floor the
// new view at the new revision, so that a write acknowledged after the
// answer is logged with it wherever it is led; the other nodes take up
// the record itself at their next settings catch-up (settingsCatchUp).
func (c ctl) SetChangeView(ctx context.Context, table, view string) (admin.ChangeViewResult, error) {
	v, ok := parseChangeView(view)
	if !ok {
		return admin.ChangeViewResult{}, fmt.Errorf("%w: change view %q: want NONE, KEYS_ONLY, NEW_IMAGE, OLD_IMAGE or NEW_AND_OLD_IMAGES",
			admin.ErrBadRequest, view)
	}
	t, err := c.n.router.UpdateTable(ctx, table, func(t *partitapb.Table) (*partitapb.Table, error) {
		// The table's stream, indexes and point-in-time recovery read
		// the log: a view may keep more than they need, never less.
		if need := fsm.TableLogView(t); fsm.UnionView(v, need) != v {
			return nil, fmt.Errorf("%w: table %s's stream, indexes or point-in-time recovery need the change view %s: %s keeps less",
				admin.ErrBadRequest, table, changeViewName(need), changeViewName(v))
		}
		t.ChangeView = v
		return t, nil
	})
	var e *partitapb.Error
	if errors.As(err, &e) && e.GetCode() == partitapb.Error_TABLE_NOT_FOUND {
		return admin.ChangeViewResult{}, fmt.Errorf("%w: no table %s", member.ErrNoTable, table)
	}
	if err != nil {
		return admin.ChangeViewResult{}, err
	}
	// This node's leaders take the record the update returned, whether
	// or not the directory could be read again in time (a loaded node's
	// refresh may not be): a write after the answer follows the new view.
	c.n.freshDirectory(ctx)
	tables := slices.Clone(c.n.dir.Snapshot().Tables)
	if i := slices.IndexFunc(tables, func(o *partitapb.Table) bool { return o.GetId() == t.GetId() }); i >= 0 {
		tables[i] = t
	} else {
		tables = append(tables, t)
	}
	c.n.setChangeLogsOf(tables)
	// Every partition's change floor takes the view too, as the index
	// job's followFloors would at its next cycle: each leader, whatever
	// its node's directory says, logs a write acknowledged after the
	// answer with the new view, and no longer with the old one (a floor
	// raised for the old view would go on logging until then).
	for _, p := range t.GetPartitions() {
		if _, err := c.n.router.SetChangeFloor(ctx, t, p); err != nil {
			return admin.ChangeViewResult{}, fmt.Errorf("node: %s's view is %s, but partition %d's change floor is not yet (the index job sets it within a cycle): %w",
				table, changeViewName(t.GetChangeView()), p.GetId(), err)
		}
	}
	return admin.ChangeViewResult{Table: table, View: changeViewName(t.GetChangeView())}, nil
}

// parseChangeView reads a change view by its StreamViewType name, NONE
// for none.
func parseChangeView(s string) (partitapb.ChangeView, bool) {
	if strings.EqualFold(s, "NONE") {
		return partitapb.ChangeView_CHANGE_VIEW_NONE, true
	}
	v, ok := partitapb.ChangeView_value[strings.ToUpper(s)]
	return partitapb.ChangeView(v), ok && v != 0
}

func changeViewName(v partitapb.ChangeView) string {
	if v == partitapb.ChangeView_CHANGE_VIEW_NONE {
		return "NONE"
	}
	return v.String()
}
