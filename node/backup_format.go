package node

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"
	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
)

// The objects of a backup, under its prefix (docs/backups.md, "Format"):
//
//	<prefix>/manifest.pb             BackupManifest (protobuf): the backup
//	                                 record, the table's schema and parts
//	<prefix>/data/<partition>.gz     gzip of the partition's items, each
//	                                 a uvarint length and the item codec's
//	                                 encoding of the item

// manifestKey is the key of bk's manifest object.
func manifestKey(bk *partitapb.Backup) string { return bk.GetPrefix() + "/manifest.pb" }

// partKey is the key of the object of partition p of bk.
func partKey(bk *partitapb.Backup, p uint64) string {
	return fmt.Sprintf("%s/data/%d.gz", bk.GetPrefix(), p)
}

// partKeys lists the keys of the part objects of bk.
func partKeys(bk *partitapb.Backup) []string {
	var out []string
	for _, p := range bk.GetPartitions() {
		out = append(out, partKey(bk, p))
	}
	return out
}

func isBlobNotFound(err error) bool { return gcerrors.Code(err) == gcerrors.NotFound }

// writePart writes partition p of bk's table as this node's replica holds
// it at one applied index, and returns the part to record.
func (b *backups) writePart(ctx context.Context, bk *partitapb.Backup, p uint64) (*partitapb.BackupPart, error) {
	t := bk.GetTable()
	var part *partitapb.Partition
	for _, q := range t.GetPartitions() {
		if q.GetId() == p {
			part = q
		}
	}
	if part == nil {
		return nil, fmt.Errorf("partition %d is not one of the table's", p)
	}
	pin, err := b.n.store.PinState(ctx, p)
	if err != nil {
		return nil, err
	}
	defer pin.Snap.Close()
	lo, hi := engine.HashSpan(t.GetId(), part.GetHashStart(), part.GetHashEnd())
	if !spansCover(pin.Desc.GetSpans(), lo, hi) {
		return nil, fmt.Errorf("partition %d no longer holds the range it had when the backup began (split or merged)", p)
	}
	out := &partitapb.BackupPart{Partition: p, AppliedIndex: pin.Applied, Object: partKey(bk, p)}
	var buf bytes.Buffer
	if err := b.encodePart(&buf, pin.Snap, t, lo, hi, out); err != nil {
		return nil, err
	}
	if err := b.bucket.WriteAll(ctx, out.GetObject(), buf.Bytes(), &blob.WriterOptions{ContentType: "application/gzip"}); err != nil {
		return nil, fmt.Errorf("write %s: %w", out.GetObject(), err)
	}
	return out, nil
}

// encodePart writes the items of [lo, hi) in snap to w, gzipped, and
// counts them into part. Entries that are not t's items (an index's) are
// skipped: restoring the items rebuilds them.
func (b *backups) encodePart(w io.Writer, snap *engine.Snapshot, t *partitapb.Table, lo, hi []byte, part *partitapb.BackupPart) error {
	it, err := snap.NewIter(lo, hi)
	if err != nil {
		return err
	}
	defer it.Close()
	zw := gzip.NewWriter(w)
	var hdr [binary.MaxVarintLen64]byte
	for ok := it.First(); ok; ok = it.Next() {
		if engine.IsLocalEntry(it.Value()) {
			continue // a local secondary index entry or collection size
		}
		v, err := item.DecodeItem(it.Value())
		if err != nil {
			return fmt.Errorf("stored item %x is corrupt: %w", it.Key(), err)
		}
		if key, err := b.n.router.StorageKey(t, v); err != nil || !bytes.Equal(key, it.Key()) {
			continue
		}
		n := binary.PutUvarint(hdr[:], uint64(len(it.Value())))
		if _, err := zw.Write(hdr[:n]); err != nil {
			return err
		}
		if _, err := zw.Write(it.Value()); err != nil {
			return err
		}
		part.Items++
		part.Bytes += int64(v.Size())
	}
	if err := it.Error(); err != nil {
		return err
	}
	return zw.Close()
}

// spansCover reports whether one of spans holds all of [lo, hi).
func spansCover(spans []*partitapb.Span, lo, hi []byte) bool {
	for _, s := range spans {
		if bytes.Compare(s.GetStart(), lo) <= 0 && bytes.Compare(hi, s.GetEnd()) <= 0 {
			return true
		}
	}
	return false
}

// writeManifest writes bk's manifest object.
func (b *backups) writeManifest(ctx context.Context, bk *partitapb.Backup) error {
	raw, err := proto.Marshal(&partitapb.BackupManifest{Backup: bk})
	if err != nil {
		return fmt.Errorf("node: encode the manifest of %s: %w", bk.GetArn(), err)
	}
	if err := b.bucket.WriteAll(ctx, manifestKey(bk), raw, nil); err != nil {
		return fmt.Errorf("node: write the manifest of %s: %w", bk.GetArn(), err)
	}
	return nil
}

// readManifest reads the manifest of the backup whose prefix is prefix.
func (b *backups) readManifest(ctx context.Context, bk *partitapb.Backup) (*partitapb.Backup, error) {
	raw, err := b.bucket.ReadAll(ctx, manifestKey(bk))
	if err != nil {
		return nil, fmt.Errorf("node: read the manifest of %s: %w", bk.GetArn(), err)
	}
	m := &partitapb.BackupManifest{}
	if err := proto.Unmarshal(raw, m); err != nil {
		return nil, fmt.Errorf("node: the manifest of %s is corrupt: %w", bk.GetArn(), err)
	}
	return m.GetBackup(), nil
}

// readPart calls visit with each item of a part object, in order.
func (b *backups) readPart(ctx context.Context, key string, visit func(item.Item) error) error {
	r, err := b.bucket.NewReader(ctx, key, nil)
	if err != nil {
		return fmt.Errorf("node: open %s: %w", key, err)
	}
	defer r.Close()
	zr, err := gzip.NewReader(r)
	if err != nil {
		return fmt.Errorf("node: %s: %w", key, err)
	}
	br := bufio.NewReader(zr)
	for {
		n, err := binary.ReadUvarint(br)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("node: %s: %w", key, err)
		}
		raw := make([]byte, n)
		if _, err := io.ReadFull(br, raw); err != nil {
			return fmt.Errorf("node: %s is truncated: %w", key, err)
		}
		v, err := item.DecodeItem(raw)
		if err != nil {
			return fmt.Errorf("node: %s holds a corrupt item: %w", key, err)
		}
		if err := visit(v); err != nil {
			return err
		}
	}
}
