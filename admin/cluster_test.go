package admin_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/partitadb/partita/admin"
	"github.com/partitadb/partita/doctor/operator"
	"github.com/partitadb/partita/member"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/route"
	"github.com/partitadb/partita/topology"
)

// fakeCluster answers the cluster routes from fixed data: one table "t",
// one node 1.
type fakeCluster struct{ err error }

var _ admin.Cluster = fakeCluster{}

func (fakeCluster) Nodes(context.Context) []topology.NodeInfo { return []topology.NodeInfo{{ID: 1}} }
func (fakeCluster) Tables(context.Context) []topology.TableInfo {
	return []topology.TableInfo{{Name: "t", Partitions: 1}}
}

func (fakeCluster) Partitions(_ context.Context, table string) ([]topology.PartitionInfo, error) {
	if table != "" && table != "t" {
		return nil, fmt.Errorf("%w %q", topology.ErrNoTable, table)
	}
	return []topology.PartitionInfo{{ID: 2, Table: "t"}}, nil
}

func (f fakeCluster) MergePartition(_ context.Context, table string, partition uint64) (admin.MergeResult, error) {
	switch {
	case f.err != nil:
		return admin.MergeResult{}, f.err
	case table != "t":
		return admin.MergeResult{}, fmt.Errorf("%w: %s", member.ErrNoTable, table)
	case partition != 2:
		return admin.MergeResult{}, fmt.Errorf("%w: partitions %d and 3 are not on the same nodes", member.ErrMerge, partition)
	}
	return admin.MergeResult{Table: table, Left: 2, Right: 3}, nil
}

func (f fakeCluster) SetChangeView(_ context.Context, table, view string) (admin.ChangeViewResult, error) {
	if table != "t" {
		return admin.ChangeViewResult{}, fmt.Errorf("%w: %s", member.ErrNoTable, table)
	}
	return admin.ChangeViewResult{Table: table, View: view}, nil
}

func (f fakeCluster) SplitPartition(_ context.Context, table string, partition uint64, at string) (admin.SplitResult, error) {
	switch {
	case f.err != nil:
		return admin.SplitResult{}, f.err
	case table != "t":
		return admin.SplitResult{}, fmt.Errorf("%w: %s", member.ErrNoTable, table)
	case partition != 2:
		return admin.SplitResult{}, fmt.Errorf("%w: no partition %d", route.ErrSplit, partition)
	}
	return admin.SplitResult{Table: table, Left: 2, Right: 3}, nil
}

// Drain marks node 1 (by whoever asked) and moves its leaderships.
func (f fakeCluster) Drain(_ context.Context, node uint64, by string) (operator.DrainResult, error) {
	if node != 1 {
		return operator.DrainResult{}, fmt.Errorf("%w: node %d", operator.ErrNoNode, node)
	}
	return operator.DrainResult{Node: 1, Draining: time.Unix(100, 0).UTC(), DrainBy: by, Led: 2, Moved: 2}, f.err
}

// Undrain clears node 1's mark; node 4's is refused, as below the cluster
// version that has marks.
func (f fakeCluster) Undrain(_ context.Context, node uint64, by string) (operator.DrainResult, error) {
	switch node {
	case 1:
		return operator.DrainResult{Node: 1}, f.err
	case 4:
		return operator.DrainResult{}, partitapb.Errorf(partitapb.Error_VALIDATION, "undrain needs a newer cluster version")
	}
	return operator.DrainResult{}, fmt.Errorf("%w: node %d", operator.ErrNoNode, node)
}

// Decommission marks the node (by whoever asked, with the reason given);
// node 9 is not in the directory.
func (f fakeCluster) Decommission(_ context.Context, node uint64, by, reason string) (operator.DecommissionResult, error) {
	if node == 9 {
		return operator.DecommissionResult{}, fmt.Errorf("%w: node %d", operator.ErrNoNode, node)
	}
	return operator.DecommissionResult{Node: node, Mode: operator.DecommissionByDoctor, Decommissioning: time.Unix(100, 0).UTC(),
		By: by, Reason: reason, Remaining: []operator.RemainingReplica{{Partition: 2, Table: "t", Role: "voter"}}}, f.err
}

func (f fakeCluster) DecommissionStatus(_ context.Context, node uint64) (operator.DecommissionResult, error) {
	if node == 9 {
		return operator.DecommissionResult{}, fmt.Errorf("%w: node %d", operator.ErrNoNode, node)
	}
	return operator.DecommissionResult{Node: node, Mode: operator.DecommissionByDoctor, Decommissioning: time.Unix(100, 0).UTC(),
		Done: true}, f.err
}

// Recommission clears the node's mark; node 4's is refused, as below the
// cluster version that has marks; node 9 is not in the directory.
func (f fakeCluster) Recommission(_ context.Context, node uint64, by string) (operator.DecommissionResult, error) {
	switch node {
	case 4:
		return operator.DecommissionResult{}, partitapb.Errorf(partitapb.Error_VALIDATION, "recommission needs a newer cluster version")
	case 9:
		return operator.DecommissionResult{}, fmt.Errorf("%w: node %d", operator.ErrNoNode, node)
	}
	return operator.DecommissionResult{Node: node, Mode: operator.DecommissionByDoctor, By: by}, f.err
}

