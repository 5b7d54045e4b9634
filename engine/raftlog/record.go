package raftlog

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// A record frames one batch's operations:
//
//	crc32c(4) | length(4) | payload(length)
//
// both numbers little-endian. The checksum covers the length and the
// payload, so that a header of zeros (what a crash can leave past the end
// of the synced data) never passes for a record, and an empty payload is
// never written.
const (
	headerSize = 8
	// maxPayload bounds a record, so that a corrupt length cannot make
	// recovery allocate without limit.
	maxPayload = 256 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errTorn marks a record cut short or failing its checksum: what a crash in
// the middle of a write leaves at the end of the last segment.
var errTorn = errors.New("torn or corrupt record")

// seal fills in the header of rec: headerSize bytes of room followed by the
// payload.
func seal(rec []byte) {
	binary.LittleEndian.PutUint32(rec[4:headerSize], uint32(len(rec)-headerSize))
	binary.LittleEndian.PutUint32(rec[:4], crc32.Checksum(rec[4:], castagnoli))
}

// payloadLen returns the payload length a header announces.
func payloadLen(hdr []byte) (int, error) {
	n := binary.LittleEndian.Uint32(hdr[4:headerSize])
	if n == 0 || n > maxPayload {
		return 0, fmt.Errorf("%w: payload length %d", errTorn, n)
	}
	return int(n), nil
}

// checkSum verifies the checksum of a whole record.
func checkSum(rec []byte) error {
	if want, got := binary.LittleEndian.Uint32(rec[:4]), crc32.Checksum(rec[4:], castagnoli); want != got {
		return fmt.Errorf("%w: checksum %08x, want %08x", errTorn, got, want)
	}
	return nil
}

// decodeRecord returns the payload of the record at the start of b and the
// record's size.
func decodeRecord(b []byte) (payload []byte, size int, err error) {
	if len(b) < headerSize {
		return nil, 0, fmt.Errorf("%w: %d bytes of header", errTorn, len(b))
	}
	n, err := payloadLen(b)
	if err != nil {
		return nil, 0, err
	}
	if len(b) < headerSize+n {
		return nil, 0, fmt.Errorf("%w: %d of %d payload bytes", errTorn, len(b)-headerSize, n)
	}
	if err := checkSum(b[:headerSize+n]); err != nil {
		return nil, 0, err
	}
	return b[headerSize : headerSize+n], headerSize + n, nil
}

// recordReader reads the records of a segment in order.
type recordReader struct {
	r    *bufio.Reader
	size int64  // of the segment
	off  int64  // offset of the next record in the segment
	buf  []byte // the last record read; reused
}

func newRecordReader(r io.ReaderAt, size int64) *recordReader {
	return &recordReader{r: bufio.NewReaderSize(io.NewSectionReader(r, 0, size), 256<<10), size: size}
}

// next returns the payload of the next record, valid until the following
// call; io.EOF at a clean end, an error wrapping errTorn at a torn one.
func (rr *recordReader) next() ([]byte, error) {
	var hdr [headerSize]byte
	if n, err := io.ReadFull(rr.r, hdr[:]); err != nil {
		if err == io.EOF || (err == io.ErrUnexpectedEOF && n > 0) {
			if n == 0 {
				return nil, io.EOF
			}
			return nil, fmt.Errorf("%w: %d bytes of header", errTorn, n)
		}
		return nil, err
	}
	n, err := payloadLen(hdr[:])
	if err != nil {
		return nil, err
	}
	if left := rr.size - rr.off - headerSize; int64(n) > left {
		return nil, fmt.Errorf("%w: %d of %d payload bytes", errTorn, left, n)
	}
	if cap(rr.buf) < headerSize+n {
		rr.buf = make([]byte, headerSize+n)
	}
	rec := rr.buf[:headerSize+n]
	copy(rec, hdr[:])
	if got, err := io.ReadFull(rr.r, rec[headerSize:]); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, fmt.Errorf("%w: %d of %d payload bytes", errTorn, got, n)
		}
		return nil, err
	}
	if err := checkSum(rec); err != nil {
		return nil, err
	}
	rr.off += int64(len(rec))
	return rec[headerSize:], nil
}
