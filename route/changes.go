package route

import (
	"context"
	"errors"

	"github.com/partitadb/partita/store"
)

// ChangeTarget is a Target that reads change logs: this node's store,
// and a Remote that can (cluster.Client).
type ChangeTarget interface {
	ReadChangesPage(ctx context.Context, req store.ChangesRequest) (store.ChangesPage, error)
}

// ChangeRemote is a Remote that reads change logs on other nodes.
type ChangeRemote interface {
	Changes(ctx context.Context, node uint64, req store.ChangesRequest) (store.ChangesPage, error)
}

// errNoChanges is the error of a target that reads no change logs.
var errNoChanges = errors.New("route: target reads no change logs")

// ReadChanges reads a page of a change log (req.Partition's, or an
// adopted one), like Get: from the leader after a read barrier when
// req.Consistent, else from any replica, this node's first.
func (s *Sender) ReadChanges(ctx context.Context, req store.ChangesRequest) (page store.ChangesPage, err error) {
	err = s.Do(ctx, req.Partition, req.Consistent, func(ctx context.Context, node uint64) error {
		page, err = s.changeTarget(node).ReadChangesPage(ctx, req)
		return err
	})
	return page, err
}

// changeTarget is the ChangeTarget of node.
func (s *Sender) changeTarget(node uint64) ChangeTarget {
	if node == s.cfg.Self && s.cfg.Local != nil {
		if t, ok := s.cfg.Local.(ChangeTarget); ok {
			return t
		}
		return noChanges{}
	}
	if r, ok := s.cfg.Remote.(ChangeRemote); ok {
		return remoteChanges{r, node}
	}
	return noChanges{}
}

type remoteChanges struct {
	r    ChangeRemote
	node uint64
}

func (t remoteChanges) ReadChangesPage(ctx context.Context, req store.ChangesRequest) (store.ChangesPage, error) {
	return t.r.Changes(ctx, t.node, req)
}

type noChanges struct{}

func (noChanges) ReadChangesPage(context.Context, store.ChangesRequest) (store.ChangesPage, error) {
	return store.ChangesPage{}, errNoChanges
}
