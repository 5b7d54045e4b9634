package cluster

import (
	"context"
	"strconv"

	"google.golang.org/grpc/metadata"
)

// The Doctor's replica operations (add a learner, promote it, remove a
// voter, transfer a leadership, create or destroy a replica) carry the
// epoch of the Doctor lease its node holds, as the directory commands it
// issues do: WithDoctorEpoch puts it in the context, the client sends it
// as gRPC metadata, the server puts it back, and the receiving node
// refuses an epoch older than the lease it knows (a deposed Doctor's).

type epochKey struct{}

// doctorEpochHeader is the metadata key of the epoch.
const doctorEpochHeader = "partita-doctor-epoch"

// WithDoctorEpoch returns ctx carrying the Doctor epoch of the replica
// operations made with it.
func WithDoctorEpoch(ctx context.Context, epoch uint64) context.Context {
	if epoch == 0 {
		return ctx
	}
	return context.WithValue(ctx, epochKey{}, epoch)
}

// DoctorEpochFrom returns the Doctor epoch ctx carries (0: none, an
// operator's call).
func DoctorEpochFrom(ctx context.Context) uint64 {
	e, _ := ctx.Value(epochKey{}).(uint64)
	return e
}

// outgoingEpoch adds ctx's Doctor epoch to the request's metadata.
func outgoingEpoch(ctx context.Context) context.Context {
	if e := DoctorEpochFrom(ctx); e != 0 {
		return metadata.AppendToOutgoingContext(ctx, doctorEpochHeader, strconv.FormatUint(e, 10))
	}
	return ctx
}

// incomingEpoch puts the request's Doctor epoch, if any, into ctx.
func incomingEpoch(ctx context.Context) context.Context {
	md, ok := metadata.FromIncomingContext(ctx)
	if !ok {
		return ctx
	}
	for _, v := range md.Get(doctorEpochHeader) {
		if e, err := strconv.ParseUint(v, 10, 64); err == nil {
			return WithDoctorEpoch(ctx, e)
		}
	}
	return ctx
}
