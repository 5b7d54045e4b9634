package admission

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/partitadb/partita/partitapb"
)

// TestScripts runs testdata/*.txt against a controller on a fake clock.
//
//	config partition-read=3000 partition-write=1000 burst=300
//	table p=(1,2) name=t id=7 [provisioned read=R write=W share=S] [age=SECONDS]
//	admit p=1 op=write n=N units=U [every=10ms]
//	    N requests of U units each, the clock moving every between them;
//	    prints how many were admitted and the throttles by reason
//	advance 1s
//	metrics
func TestScripts(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		e := &scriptEnv{now: time.Unix(1_700_000_000, 0), limits: map[uint64]Limits{}}
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			out, err := e.run(t, d)
			if err != nil {
				return "error: " + err.Error() + "\n"
			}
			return out
		})
	})
}

type scriptEnv struct {
	now    time.Time
	limits map[uint64]Limits
	c      *Controller
}

func (e *scriptEnv) controller(t *testing.T) *Controller {
	if e.c == nil {
		e.configure(t, DefaultConfig())
	}
	return e.c
}

func (e *scriptEnv) configure(t *testing.T, cfg Config) {
	cfg.Now = func() time.Time { return e.now }
	cfg.Limits = func(p uint64) (Limits, bool) { l, ok := e.limits[p]; return l, ok }
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.c = c
}

func (e *scriptEnv) run(t *testing.T, d *datadriven.TestData) (string, error) {
	args := map[string]string{}
	var parts []uint64
	for _, a := range d.CmdArgs {
		if a.Key == "p" {
			for _, v := range a.Vals {
				p, err := strconv.ParseUint(v, 10, 64)
				if err != nil {
					return "", err
				}
				parts = append(parts, p)
			}
			continue
		}
		args[a.Key] = strings.Join(a.Vals, ",")
	}
	num := func(k string, def float64) float64 {
		if v, ok := args[k]; ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %s=%q: %v", d.Pos, k, v, err)
			}
			return f
		}
		return def
	}
	switch d.Cmd {
	case "config":
		cfg := DefaultConfig()
		cfg.PartitionReadUnits = num("partition-read", cfg.PartitionReadUnits)
		cfg.PartitionWriteUnits = num("partition-write", cfg.PartitionWriteUnits)
		cfg.BurstSeconds = num("burst", cfg.BurstSeconds)
		e.configure(t, cfg)
		return "", nil
	case "table":
		id := uint64(num("id", 1))
		for _, p := range parts {
			e.limits[p] = Limits{Table: args["name"], TableID: id, Provisioned: d.HasArg("provisioned"),
				ReadUnits: num("read", 0), WriteUnits: num("write", 0), Share: num("share", 1),
				Created: e.now.Add(-time.Duration(num("age", 0) * float64(time.Second)))}
		}
		return "", nil
	case "advance":
		dur, err := time.ParseDuration(d.CmdArgs[0].Key)
		if err != nil {
			return "", err
		}
		e.now = e.now.Add(dur)
		return "", nil
	case "admit":
		return e.admit(t, parts, args, num)
	case "metrics":
		return e.metrics(), nil
	}
	return "", fmt.Errorf("unknown command %q", d.Cmd)
}

func (e *scriptEnv) admit(t *testing.T, parts []uint64, args map[string]string, num func(string, float64) float64) (string, error) {
	op := Read
	if args["op"] == "write" {
		op = Write
	}
	n, units := int(num("n", 1)), num("units", minimum(op))
	every := time.Duration(0)
	if v, ok := args["every"]; ok {
		var err error
		if every, err = time.ParseDuration(v); err != nil {
			return "", err
		}
	}
	admitted := 0
	reasons := map[string]int{}
	for i := 0; i < n; i++ {
		p := parts[i%len(parts)]
		tk, err := e.controller(t).Admit(p, op)
		if err != nil {
			pe, ok := err.(*partitapb.Error)
			if !ok || pe.GetCode() != partitapb.Error_THROTTLED {
				return "", err
			}
			reasons[pe.GetMessage()+" on "+pe.GetTable()]++
		} else {
			admitted++
			tk.Charge(units)
		}
		e.now = e.now.Add(every)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "admitted %d of %d\n", admitted, n)
	keys := make([]string, 0, len(reasons))
	for k := range reasons {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "throttled %d: %s\n", reasons[k], k)
	}
	return b.String(), nil
}

func (e *scriptEnv) metrics() string {
	c := e.c
	var lines []string
	for _, p := range []string{"t", "u", "hot"} {
		for _, op := range []Op{Read, Write} {
			if v := counterValue(c.m.consumed.WithLabelValues(p, op.String())); v != 0 {
				lines = append(lines, fmt.Sprintf("consumed %s %s %g", p, op, v))
			}
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n") + "\n"
}
