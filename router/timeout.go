package router

import (
	"context"

	"github.com/partitadb/partita/partitapb"
)

// bound gives ctx the deadline of a request on t when it has none:
// Config.Timeout's for the table, else the Sender's.
func (r *Router) bound(ctx context.Context, t *partitapb.Table) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok || r.cfg.Timeout == nil {
		return ctx, func() {}
	}
	if d := r.cfg.Timeout(t.GetName()); d > 0 {
		return context.WithTimeout(ctx, d)
	}
	return ctx, func() {}
}
