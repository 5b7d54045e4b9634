package clusterversion_test

import (
	"strings"
	"testing"

	"github.com/partitadb/partita/clusterversion"
)

func TestRanges(t *testing.T) {
	if r := clusterversion.OfNode(0, 0); r.Min != clusterversion.Base || r.Max != clusterversion.Base {
		t.Fatalf("a record from before cluster versions runs at base only, not %v", r)
	}
	if v := clusterversion.Active(0); v != clusterversion.Base {
		t.Fatalf("a directory without a record runs at base, not %v", v)
	}
	bin := clusterversion.Binary()
	if !bin.Contains(clusterversion.Latest) || !bin.Contains(clusterversion.MinSupported) {
		t.Fatalf("the binary's range %v", bin)
	}
	r := clusterversion.Range{Min: 2, Max: 3}
	for _, c := range []struct {
		active clusterversion.Version
		want   string
	}{{1, "older than this binary supports"}, {2, ""}, {3, ""}, {4, "newer than this binary supports"}} {
		err := r.Check(c.active)
		switch {
		case c.want == "" && err != nil, c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("range %v at version %d: %v, want %q", r, c.active, err, c.want)
		}
	}
}
