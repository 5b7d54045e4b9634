package node_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/partitadb/partita/admin"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/node"
	"github.com/partitadb/partita/settings"
)

// effective is node n's value of name, its source, and the version of the
// overrides in force on it.
func effective(t *testing.T, n *node.Node, name string) (string, string, uint64) {
	t.Helper()
	var e admin.ConfigEffective
	if code := adminDo(t, n, http.MethodGet, "/debug/config", &e); code != http.StatusOK {
		t.Fatalf("/debug/config: %d", code)
	}
	for _, v := range e.Settings {
		if v.Name == name {
			return v.Value, v.Source, e.Version
		}
	}
	t.Fatalf("no %s in %+v", name, e)
	return "", "", 0
}

// configDo posts a /config/ change and returns its status and version.
func configDo(t *testing.T, n *node.Node, verb string, q url.Values) (int, uint64) {
	t.Helper()
	var ch admin.ConfigChange
	code := adminDo(t, n, http.MethodPost, "/config/"+verb+"?"+q.Encode(), &ch)
	return code, ch.Version
}

// waitSetting waits until every node reports name = want from source.
func waitSetting(t *testing.T, nodes []*node.Node, name, want, source string) {
	t.Helper()
	waitFor(t, func() error {
		for i, n := range nodes {
			if v, src, _ := effective(t, n, name); v != want || src != source {
				return fmt.Errorf("node %d: %s = %s from %s, want %s from %s", i+1, name, v, src, want, source)
			}
		}
		return nil
	})
}

