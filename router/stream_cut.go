package router

import (
	"context"

	"github.com/partitadb/partita/clusterversion"
	"github.com/partitadb/partita/partitapb"
)

// CutChangeLog sets the change floor of partition p of t to t's change
// view at t's revision, as SetChangeFloor does, and returns the last
// sequence of p's change log when the floor applied: every later record
// of p was evaluated with the floor's view or more. known is false before
// the cluster version allows floors, and when the binary that applied it
// did not report the sequence.
func (r *Router) CutChangeLog(ctx context.Context, t *partitapb.Table, p *partitapb.Partition) (last uint64, known bool, err error) {
	if !r.allows(clusterversion.ChangeFloors) {
		return 0, false, nil
	}
	cmd := r.command()
	cmd.Op = &partitapb.Command_SetChangeFloor{SetChangeFloor: &partitapb.SetChangeFloor{
		TableId: t.GetId(), HashStart: p.GetHashStart(), View: t.GetChangeView(), TableRevision: t.GetRevision()}}
	res, err := r.propose(ctx, p.GetId(), cmd)
	if err != nil {
		return 0, false, err
	}
	if res.GetError() != nil {
		return 0, false, res.GetError()
	}
	return res.GetChangeLast(), res.ChangeLast != nil, nil
}
