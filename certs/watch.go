package certs

import (
	"fmt"
	"os"
	"time"
)

// stamp identifies a version of a file: a replaced or rewritten file
// changes its modification time or size.
type stamp struct {
	mod  time.Time
	size int64
}

// stampOf returns the stamp of each path.
func stampOf(paths ...string) ([]stamp, error) {
	out := make([]stamp, len(paths))
	for i, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("certs: %w", err)
		}
		out[i] = stamp{mod: st.ModTime(), size: st.Size()}
	}
	return out, nil
}

func sameStamps(a, b []stamp) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].mod.Equal(b[i].mod) || a[i].size != b[i].size {
			return false
		}
	}
	return true
}