// TestSettingsOverrides: three nodes in two zones. Overrides set through
// one node reach every node, the most specific scope wins over the flags,
// readers apply them live (the log level of zone b's nodes), bad values
// and stale compare-and-sets change nothing, and a rollback restores an
// earlier version.
func TestSettingsOverrides(t *testing.T) {
	t.Parallel()
	levels := []*slog.LevelVar{{}, {}, {}}
	start := func(i int, zone string, join ...string) *node.Node {
		return startHealerWith(t, "", func(c *node.Config) {
			c.Doctor, c.Zone, c.Level = false, zone, levels[i]
			if i == 0 {
				c.Settings = map[string]settings.Static{"log.level": {Text: "warn", From: settings.FromFlag}}
				levels[i].Set(slog.LevelWarn)
			}
		}, join...)
	}
	n1 := start(0, "a")
	nodes := []*node.Node{n1, start(1, "b", n1.PeerAddr()), start(2, "b", n1.PeerAddr())}
	waitSetting(t, nodes, "raft.log-max-bytes", "16MiB", "default")

	q := func(kv ...string) url.Values {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	if code, v := configDo(t, nodes[2], "set", q("key", "raft.log-max-bytes", "value", "32MiB", "reason", "bigger logs")); code != http.StatusOK || v != 1 {
		t.Fatalf("set: %d, version %d", code, v)
	}
	waitSetting(t, nodes, "raft.log-max-bytes", "32MiB", "override v1 (cluster)")

	if code, v := configDo(t, n1, "set", q("key", "log.level", "value", "debug", "scope", "zone:b")); code != http.StatusOK || v != 2 {
		t.Fatalf("set: %d, version %d", code, v)
	}
	waitFor(t, func() error {
		if levels[1].Level() != slog.LevelDebug || levels[2].Level() != slog.LevelDebug {
			return fmt.Errorf("zone b's levels: %v %v", levels[1].Level(), levels[2].Level())
		}
		return nil
	})
	if v, src, _ := effective(t, n1, "log.level"); v != "warn" || src != "flag" || levels[0].Level() != slog.LevelWarn {
		t.Fatalf("zone a's node: %s from %s (level %v), want warn from its flag", v, src, levels[0].Level())
	}

	// Refusals change nothing.
	for _, bad := range []url.Values{
		q("key", "log.level", "value", "verbose"),
		q("key", "raft.log-max-byte", "value", "1MiB"),
		q("key", "raft.log-max-bytes", "value", "2GiB"),
		q("key", "raft.election-ticks", "value", "20"),
		q("key", "doctor.dead-after", "value", "1m", "scope", "table:orders"),
		q("key", "raft.log-max-bytes", "value", "1MiB", "scope", "rack:3"),
		q("value", "1MiB"),
	} {
		if code, _ := configDo(t, nodes[1], "set", bad); code != http.StatusBadRequest {
			t.Errorf("set %v: %d, want 400", bad, code)
		}
	}
	if code, _ := configDo(t, nodes[1], "set", q("key", "raft.log-max-bytes", "value", "1MiB", "version", "1")); code != http.StatusConflict {
		t.Errorf("a stale compare-and-set: %d, want 409", code)
	}
	var st admin.ConfigState
	adminDo(t, nodes[1], http.MethodGet, "/config", &st)
	if st.Version != 2 || len(st.Overrides) != 2 || len(st.Settings) != len(settings.Catalog()) {
		t.Fatalf("after the refusals: version %d, overrides %+v", st.Version, st.Overrides)
	}

	// Rollback to version 1: zone b's log level goes back to its default.
	if code, v := configDo(t, nodes[1], "rollback", q("version", "1")); code != http.StatusOK || v != 3 {
		t.Fatalf("rollback: %d, version %d", code, v)
	}
	waitFor(t, func() error {
		if levels[1].Level() != slog.LevelInfo || levels[2].Level() != slog.LevelInfo {
			return fmt.Errorf("zone b's levels: %v %v", levels[1].Level(), levels[2].Level())
		}
		return nil
	})
	var h []admin.ConfigChange
	adminDo(t, n1, http.MethodGet, "/config/history", &h)
	if len(h) != 3 || h[0].Reason != "bigger logs" || h[2].Reason != "rollback to version 1" || len(h[2].Overrides) != 1 {
		t.Fatalf("history: %+v", h)
	}
	if code, _ := configDo(t, n1, "rollback", q("version", "9")); code != http.StatusBadRequest {
		t.Errorf("rollback to a version never made: %d, want 400", code)
	}
}

// TestSettingsPropagation measures the time from a change's answer to
// every node reporting its version: PARTITA_SETTINGS_CHANGES changes
// (default 10) on PARTITA_SETTINGS_NODES nodes (default 3). It fails only
// if a change never arrives; the figures are logged.
func TestSettingsPropagation(t *testing.T) {
	t.Parallel()
	changes, nodesN := envInt("PARTITA_SETTINGS_CHANGES", 10), envInt("PARTITA_SETTINGS_NODES", 3)
	n1 := startHealerWith(t, "", func(c *node.Config) { c.Doctor = false })
	nodes := []*node.Node{n1}
	for len(nodes) < nodesN {
		nodes = append(nodes, startHealerWith(t, "", func(c *node.Config) { c.Doctor = false }, n1.PeerAddr()))
	}
	var lags []time.Duration
	for i := range changes {
		via := nodes[i%len(nodes)]
		code, v := configDo(t, via, "set", url.Values{"key": {"request.timeout"}, "value": {fmt.Sprint(10+i, "s")}})
		if code != http.StatusOK {
			t.Fatalf("change %d: %d", i, code)
		}
		set := time.Now()
		var wg sync.WaitGroup
		var mu sync.Mutex
		var worst time.Duration
		for _, n := range nodes {
			wg.Go(func() {
				for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
					var e admin.ConfigEffective
					adminDo(t, n, http.MethodGet, "/debug/config", &e)
					if e.Version >= v {
						mu.Lock()
						worst = max(worst, time.Since(set))
						mu.Unlock()
						return
					}
				}
				t.Errorf("version %d did not reach a node in 10 s", v)
			})
		}
		wg.Wait()
		lags = append(lags, worst)
	}
	first := lags[0]
	slices.Sort(lags)
	t.Logf("settings propagation over %d nodes, %d changes: p50 %v, p90 %v, p99 %v, max %v (the first change %v)", len(nodes), changes,
		lags[len(lags)/2], lags[(len(lags)*90)/100], lags[(len(lags)*99)/100], lags[len(lags)-1], first)
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// TestConfigListShowsAnsweredChanges: a listing of the overrides through a
// node whose disk is slow (its meta replica behind, its read barriers
// slower than a directory refresh waits) shows every change answered
// before it, made through another node.
func TestConfigListShowsAnsweredChanges(t *testing.T) {
	t.Parallel()
	var delays [3]atomic.Int64
	tweak := func(i int) func(*node.Config) {
		return func(c *node.Config) {
			c.Doctor = false
			c.FsyncDelay = func() time.Duration { return time.Duration(delays[i].Load()) }
		}
	}
	nodes := []*node.Node{startHealerWith(t, "", tweak(0))}
	for i := 1; i < 3; i++ {
		nodes = append(nodes, startHealerWith(t, "", tweak(i), nodes[0].PeerAddr()))
	}
	var leader uint64
	waitFor(t, func() error {
		for _, p := range partitions(t, nodes[0], "") {
			if p.ID == directory.MetaPartition && len(p.Voters) == 3 && p.Leader != 0 {
				leader = p.Leader
				return nil
			}
		}
		return fmt.Errorf("no meta partition of three voters with a leader")
	})
	slow, via := -1, -1
	for i, n := range nodes {
		switch {
		case n.ID() == leader:
			via = i
		case slow < 0:
			slow = i
		}
	}
	delays[slow].Store(int64(800 * time.Millisecond))
	for i := range 3 {
		code, v := configDo(t, nodes[via], "set", url.Values{"key": {"request.timeout"}, "value": {fmt.Sprint(20+i, "s")}})
		if code != http.StatusOK {
			t.Fatalf("change %d: status %d", i, code)
		}
		var st admin.ConfigState
		if code := adminDo(t, nodes[slow], http.MethodGet, "/config", &st); code != http.StatusOK {
			t.Fatalf("listing through the slow node: status %d", code)
		}
		if st.Version != v || len(st.Overrides) != 1 || st.Overrides[0].Value != fmt.Sprint(20+i, "s") {
			t.Fatalf("change %d answered at version %d; the slow node lists version %d: %+v", i, v, st.Version, st.Overrides)
		}
	}
}
