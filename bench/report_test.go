package bench

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func sampleReport() Report {
	s := newOpStats()
	for i := int64(1); i <= 1000; i++ {
		_ = s.hists[OpRead].RecordValue(i) // 1..1000 µs
	}
	_ = s.hists[OpUpdate].RecordValue(5000)
	s.errors[OpUpdate]["ConditionalCheckFailedException"] = 2
	s.errors[OpRead]["transport"] = 1
	cfg := DefaultConfig()
	cfg.Workload, cfg.Clients, cfg.Records = "a", 4, 100
	return newReport(cfg, s, 2*time.Second)
}

func TestReportFigures(t *testing.T) {
	r := sampleReport()
	if r.Operations != 1001 || r.OpsPerSec != 500.5 || r.ErrorCount() != 3 {
		t.Fatalf("operations %d, %v ops/s, %d errors", r.Operations, r.OpsPerSec, r.ErrorCount())
	}
	if len(r.Ops) != 2 || r.Ops[0].Op != "read" || r.Ops[1].Op != "update" {
		t.Fatalf("ops %+v", r.Ops)
	}
	read := r.Ops[0]
	if read.P50 != 500*time.Microsecond || read.P99 != 990*time.Microsecond || read.Max != 1000*time.Microsecond {
		t.Fatalf("read latencies %+v", read.Latency)
	}
	// HDR histograms keep three significant digits.
	if !near(r.Max, 5*time.Millisecond) || r.Distribution != Zipfian {
		t.Fatalf("overall max %v, distribution %q", r.Max, r.Distribution)
	}
}

func TestReportText(t *testing.T) {
	text := sampleReport().String()
	for _, want := range []string{
		"workload a, zipfian keys, 4 clients on 1 endpoint(s), 100 records, 1024-byte values",
		"1001 operations in 2s: 500 ops/s, 3 errors",
		"p99.9", "read", "update", "all",
		"errors: ConditionalCheckFailedException 2, transport 1",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q:\n%s", want, text)
		}
	}
	lines := strings.Split(text, "\n")
	var readRow string
	for _, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "read ") {
			readRow = l
		}
	}
	if f := strings.Fields(readRow); len(f) != 9 || f[1] != "1000" || f[3] != "500µs" || f[7] != "1ms" || f[8] != "1" {
		t.Fatalf("read row %q", readRow)
	}
}

func TestReportJSON(t *testing.T) {
	b, err := json.Marshal(sampleReport())
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got["workload"] != "a" || got["operations"] != 1001.0 || !near(time.Duration(got["p50_ns"].(float64)), 501*time.Microsecond) {
		t.Fatalf("top level %s", b)
	}
	ops := got["ops"].([]any)
	upd := ops[1].(map[string]any)
	if upd["op"] != "update" || !near(time.Duration(upd["p99_ns"].(float64)), 5*time.Millisecond) || upd["errors"].(map[string]any)["ConditionalCheckFailedException"] != 2.0 {
		t.Fatalf("update op %v", upd)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil || back.Ops[0].P999 != sampleReport().Ops[0].P999 {
		t.Fatalf("round trip: %v %+v", err, back.Ops)
	}
}

func TestProgressLine(t *testing.T) {
	got := progressLine(3*time.Second, 1234.4, 2345*time.Microsecond, 7)
	if !strings.HasPrefix(got, "\r\033[K") || !strings.Contains(got, "3s") ||
		!strings.Contains(got, "1234 ops/s") || !strings.Contains(got, "p99 2.35ms") || !strings.HasSuffix(got, "errors 7") {
		t.Fatalf("progress line %q", got)
	}
}

// near reports whether d is within the histogram's 0.1% of want.
func near(d, want time.Duration) bool {
	diff := d - want
	return diff >= -want/1000 && diff <= want/1000
}
