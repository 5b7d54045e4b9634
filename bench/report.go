package bench

import (
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Report is the outcome of a run. Operations and the latencies count
// successful operations; failed ones are in Errors. Durations are in
// nanoseconds in JSON.
type Report struct {
	Workload       string           `json:"workload"`
	Distribution   string           `json:"distribution"`
	Endpoints      []string         `json:"endpoints"`
	Clients        int              `json:"clients"`
	Records        int              `json:"records"`
	ValueSize      int              `json:"value_size"`
	ConsistentRead bool             `json:"consistent_read"`
	Operations     int64            `json:"operations"`
	Errors         map[string]int64 `json:"errors"`
	Elapsed        time.Duration    `json:"elapsed_ns"`
	OpsPerSec      float64          `json:"ops_per_sec"`
	Latency
	// Ops breaks the run down by operation kind (only kinds that ran).
	Ops []OpReport `json:"ops"`
}

// Latency is a latency distribution's summary.
type Latency struct {
	P50  time.Duration `json:"p50_ns"`
	P95  time.Duration `json:"p95_ns"`
	P99  time.Duration `json:"p99_ns"`
	P999 time.Duration `json:"p999_ns"`
	Max  time.Duration `json:"max_ns"`
}

// OpReport is one operation kind's share of a run.
type OpReport struct {
	Op         string           `json:"op"`
	Operations int64            `json:"operations"`
	OpsPerSec  float64          `json:"ops_per_sec"`
	Errors     map[string]int64 `json:"errors"`
	Latency
}

func summarize(h *hdrhistogram.Histogram) Latency {
	us := func(q float64) time.Duration { return time.Duration(h.ValueAtQuantile(q)) * time.Microsecond }
	return Latency{P50: us(50), P95: us(95), P99: us(99), P999: us(99.9), Max: time.Duration(h.Max()) * time.Microsecond}
}

func newReport(cfg Config, s opStats, elapsed time.Duration) Report {
	r := Report{
		Workload: cfg.Workload, Distribution: cfg.distribution(), Endpoints: cfg.Endpoints,
		Clients: cfg.Clients, Records: cfg.Records, ValueSize: cfg.ValueSize, ConsistentRead: cfg.ConsistentRead,
		Errors: map[string]int64{}, Elapsed: elapsed,
	}
	all := newHistogram()
	for op := range numOps {
		h, errs := s.hists[op], s.errors[op]
		if h.TotalCount() == 0 && len(errs) == 0 {
			continue
		}
		all.Merge(h)
		for k, v := range errs {
			r.Errors[k] += v
		}
		r.Ops = append(r.Ops, OpReport{
			Op: op.String(), Operations: h.TotalCount(), OpsPerSec: rate(h.TotalCount(), elapsed),
			Errors: errs, Latency: summarize(h),
		})
	}
	r.Operations, r.OpsPerSec, r.Latency = all.TotalCount(), rate(all.TotalCount(), elapsed), summarize(all)
	return r
}

func rate(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// ErrorCount is the number of failed operations.
func (r Report) ErrorCount() int64 { return sum(r.Errors) }

func sum(m map[string]int64) (n int64) {
	for _, v := range m {
		n += v
	}
	return n
}

// String is the report as text: the run, a table of latencies per
// operation kind, and the errors by type.
func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "workload %s, %s keys, %d clients on %d endpoint(s), %d records, %d-byte values",
		r.Workload, r.Distribution, r.Clients, len(r.Endpoints), r.Records, r.ValueSize)
	if r.ConsistentRead {
		b.WriteString(", consistent reads")
	}
	fmt.Fprintf(&b, "\n%d operations in %v: %.0f ops/s, %d errors\n\n", r.Operations, r.Elapsed.Round(time.Millisecond), r.OpsPerSec, r.ErrorCount())
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "op\toperations\tops/s\tp50\tp95\tp99\tp99.9\tmax\terrors\t")
	for _, o := range r.Ops {
		writeRow(tw, o.Op, o.Operations, o.OpsPerSec, o.Latency, sum(o.Errors))
	}
	if len(r.Ops) > 1 {
		writeRow(tw, "all", r.Operations, r.OpsPerSec, r.Latency, r.ErrorCount())
	}
	_ = tw.Flush()
	if len(r.Errors) > 0 {
		fmt.Fprintf(&b, "\nerrors: %s\n", formatErrors(r.Errors))
	}
	return b.String()
}

func writeRow(tw *tabwriter.Writer, op string, n int64, opsPerSec float64, l Latency, errs int64) {
	fmt.Fprintf(tw, "%s\t%d\t%.0f\t%v\t%v\t%v\t%v\t%v\t%d\t\n",
		op, n, opsPerSec, l.P50, l.P95, l.P99, l.P999, l.Max, errs)
}

// formatErrors lists errors by type, most frequent first.
func formatErrors(m map[string]int64) string {
	codes := make([]string, 0, len(m))
	for k := range m {
		codes = append(codes, k)
	}
	sort.Slice(codes, func(i, j int) bool {
		if m[codes[i]] != m[codes[j]] {
			return m[codes[i]] > m[codes[j]]
		}
		return codes[i] < codes[j]
	})
	parts := make([]string, len(codes))
	for i, k := range codes {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}
