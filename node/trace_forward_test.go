package node

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/partitadb/partita/settings"
	"github.com/partitadb/partita/telemetry"
)

// A write forwarded to its partition's leader on another node is one
// trace: the leader's raft.propose joins the trace of the request that
// forwarded it (the call carries the caller's span), where it used to
// start a trace of its own on the leader.
func TestForwardedWriteIsOneTrace(t *testing.T) {
	t.Parallel()
	nodes := startThree(t, func(_ int, cfg *Config) {
		cfg.Settings = map[string]settings.Static{"trace.sample-rate": {Text: "1", From: settings.FromFlag}}
	})
	dbs := []*dynamodb.Client{gsiClient(nodes[0].APIURL()), gsiClient(nodes[1].APIURL()), gsiClient(nodes[2].APIURL())}
	createPKTable(t, dbs[0], "traced")
	for round := range 4 {
		for i, db := range dbs {
			putG(t, db, "traced", fmt.Sprintf("k%d-%d", round, i), "g")
		}
	}
	get := func(n *Node, path string, into any) {
		t.Helper()
		resp, err := http.Get(n.AdminURL() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
			t.Fatal(err)
		}
	}
	puts, forwarded := 0, 0
	for _, n := range nodes {
		var summaries []telemetry.TraceSummary
		get(n, "/console/api/traces?scope=node", &summaries)
		for _, s := range summaries {
			if s.Root != "dynamo.PutItem" {
				continue
			}
			puts++
			var spans []telemetry.SpanRecord
			get(n, "/console/api/traces/"+url.PathEscape(s.TraceID), &spans)
			ids := map[string]bool{}
			for _, sp := range spans {
				ids[sp.SpanID] = true
			}
			var propose *telemetry.SpanRecord
			for i, sp := range spans {
				if sp.Name == "raft.propose" {
					propose = &spans[i]
				}
			}
			switch {
			case propose == nil:
				t.Errorf("PutItem trace %s through node %d has no raft.propose span: %d spans", s.TraceID, n.ID(), len(spans))
			case !ids[propose.ParentID]:
				t.Errorf("PutItem trace %s: raft.propose on node %d has parent %s, not a span of the trace", s.TraceID, propose.Node, propose.ParentID)
			case propose.Node != n.ID():
				forwarded++
			}
		}
	}
	if puts == 0 || forwarded == 0 {
		t.Fatalf("%d PutItem traces, %d of them proposed on another node: want some of each", puts, forwarded)
	}
	t.Logf("%d PutItem traces, %d proposed on another node", puts, forwarded)
}
