package node_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/prometheus/client_golang/prometheus"
	"go.yaml.in/yaml/v2"

	"github.com/partitadb/partita/admission"
	"github.com/partitadb/partita/daemon"
	"github.com/partitadb/partita/doctor"
	"github.com/partitadb/partita/doctor/operator"
	"github.com/partitadb/partita/node"
	"github.com/partitadb/partita/topology/ingest"
	"github.com/partitadb/partita/transport"
)

// The files under deploy/ checked here.
const (
	alertsFile    = "../deploy/prometheus/alerts.yml"
	dashboardFile = "../deploy/grafana/partita.json"
)

// metricRef finds the Partita metric names in a PromQL expression.
var metricRef = regexp.MustCompile(`\bpartita_[a-z0-9_]+`)

// knownMetrics returns every metric name a node serves after a small
// workload, plus those of the gRPC transport, which a single node does not
// run yet.
func knownMetrics(t *testing.T) map[string]bool {
	t.Helper()
	cycles := make(chan daemon.CycleRecord, 64)
	n := startWith(t, func(c *node.Config) {
		c.OnJobCycle = func(r daemon.CycleRecord) {
			select { // the global-indexes job's cycles come five a second
			case cycles <- r:
			default:
			}
		}
	})
	db := client(n)
	createTable(t, db, "workload")
	put(t, db, "workload", "a")
	ctx := context.Background()
	if _, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("workload"), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "a"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("absent")}); err == nil {
		t.Fatal("DescribeTable of a missing table succeeded")
	}
	gsiTable(t, db) // a table with indexes: the index lag gauge
	if err := n.Jobs().RunNow(node.TableStatsJob); err != nil {
		t.Fatal(err)
	}
	if err := n.Jobs().RunNow(node.GlobalIndexJob); err != nil {
		t.Fatal(err)
	}
	for ran := 0; ran < 2; {
		if r := <-cycles; r.Reason == daemon.ReasonRunNow {
			ran++
		}
	}

	names := make(map[string]bool)
	for _, line := range strings.Split(scrape(t, n), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		names[line[:strings.IndexAny(line, "{ ")]] = true
	}
	rec := &describer{names: names}
	// Admission control's metrics, registered by nodes that enforce
	// capacity (this one does not).
	acfg := admission.DefaultConfig()
	acfg.Registerer, acfg.Limits = rec, func(uint64) (admission.Limits, bool) { return admission.Limits{}, false }
	if _, err := admission.New(acfg); err != nil {
		t.Fatal(err)
	}
	// The ingester's vectors, some without a sample until the first skip.
	icfg := ingest.DefaultConfig()
	icfg.Registerer = rec
	if _, err := ingest.New(icfg); err != nil {
		t.Fatal(err)
	}
	// The Doctor's, registered by nodes that run one (this one does not).
	dcfg := doctor.DefaultConfig()
	dcfg.Registerer = rec
	if _, err := doctor.New(dcfg, doctor.Deps{Epoch: func() uint64 { return 0 },
		Cluster: func(uint64) operator.Cluster { return nil }, View: func() *ingest.ClusterView { return nil },
		Records: &doctor.MemRecords{}}); err != nil {
		t.Fatal(err)
	}
	cfg := transport.DefaultConfig()
	cfg.NodeID, cfg.Registerer = 1, rec
	cfg.Resolve = func(uint64) (string, error) { return "", errors.New("no peers") }
	tr, err := transport.NewGRPC(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	return names
}

// describer is a Registerer that records the names its collectors
// describe, series or not.
type describer struct {
	mu    sync.Mutex
	names map[string]bool
}

var descName = regexp.MustCompile(`fqName: "([^"]+)"`)

func (d *describer) Register(c prometheus.Collector) error {
	ch := make(chan *prometheus.Desc)
	go func() { c.Describe(ch); close(ch) }()
	d.mu.Lock()
	defer d.mu.Unlock()
	for desc := range ch {
		if m := descName.FindStringSubmatch(desc.String()); m != nil {
			// A histogram's or summary's series, described or not.
			for _, suffix := range []string{"", "_bucket", "_sum", "_count"} {
				d.names[m[1]+suffix] = true
			}
		}
	}
	return nil
}

func (d *describer) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		_ = d.Register(c)
	}
}

func (d *describer) Unregister(prometheus.Collector) bool { return true }

// checkExpr fails the test for a metric of expr the node does not serve.
func checkExpr(t *testing.T, where, expr string, known map[string]bool) {
	t.Helper()
	for _, name := range metricRef.FindAllString(expr, -1) {
		if !known[name] {
			t.Errorf("%s: metric %s is not served by a node", where, name)
		}
	}
}

// alertRules is the part of a Prometheus rule file checked here.
type alertRules struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

// dashboard is the part of a Grafana dashboard model checked here.
type dashboard struct {
	UID        string `json:"uid"`
	Templating struct {
		List []struct {
			Name  string `json:"name"`
			Type  string `json:"type"`
			Query any    `json:"query"`
		} `json:"list"`
	} `json:"templating"`
	Panels []struct {
		ID         int    `json:"id"`
		Type       string `json:"type"`
		Title      string `json:"title"`
		Datasource struct {
			Type string `json:"type"`
			UID  string `json:"uid"`
		} `json:"datasource"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
}

// TestDeployFilesMatchTheMetrics parses the alert rules and the Grafana
// dashboard and checks that each names only metrics a node serves.
func TestDeployFilesMatchTheMetrics(t *testing.T) {
	t.Parallel()
	known := knownMetrics(t)

	raw, err := os.ReadFile(alertsFile)
	if err != nil {
		t.Fatal(err)
	}
	var rules alertRules
	if err := yaml.Unmarshal(raw, &rules); err != nil {
		t.Fatalf("%s: %v", alertsFile, err)
	}
	alerts := 0
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			alerts++
			where := alertsFile + ": " + r.Alert
			switch {
			case r.Alert == "" || r.Expr == "" || r.For == "":
				t.Errorf("%s: a rule needs alert, expr and for: %+v", where, r)
			case r.Labels["severity"] != "critical" && r.Labels["severity"] != "warning":
				t.Errorf("%s: severity %q, want critical or warning", where, r.Labels["severity"])
			case r.Annotations["summary"] == "" || r.Annotations["description"] == "":
				t.Errorf("%s: a rule needs a summary and a description", where)
			}
			checkExpr(t, where, r.Expr, known)
		}
	}
	if alerts < 5 {
		t.Errorf("%s: %d alerts, want at least node down, no leader, under-replicated, log growth, failing job", alertsFile, alerts)
	}

	raw, err = os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	if d.UID == "" || len(d.Templating.List) == 0 || d.Templating.List[0].Type != "datasource" || d.Templating.List[0].Query != "prometheus" {
		t.Fatalf("%s: want a uid and a Prometheus datasource variable first", dashboardFile)
	}
	ids, queries := make(map[int]bool), 0
	for _, p := range d.Panels {
		if ids[p.ID] {
			t.Errorf("%s: panel id %d twice", dashboardFile, p.ID)
		}
		ids[p.ID] = true
		if p.Type == "row" {
			continue
		}
		if p.Datasource.UID != "${datasource}" || len(p.Targets) == 0 {
			t.Errorf("%s: panel %q: want datasource ${datasource} and targets", dashboardFile, p.Title)
		}
		for _, tg := range p.Targets {
			queries++
			checkExpr(t, dashboardFile+": "+p.Title, tg.Expr, known)
		}
	}
	if queries < 20 {
		t.Errorf("%s: only %d queries", dashboardFile, queries)
	}
}
