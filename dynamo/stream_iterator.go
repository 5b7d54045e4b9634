package dynamo

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// A shard is a segment of a partition's change log (docs/streams.md): its
// id names the partition and the segment's first sequence.
type shardID struct {
	Partition, Start uint64
}

// String formats the shard id: "shardId-" and two 20-digit numbers.
func (id shardID) String() string {
	return fmt.Sprintf("shardId-%020d-%020d", id.Partition, id.Start)
}

// parseShardID reads a shard id; false when it is not one of ours.
func parseShardID(s string) (shardID, bool) {
	rest, ok := strings.CutPrefix(s, "shardId-")
	if !ok || len(rest) != 41 || rest[20] != '-' {
		return shardID{}, false
	}
	p, err1 := strconv.ParseUint(rest[:20], 10, 64)
	st, err2 := strconv.ParseUint(rest[21:], 10, 64)
	if err1 != nil || err2 != nil || st == 0 || p == 0 {
		return shardID{}, false
	}
	return shardID{p, st}, true
}

// seqDigits is the width of a sequence number: DynamoDB's have 21 to 40
// digits.
const seqDigits = 21

// formatSeq formats a change log sequence as a stream sequence number.
func formatSeq(seq uint64) string { return fmt.Sprintf("%0*d", seqDigits, seq) }

// parseSeq reads a stream sequence number; false when it is not one.
func parseSeq(s string) (uint64, bool) {
	if len(s) != seqDigits {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil && n > 0
}

// shardIterator is a position in a shard: the records after sequence
// After of the shard Shard of the stream of Table enabled at Stream,
// issued at Issued (unix nanoseconds).
type shardIterator struct {
	Table  string
	Stream int64
	Shard  shardID
	After  uint64
	Issued int64
}

// iteratorVersion is the first byte of an encoded iterator.
const iteratorVersion = 1

// iteratorMACBytes is the length of an iterator's truncated HMAC.
const iteratorMACBytes = 16

// iteratorFixed is the length of an iterator's fixed fields.
const iteratorFixed = 1 + 8*5

var errBadIterator = errors.New("dynamo: malformed shard iterator")

// encodeIterator returns it as an opaque string authenticated with key.
func encodeIterator(key []byte, it shardIterator) string {
	b := make([]byte, 0, iteratorFixed+len(it.Table)+iteratorMACBytes)
	b = append(b, iteratorVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(it.Stream))
	b = binary.BigEndian.AppendUint64(b, it.Shard.Partition)
	b = binary.BigEndian.AppendUint64(b, it.Shard.Start)
	b = binary.BigEndian.AppendUint64(b, it.After)
	b = binary.BigEndian.AppendUint64(b, uint64(it.Issued))
	b = append(b, it.Table...)
	b = append(b, iteratorMAC(key, b)...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeIterator reads an iterator made by encodeIterator with key; any
// other string (a forged or altered one included) is errBadIterator.
func decodeIterator(key []byte, s string) (shardIterator, error) {
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || len(b) < iteratorFixed+iteratorMACBytes || b[0] != iteratorVersion {
		return shardIterator{}, errBadIterator
	}
	body, mac := b[:len(b)-iteratorMACBytes], b[len(b)-iteratorMACBytes:]
	if !hmac.Equal(mac, iteratorMAC(key, body)) {
		return shardIterator{}, errBadIterator
	}
	u := func(i int) uint64 { return binary.BigEndian.Uint64(body[1+8*i:]) }
	it := shardIterator{Stream: int64(u(0)), Shard: shardID{u(1), u(2)}, After: u(3), Issued: int64(u(4)),
		Table: string(body[iteratorFixed:])}
	return it, nil
}

// iteratorMAC is the truncated HMAC-SHA256 of b under key.
func iteratorMAC(key, b []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(b)
	return m.Sum(nil)[:iteratorMACBytes]
}

// iteratorResource is the resource a GetRecords request reads, for
// authorization: its iterator's stream ARN ("*" when the iterator is not
// one of ours, which the operation then refuses).
func (s *Server) iteratorResource(body []byte) string {
	var req struct {
		ShardIterator *string `json:"ShardIterator"`
	}
	if err := decodeSlow(body, &req); err != nil || req.ShardIterator == nil {
		return "*"
	}
	it, err := decodeIterator(s.cfg.IteratorKey, *req.ShardIterator)
	if err != nil {
		return "*"
	}
	return s.streamARN(it.Table, it.Stream)
}
