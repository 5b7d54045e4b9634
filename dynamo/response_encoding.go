package dynamo

import (
	"bytes"
	"compress/gzip"
	"hash/crc32"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// Response compression. DynamoDB gzips a response when the client sends
// Accept-Encoding: gzip, and its x-amz-crc32 header is the checksum of the
// bytes on the wire (the compressed body), which is what the SDKs check
// before they decompress. The AWS SDK for Go v2 asks for gzip only with
// EnableAcceptEncodingGzip; otherwise it sends Accept-Encoding: identity so
// that Go's transport does not ask on its own.

// minCompressBytes is the smallest body worth compressing: below it the
// gzip header and trailer (18 bytes) outweigh what is saved, and small
// bodies are the common case (PutItem, GetItem of a small item).
const minCompressBytes = 1024

// newGzipPool returns a pool of gzip writers: a writer's compressor state
// is hundreds of kilobytes, too much to allocate for every response.
func newGzipPool() *sync.Pool {
	return &sync.Pool{New: func() any { return gzip.NewWriter(nil) }}
}

// encodingWriter is the ResponseWriter of a request whose client accepts
// gzip responses. writeBody compresses what it writes through one.
type encodingWriter struct {
	http.ResponseWriter
	gzips *sync.Pool // of *gzip.Writer
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *encodingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// connWriter returns the server's own writer under w: http.MaxBytesReader
// closes the connection of an oversized request only through it.
func connWriter(w http.ResponseWriter) http.ResponseWriter {
	if ew, ok := w.(*encodingWriter); ok {
		return ew.ResponseWriter
	}
	return w
}

// negotiateEncoding returns the writer the response to r goes through:
// w itself, or w wrapped so that writeBody gzips large bodies with writers
// from gzips.
func negotiateEncoding(w http.ResponseWriter, r *http.Request, gzips *sync.Pool) http.ResponseWriter {
	w.Header().Add("Vary", "Accept-Encoding")
	if !acceptsGzip(r.Header.Values("Accept-Encoding")) {
		return w
	}
	return &encodingWriter{ResponseWriter: w, gzips: gzips}
}

// acceptsGzip reports whether Accept-Encoding header values name gzip (or
// x-gzip, or *) with a non-zero quality.
func acceptsGzip(values []string) bool {
	for _, v := range values {
		for elem := range strings.SplitSeq(v, ",") {
			coding, params, _ := strings.Cut(elem, ";")
			switch strings.ToLower(strings.TrimSpace(coding)) {
			case "gzip", "x-gzip", "*":
				if !zeroQuality(params) {
					return true
				}
			}
		}
	}
	return false
}

// zeroQuality reports whether the parameters of an Accept-Encoding element
// are "q=0" (the coding is refused).
func zeroQuality(params string) bool {
	for p := range strings.SplitSeq(params, ";") {
		name, value, ok := strings.Cut(strings.TrimSpace(p), "=")
		if ok && strings.EqualFold(name, "q") {
			q, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
			return err == nil && q == 0
		}
	}
	return false
}

// writeBody writes body with its length and CRC32 checksum headers,
// gzipped when the client accepts it and the body is large enough. The
// checksum covers the bytes sent.
func writeBody(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	if ew, ok := w.(*encodingWriter); ok && len(body) >= minCompressBytes {
		body = gzipBytes(ew.gzips, body)
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("x-amz-crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10))
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// gzipBytes returns b compressed. Writing to a bytes.Buffer cannot fail.
func gzipBytes(pool *sync.Pool, b []byte) []byte {
	var buf bytes.Buffer
	buf.Grow(len(b)/4 + 64)
	zw := pool.Get().(*gzip.Writer)
	zw.Reset(&buf)
	_, _ = zw.Write(b)
	_ = zw.Close()
	pool.Put(zw)
	return buf.Bytes()
}
