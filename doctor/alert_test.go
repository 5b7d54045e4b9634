package doctor

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/partitadb/partita/doctor/checker"
	"github.com/partitadb/partita/doctor/operator"
	"github.com/partitadb/partita/topology/ingest"
)

// An alert reaches the webhook as JSON naming the operation, its reason
// and error.
func TestAlertWebhook(t *testing.T) {
	got := make(chan Alert, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var a Alert
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s with %q", r.Method, r.Header.Get("Content-Type"))
		}
		if err := json.NewDecoder(r.Body).Decode(&a); err != nil {
			t.Error(err)
		}
		got <- a
	}))
	defer srv.Close()
	cfg := DefaultConfig()
	cfg.AlertWebhook, cfg.Now = srv.URL, func() time.Time { return t0 }
	d, err := New(cfg, Deps{Epoch: func() uint64 { return 0 }, Cluster: func(uint64) operator.Cluster { return nil },
		View: func() *ingest.ClusterView { return nil }, Records: &MemRecords{}})
	if err != nil {
		t.Fatal(err)
	}
	e := Entry{ID: 42, Op: checker.Op{Kind: checker.ReplaceReplica, Partition: 7, From: 3, To: 4}, Created: t0.Add(-time.Minute),
		Deadline: t0.Add(9 * time.Minute)}
	d.alert(e, "failed", errors.New("step \"add-learner\": boom"))
	select {
	case a := <-got:
		if a.Entry != 42 || a.Reason != "failed" || a.Op.Partition != 7 || a.Op.Kind != checker.ReplaceReplica ||
			a.Error != "step \"add-learner\": boom" || !a.AlertedAt.Equal(t0) || !a.Deadline.Equal(e.Deadline) {
			t.Fatalf("alert %+v", a)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no alert reached the webhook")
	}
}
