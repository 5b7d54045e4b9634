package dynamo

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"
)

// readAll returns the whole body whatever length was announced, however
// the reader splits it, and keeps the size limit's error.
func TestReadAllAnnouncedLength(t *testing.T) {
	body := strings.Repeat("0123456789", 150)
	readers := map[string]func() io.Reader{
		"whole":       func() io.Reader { return strings.NewReader(body) },
		"byte a time": func() io.Reader { return iotest.OneByteReader(strings.NewReader(body)) },
		"half":        func() io.Reader { return iotest.HalfReader(strings.NewReader(body)) },
		"EOF w/ data": func() io.Reader { return iotest.DataErrReader(strings.NewReader(body)) },
	}
	for name, rd := range readers {
		for _, announced := range []int64{-1, 0, 1, 100, int64(len(body)) - 1, int64(len(body)), int64(len(body)) + 7, 1 << 30} {
			got, err := readAll(rd(), announced, 1<<20)
			if err != nil || string(got) != body {
				t.Fatalf("%s, announced %d: %d bytes, %v", name, announced, len(got), err)
			}
		}
	}
	broken := errors.New("connection reset")
	got, err := readAll(io.MultiReader(strings.NewReader("abc"), iotest.ErrReader(broken)), 10, 100)
	if !errors.Is(err, broken) || string(got) != "abc" {
		t.Fatalf("failing reader: %q, %v", got, err)
	}
	// A body longer than announced still meets the size limit.
	rec := httptest.NewRecorder()
	_, err = readAll(http.MaxBytesReader(rec, io.NopCloser(bytes.NewReader([]byte(body))), 100), 50, 100)
	var tooLarge *http.MaxBytesError
	if !errors.As(err, &tooLarge) {
		t.Fatalf("over the limit: %v", err)
	}
}
