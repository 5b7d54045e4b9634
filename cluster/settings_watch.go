package cluster

import (
	"context"
	"errors"

	"github.com/partitadb/partita/cluster/clusterpb"
	"github.com/partitadb/partita/partitapb"
)

// SettingsWatcher streams the run-time settings' overrides as a node's
// meta replica applies them (the push path of package settings). It is
// optional beside Local: pass it to Register with ServeSettings; a node
// serving none answers ErrNoSettingsWatcher.
type SettingsWatcher interface {
	// WatchSettings calls send with the overrides in force if their
	// version is above known, then with each newer version, until ctx ends
	// (nil) or send fails (its error). A node without a meta replica
	// fails at once with store.ErrNoReplica.
	WatchSettings(ctx context.Context, known uint64, send func(*partitapb.SettingsState) error) error
}

// ErrNoSettingsWatcher is the answer of a node that serves no settings
// watch.
var ErrNoSettingsWatcher = errors.New("cluster: this node serves no settings watch")

// Option adds an optional part of the Cluster service to Register.
type Option func(*service)

// ServeSettings serves WatchSettings through w.
func ServeSettings(w SettingsWatcher) Option {
	return func(s *service) { s.settings = w }
}

func (s *service) WatchSettings(req *clusterpb.WatchSettingsRequest, stream clusterpb.Cluster_WatchSettingsServer) error {
	fail := func(err error) error {
		return stream.Send(&clusterpb.WatchSettingsResponse{Error: encodeError(err)})
	}
	if s.settings == nil {
		return fail(ErrNoSettingsWatcher)
	}
	err := s.settings.WatchSettings(stream.Context(), req.GetKnownVersion(), func(st *partitapb.SettingsState) error {
		return stream.Send(&clusterpb.WatchSettingsResponse{Settings: st})
	})
	if err != nil && stream.Context().Err() == nil {
		return fail(err)
	}
	return nil
}

// WatchSettings follows the settings' overrides as node serves them:
// fn gets each version above known, in order, until ctx ends, the stream
// breaks or fn fails (the error returned). The call has no deadline of
// its own: the caller's ctx bounds it.
func (c *Client) WatchSettings(ctx context.Context, node, known uint64, fn func(*partitapb.SettingsState) error) error {
	ctx, cancel := context.WithCancel(outgoingEpoch(ctx))
	defer cancel()
	stub, where, err := c.stub(node)
	if err != nil {
		return err
	}
	stream, err := stub.WatchSettings(ctx, &clusterpb.WatchSettingsRequest{KnownVersion: known})
	if err != nil {
		return callError(ctx, "WatchSettings", where, err)
	}
	for {
		resp, err := stream.Recv()
		if err != nil {
			return callError(ctx, "WatchSettings", where, err)
		}
		if err := decodeError(resp.GetError()); err != nil {
			return err
		}
		if st := resp.GetSettings(); st != nil {
			if err := fn(st); err != nil {
				return err
			}
		}
	}
}
