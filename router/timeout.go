package router

import (
	"context"

	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/route"
)

// bound prepares ctx for a request on t: it gives it the deadline of a
// request on t when it has none (Config.Timeout's for the table, else the
// Sender's), and the check of t's record that ends it when t was deleted
// (tableGone).
func (r *Router) bound(ctx context.Context, t *partitapb.Table) (context.Context, context.CancelFunc) {
	ctx = route.WithGoneCheck(ctx, r.tableGone(t))
	if _, ok := ctx.Deadline(); ok || r.cfg.Timeout == nil {
		return ctx, func() {}
	}
	if d := r.cfg.Timeout(t.GetName()); d > 0 {
		return context.WithTimeout(ctx, d)
	}
	return ctx, func() {}
}
