package node

import (
	"context"
	"errors"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/replica"
)

var errNoDirectorySource = errors.New("node: no node to read the directory from")

// refresh reloads the catalogue from a meta replica: this node's own when
// it leads the meta partition, else the meta voters (or the join
// addresses of a node that knows none yet).
func (n *Node) refreshDirectory(ctx context.Context) error {
	if n.store.Replica(directory.MetaPartition) != nil {
		// A meta replica reads its own copy: a cache may lag a little.
		d, err := n.localDirectory(ctx, false)
		if err == nil {
			n.dir.Update(d)
		}
		return err
	}
	var errs []error
	candidates := append([]uint64{n.dir.Leader(directory.MetaPartition)}, n.dir.MetaReplicas()...)
	for i := 0; i < len(candidates) && i < 8; i++ {
		id := candidates[i]
		if id == 0 || id == n.id {
			continue
		}
		d, err := n.client.Directory(ctx, id)
		if err == nil {
			n.dir.Update(d)
			return nil
		}
		var nl *replica.NotLeaderError
		if errors.As(err, &nl) && nl.Leader != 0 {
			candidates = append(candidates, nl.Leader)
		}
		errs = append(errs, err)
	}
	for _, addr := range n.cfg.Join {
		d, err := n.client.DirectoryAt(ctx, addr)
		if err == nil {
			n.dir.Update(d)
			return nil
		}
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		return errNoDirectorySource
	}
	return errors.Join(errs...)
}
