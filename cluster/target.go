package cluster

import (
	"context"
	"strconv"

	"google.golang.org/grpc/metadata"
)

// TargetNodeHeader names, in a call's metadata, the id of the node the
// caller means to reach. The client sends it with every call made to a
// node by id; the receiving node refuses a call meant for another node
// (node.checkCluster): the address the caller resolved may belong to
// another node by now (a node restarted on a new address, its old port
// taken by another member), and a replica operation (a creation, a
// destruction) run on the wrong node would act on that node's replicas.
const TargetNodeHeader = "partita-node"

// outgoingTarget adds node (0: unknown) to ctx's outgoing metadata.
func outgoingTarget(ctx context.Context, node uint64) context.Context {
	if node == 0 {
		return ctx
	}
	return metadata.AppendToOutgoingContext(ctx, TargetNodeHeader, strconv.FormatUint(node, 10))
}

// TargetNode returns the node id an incoming call is meant for (0: the
// caller did not say).
func TargetNode(ctx context.Context) uint64 {
	md, _ := metadata.FromIncomingContext(ctx)
	for _, v := range md.Get(TargetNodeHeader) {
		if id, err := strconv.ParseUint(v, 10, 64); err == nil {
			return id
		}
	}
	return 0
}
