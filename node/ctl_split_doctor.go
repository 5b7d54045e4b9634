package node

import "context"

// Split splits partition of table in two at hash (0: the middle of its
// range) for the Doctor, through the same operation as ctl's.
func (c ctl) Split(ctx context.Context, table string, partition, hash uint64) error {
	_, err := c.n.member.SplitAtHash(ctx, table, partition, hash)
	return err
}

// Merge merges partition of table with its right neighbour with for the
// Doctor, through the same operation as ctl's.
func (c ctl) Merge(ctx context.Context, table string, partition, with uint64) error {
	_, _, err := c.n.member.MergeWith(ctx, table, partition, with)
	return err
}
