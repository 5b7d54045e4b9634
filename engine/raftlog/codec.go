package raftlog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"go.etcd.io/raft/v3/raftpb"
)

// A record's payload is a sequence of operations, each a kind byte and
// fields in unsigned varints (canonical: the shortest form), applied in
// order:
//
//	checkpoint  version segment count {id hs.term hs.vote hs.commit truncIdx truncTerm lastIdx lastTerm}*count
//	append      partition first count {term len entry(len)}*count
//	rewrite     partition first count {term len entry(len)}*count
//	hardstate   partition term vote commit
//	truncate    partition index term
//	reset       partition index term
//	remove      partition
//
// entry is a raftpb.Entry as its Marshal encodes it, so that a read is one
// ReadAt and an Unmarshal; its index and term also sit in the op, so that
// recovery indexes entries without decoding them.
type opKind byte

const (
	opCheckpoint opKind = 1 + iota
	opAppend
	opRewrite
	opHardState
	opTruncate
	opReset
	opRemove
)

// formatVersion is the version a checkpoint (the first record of every
// segment) carries; a segment of another version is refused.
const formatVersion = 1

func (k opKind) String() string {
	switch k {
	case opCheckpoint:
		return "checkpoint"
	case opAppend:
		return "append"
	case opRewrite:
		return "rewrite"
	case opHardState:
		return "hardstate"
	case opTruncate:
		return "truncate"
	case opReset:
		return "reset"
	case opRemove:
		return "remove"
	}
	return fmt.Sprintf("op(%d)", byte(k))
}

// op is one decoded operation. Its entries point into the payload it was
// decoded from.
type op struct {
	kind      opKind
	partition uint64
	first     uint64           // append, rewrite: index of ents[0]
	ents      []entRef         // append, rewrite
	hs        raftpb.HardState // hardstate
	index     uint64           // truncate, reset
	term      uint64           // truncate, reset
	ckpt      checkpoint       // checkpoint
}

// entRef is an encoded entry inside a payload.
type entRef struct {
	term uint64
	off  uint32 // of the encoded entry in the payload
	n    uint32 // its length
}

// checkpoint is every partition's state as the segment it starts begins.
type checkpoint struct {
	segment uint64
	parts   []partState // ascending ids
}

// partState is a partition's state in a checkpoint.
type partState struct {
	id                  uint64
	hs                  raftpb.HardState
	truncIdx, truncTerm uint64
	lastIdx, lastTerm   uint64
}

// opList holds the decoded operations of one payload; decode reuses its
// slices from payload to payload.
type opList struct {
	ops   []op
	ents  []entRef
	parts []partState
}

// errDecode marks a payload that is not a sequence of well-formed
// operations.
var errDecode = errors.New("malformed payload")

// decode replaces l's operations with those of payload.
func (l *opList) decode(payload []byte) error {
	l.ops, l.ents, l.parts = l.ops[:0], l.ents[:0], l.parts[:0]
	d := decoder{b: payload}
	for d.off < len(d.b) && d.err == nil {
		l.ops = append(l.ops, op{})
		l.decodeOp(&d, &l.ops[len(l.ops)-1])
	}
	if d.err == nil && len(l.ops) == 0 {
		d.fail("empty payload")
	}
	return d.err
}

func (l *opList) decodeOp(d *decoder, o *op) {
	o.kind = opKind(d.byte())
	if o.kind == opCheckpoint {
		l.decodeCheckpoint(d, &o.ckpt)
		return
	}
	o.partition = d.uvarint()
	switch o.kind {
	case opAppend, opRewrite:
		l.decodeEntries(d, o)
	case opHardState:
		o.hs = raftpb.HardState{Term: d.uvarint(), Vote: d.uvarint(), Commit: d.uvarint()}
	case opTruncate, opReset:
		o.index, o.term = d.uvarint(), d.uvarint()
	case opRemove:
	default:
		d.fail("unknown operation %d", byte(o.kind))
	}
}

func (l *opList) decodeEntries(d *decoder, o *op) {
	o.first = d.uvarint()
	count := d.count(2) // an entry takes at least a term and a length
	if d.err != nil {
		return
	}
	if count == 0 || o.first == 0 || o.first > math.MaxUint64-(count-1) {
		d.fail("%s of %d entries at index %d", o.kind, count, o.first)
		return
	}
	start := len(l.ents)
	for range count {
		e := entRef{term: d.uvarint()}
		n := d.uvarint()
		if d.err != nil {
			return
		}
		if n == 0 || n > uint64(len(d.b)-d.off) {
			d.fail("entry of %d bytes, %d left", n, len(d.b)-d.off)
			return
		}
		e.off, e.n = uint32(d.off), uint32(n)
		d.off += int(n)
		l.ents = append(l.ents, e)
	}
	o.ents = l.ents[start:len(l.ents):len(l.ents)]
}

