package node

import (
	"context"
	"fmt"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/admin"
	"github.com/partitadb/partita/member"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/router"
)

// SetChangeView sets the change view of table's record (an UpdateTable
// of the record as the directory holds it, with the view changed), then
// gives this node's leaders the new view at once; the other nodes take
// it up at their next settings catch-up (settingsCatchUp). A change of
// the table's record between the read and the proposal (a concurrent
// UpdateTable) is overwritten: this is an operator's switch.
func (c ctl) SetChangeView(ctx context.Context, table, view string) (admin.ChangeViewResult, error) {
	v, ok := parseChangeView(view)
	if !ok {
		return admin.ChangeViewResult{}, fmt.Errorf("%w: change view %q: want NONE, KEYS_ONLY, NEW_IMAGE, OLD_IMAGE or NEW_AND_OLD_IMAGES",
			admin.ErrBadRequest, view)
	}
	t := c.Directory(ctx).Table(table)
	if t == nil {
		return admin.ChangeViewResult{}, fmt.Errorf("%w: no table %s", member.ErrNoTable, table)
	}
	next := proto.Clone(t).(*partitapb.Table)
	next.ChangeView = v
	cmd := &partitapb.Command{Id: router.RandomID(), UnixNanos: c.n.now().UnixNano(),
		Op: &partitapb.Command_UpdateTable{UpdateTable: &partitapb.UpdateTable{Name: table, Table: next}}}
	res, err := c.n.proposeMeta(ctx, cmd)
	if err != nil {
		return admin.ChangeViewResult{}, err
	}
	if e := res.GetError(); e != nil {
		return admin.ChangeViewResult{}, e
	}
	c.n.freshDirectory(ctx)
	c.n.setChangeLogs()
	return admin.ChangeViewResult{Table: table, View: changeViewName(res.GetTable().GetChangeView())}, nil
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