// TestClusterRoutes: each route answers its JSON document, and errors
// come back as ErrorInfo with the status of the one table.
func TestClusterRoutes(t *testing.T) {
	srv := httptest.NewServer(admin.ClusterHandler(fakeCluster{}))
	defer srv.Close()
	failing := httptest.NewServer(admin.ClusterHandler(fakeCluster{err: errors.New("raft: no quorum")}))
	defer failing.Close()
	for _, tc := range []struct {
		srv          *httptest.Server
		method, path string
		status       int
		body         string
	}{
		{srv, http.MethodGet, "/cluster/nodes", 200, `"id": 1`},
		{srv, http.MethodGet, "/cluster/tables", 200, `"name": "t"`},
		{srv, http.MethodGet, "/cluster/partitions", 200, `"table": "t"`},
		{srv, http.MethodGet, "/cluster/partitions?table=nope", 404, `"error": "topology: no table \"nope\""`},
		{srv, http.MethodPost, "/cluster/nodes/1/drain", 200, `"moved": 2`},
		{srv, http.MethodPost, "/cluster/nodes/9/drain", 404, `"error": "operator: no such node in the directory: node 9"`},
		{srv, http.MethodPost, "/cluster/nodes/x/drain", 400, `bad node id \"x\"`},
		{srv, http.MethodPost, "/cluster/nodes/1/undrain", 200, `"node": 1`},
		{srv, http.MethodPost, "/cluster/nodes/4/undrain", 409, `newer cluster version`},
		{srv, http.MethodPost, "/cluster/nodes/9/undrain", 404, `node 9`},
		{srv, http.MethodGet, "/cluster/nodes/1/undrain", 405, ``},
		{srv, http.MethodPost, "/cluster/nodes/0/decommission", 400, `bad node id \"0\"`},
		{srv, http.MethodPost, "/cluster/nodes/3/decommission?reason=disk", 200, `"reason": "disk"`},
		{srv, http.MethodPost, "/cluster/nodes/3/decommission", 200, `"remaining": [`},
		{srv, http.MethodPost, "/cluster/nodes/9/decommission", 404, `no such node in the directory: node 9`},
		{failing, http.MethodPost, "/cluster/nodes/3/decommission", 500, `"error": "raft: no quorum"`},
		{srv, http.MethodGet, "/cluster/nodes/3/decommission", 200, `"decommissioning": "1970-01-01T00:01:40Z"`},
		{srv, http.MethodGet, "/cluster/nodes/9/decommission", 404, `node 9`},
		{srv, http.MethodPost, "/cluster/nodes/3/recommission", 200, `"mode": "doctor"`},
		{srv, http.MethodPost, "/cluster/nodes/4/recommission", 409, `newer cluster version`},
		{srv, http.MethodPost, "/cluster/nodes/9/recommission", 404, `node 9`},
		{srv, http.MethodGet, "/cluster/nodes/3/recommission", 405, ``},
		{srv, http.MethodGet, "/cluster/local/replicas", 404, ``},
		{srv, http.MethodPost, "/cluster/partitions/2/split?table=t&at=k", 200, `"right": 3`},
		{srv, http.MethodPost, "/cluster/partitions/2/split", 400, `want /cluster/partitions/{id}/split?table=T`},
		{srv, http.MethodPost, "/cluster/partitions/2/split?table=nope", 404, `no such table`},
		{srv, http.MethodPost, "/cluster/partitions/9/split?table=t", 409, `cannot split`},
		{failing, http.MethodPost, "/cluster/partitions/2/split?table=t", 500, `"error": "raft: no quorum"`},
		{srv, http.MethodPost, "/cluster/partitions/2/merge?table=t", 200, `"right": 3`},
		{srv, http.MethodPost, "/cluster/partitions/x/merge?table=t", 400, `want /cluster/partitions/{id}/merge?table=T`},
		{srv, http.MethodPost, "/cluster/partitions/2/merge?table=nope", 404, `no such table`},
		{srv, http.MethodPost, "/cluster/partitions/9/merge?table=t", 409, `not on the same nodes`},
		{failing, http.MethodPost, "/cluster/partitions/2/merge?table=t", 500, `"error": "raft: no quorum"`},
	} {
		req, err := http.NewRequest(tc.method, tc.srv.URL+tc.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var raw json.RawMessage
		err = json.NewDecoder(resp.Body).Decode(&raw)
		resp.Body.Close()
		if resp.StatusCode != tc.status || (tc.body != "" && (err != nil || !strings.Contains(string(raw), tc.body))) {
			t.Errorf("%s %s: %d %s (%v), want %d with %s", tc.method, tc.path, resp.StatusCode, raw, err, tc.status, tc.body)
		}
	}
}
