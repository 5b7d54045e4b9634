package node

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"
	"google.golang.org/protobuf/proto"

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
	out := &partitapb.BackupPart{Partition: p, Object: partKey(bk, p)}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	var hdr [binary.MaxVarintLen64]byte
	applied, err := b.n.readPartition(ctx, bk.GetTable(), p, time.Time{}, func(raw []byte, v item.Item) error {
		n := binary.PutUvarint(hdr[:], uint64(len(raw)))
		if _, err := zw.Write(hdr[:n]); err != nil {
			return err
		}
		if _, err := zw.Write(raw); err != nil {
			return err
		}
		out.Items++
		out.Bytes += int64(v.Size())
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	out.AppliedIndex = applied
	if err := b.bucket.WriteAll(ctx, out.GetObject(), buf.Bytes(), &blob.WriterOptions{ContentType: "application/gzip"}); err != nil {
		return nil, fmt.Errorf("write %s: %w", out.GetObject(), err)
	}
	return out, nil
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
		return nil, fmt.Errorf("%w: the manifest of %s: %w", errBackupCorrupt, bk.GetArn(), err)
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
		return fmt.Errorf("%w: %s: %w", errBackupCorrupt, key, err)
	}
	br := bufio.NewReader(zr)
	for {
		n, err := binary.ReadUvarint(br)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("node: %s: %w", key, corruptRead(err))
		}
		raw := make([]byte, n)
		if _, err := io.ReadFull(br, raw); err != nil {
			return fmt.Errorf("node: %s is truncated: %w", key, corruptRead(err))
		}
		v, err := item.DecodeItem(raw)
		if err != nil {
			return fmt.Errorf("%w: %s holds a corrupt item: %w", errBackupCorrupt, key, err)
		}
		if err := visit(v); err != nil {
			return err
		}
	}
}

// corruptRead marks err, met reading a part object, as errBackupCorrupt
// when it says the data is bad (truncated, a gzip stream that does not
// check), rather than that the bucket did not answer.
func corruptRead(err error) error {
	var flateErr flate.CorruptInputError
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) ||
		errors.As(err, &flateErr) {
		return fmt.Errorf("%w: %w", errBackupCorrupt, err)
	}
	return err
}
