package node

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/partitadb/partita/admin"
	"github.com/partitadb/partita/member"
	"github.com/partitadb/partita/partitapb"
)

// SetChangeView sets the change view of table's record, then gives this
// node's leaders the new view at once; the other nodes take it up at
// their next settings catch-up (settingsCatchUp).
func (c ctl) SetChangeView(ctx context.Context, table, view string) (admin.ChangeViewResult, error) {
	v, ok := parseChangeView(view)
	if !ok {
		return admin.ChangeViewResult{}, fmt.Errorf("%w: change view %q: want NONE, KEYS_ONLY, NEW_IMAGE, OLD_IMAGE or NEW_AND_OLD_IMAGES",
			admin.ErrBadRequest, view)
	}
	t, err := c.n.router.UpdateTable(ctx, table, func(t *partitapb.Table) (*partitapb.Table, error) {
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