func (l *opList) decodeCheckpoint(d *decoder, c *checkpoint) {
	if v := d.uvarint(); d.err == nil && v != formatVersion {
		d.fail("format version %d, want %d", v, formatVersion)
		return
	}
	c.segment = d.uvarint()
	count := d.count(8) // a partition takes at least eight varints
	start := len(l.parts)
	for i := uint64(0); i < count && d.err == nil; i++ {
		p := partState{id: d.uvarint()}
		p.hs = raftpb.HardState{Term: d.uvarint(), Vote: d.uvarint(), Commit: d.uvarint()}
		p.truncIdx, p.truncTerm = d.uvarint(), d.uvarint()
		p.lastIdx, p.lastTerm = d.uvarint(), d.uvarint()
		switch {
		case d.err != nil:
		case i > 0 && p.id <= l.parts[len(l.parts)-1].id:
			d.fail("checkpoint partitions out of order at %d", p.id)
		case p.lastIdx < p.truncIdx:
			d.fail("checkpoint of partition %d: last index %d below truncated index %d", p.id, p.lastIdx, p.truncIdx)
		}
		l.parts = append(l.parts, p)
	}
	c.parts = l.parts[start:len(l.parts):len(l.parts)]
}

// decoder reads varints strictly: a value in a longer form than needed is
// an error, so that a payload that decodes encodes back to itself.
type decoder struct {
	b   []byte
	off int
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w at byte %d: %s", errDecode, d.off, fmt.Sprintf(format, args...))
	}
}

func (d *decoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if d.off >= len(d.b) {
		d.fail("truncated")
		return 0
	}
	d.off++
	return d.b[d.off-1]
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.off:])
	switch {
	case n == 0:
		d.fail("truncated varint")
		return 0
	case n < 0:
		d.fail("varint overflows 64 bits")
		return 0
	case n > 1 && d.b[d.off+n-1] == 0:
		d.fail("varint not in its shortest form")
		return 0
	}
	d.off += n
	return v
}

// count reads a count of items of at least minBytes each, refusing one the
// rest of the payload cannot hold.
func (d *decoder) count(minBytes int) uint64 {
	n := d.uvarint()
	if d.err == nil && n > uint64((len(d.b)-d.off)/minBytes) {
		d.fail("count %d exceeds what %d bytes hold", n, len(d.b)-d.off)
		return 0
	}
	return n
}

// appendOp appends the encoding of o to buf; src is the payload o's
// entries point into.
func appendOp(buf []byte, o *op, src []byte) []byte {
	buf = append(buf, byte(o.kind))
	if o.kind == opCheckpoint {
		return appendCheckpoint(buf, &o.ckpt)
	}
	buf = binary.AppendUvarint(buf, o.partition)
	switch o.kind {
	case opAppend, opRewrite:
		buf = binary.AppendUvarint(buf, o.first)
		buf = binary.AppendUvarint(buf, uint64(len(o.ents)))
		for _, e := range o.ents {
			buf = binary.AppendUvarint(buf, e.term)
			buf = binary.AppendUvarint(buf, uint64(e.n))
			buf = append(buf, src[e.off:e.off+e.n]...)
		}
	case opHardState:
		buf = appendHardState(buf, o.hs)
	case opTruncate, opReset:
		buf = binary.AppendUvarint(buf, o.index)
		buf = binary.AppendUvarint(buf, o.term)
	}
	return buf
}

func appendCheckpoint(buf []byte, c *checkpoint) []byte {
	buf = binary.AppendUvarint(buf, formatVersion)
	buf = binary.AppendUvarint(buf, c.segment)
	buf = binary.AppendUvarint(buf, uint64(len(c.parts)))
	for _, p := range c.parts {
		buf = binary.AppendUvarint(buf, p.id)
		buf = appendHardState(buf, p.hs)
		buf = binary.AppendUvarint(buf, p.truncIdx)
		buf = binary.AppendUvarint(buf, p.truncTerm)
		buf = binary.AppendUvarint(buf, p.lastIdx)
		buf = binary.AppendUvarint(buf, p.lastTerm)
	}
	return buf
}

func appendHardState(buf []byte, hs raftpb.HardState) []byte {
	buf = binary.AppendUvarint(buf, hs.Term)
	buf = binary.AppendUvarint(buf, hs.Vote)
	return binary.AppendUvarint(buf, hs.Commit)
}

// appendEntry appends the append or rewrite encoding of e (term, length,
// entry) to buf.
func appendEntry(buf []byte, e *raftpb.Entry) ([]byte, error) {
	n := e.Size()
	buf = binary.AppendUvarint(buf, e.Term)
	buf = binary.AppendUvarint(buf, uint64(n))
	at := len(buf)
	buf = append(buf, make([]byte, n)...)
	if _, err := e.MarshalToSizedBuffer(buf[at:]); err != nil {
		return buf, fmt.Errorf("raftlog: encode entry %d: %w", e.Index, err)
	}
	return buf, nil
}

func appendUvarints(buf []byte, vs ...uint64) []byte {
	for _, v := range vs {
		buf = binary.AppendUvarint(buf, v)
	}
	return buf
}
