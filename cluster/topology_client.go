package cluster

import (
	"context"

	"github.com/partitadb/partita/cluster/clusterpb"
	"github.com/partitadb/partita/topology/topologypb"
)

// ReportTopology hands node (the active Doctor's, or whichever node stands
// in for it) this node's latest topology snapshot: the fast path of the
// topology pipeline, which must not depend on the bucket. The call is
// bounded by CallTimeout unless ctx has a deadline; the snapshot is not
// modified.
func (c *Client) ReportTopology(ctx context.Context, node uint64, snap *topologypb.TopologySnapshot) error {
	ctx, cancel := c.withTimeout(ctx, node)
	defer cancel()
	stub, where, err := c.stub(node)
	if err != nil {
		return err
	}
	resp, err := stub.ReportTopology(ctx, &clusterpb.ReportTopologyRequest{Snapshot: snap})
	if err != nil {
		return callError(ctx, "ReportTopology", where, err)
	}
	return decodeError(resp.GetError())
}
