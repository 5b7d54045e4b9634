package partiql

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/partitadb/partita/item"
)

// TestPlan runs the scripts in testdata/plan: `plan [hash=K] [range=K]
// [params=(T:v,...)]` plans the statement of its input against the key
// (pk and sk by default; range=none for a table without a sort key) and
// prints the plan or the error. Rewrite with -rewrite.
func TestPlan(t *testing.T) {
	datadriven.Walk(t, "testdata/plan", func(t *testing.T, path string) {
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			switch d.Cmd {
			case "plan":
				return runPlan(t, d)
			case "parse":
				st, err := Parse(d.Input)
				if err != nil {
					return "error: " + err.Error()
				}
				return fmt.Sprintf("%s table=%s params=%d", st.Kind, st.Table, st.Params)
			}
			t.Fatalf("unknown command %q", d.Cmd)
			return ""
		})
	})
}

func runPlan(t *testing.T, d *datadriven.TestData) string {
	ks := KeySchema{Hash: "pk", Range: "sk"}
	var params []item.Value
	for _, a := range d.CmdArgs {
		switch a.Key {
		case "hash":
			ks.Hash = a.Vals[0]
		case "range":
			ks.Range = a.Vals[0]
			if ks.Range == "none" {
				ks.Range = ""
			}
		case "params":
			for _, v := range a.Vals {
				params = append(params, testParam(t, v))
			}
		}
	}
	st, err := Parse(d.Input)
	if err != nil {
		return "error: " + err.Error()
	}
	p, err := NewPlan(st, params, ks)
	if err != nil {
		return "error: " + err.Error()
	}
	return printPlan(p)
}

// testParam reads a parameter written T:v (S:abc, N:12, BOOL:true).
func testParam(t *testing.T, s string) item.Value {
	typ, v, _ := strings.Cut(s, ":")
	switch typ {
	case "S":
		return item.S(v)
	case "N":
		return item.N(item.MustNumber(v))
	case "BOOL":
		return item.Bool(v == "true")
	}
	t.Fatalf("bad parameter %q", s)
	return item.Value{}
}

func printPlan(p *Plan) string {
	var b strings.Builder
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%s: %s\n", k, v)
		}
	}
	line("kind", p.Kind.String())
	if p.Kind == KindSelect {
		line("access", fmt.Sprintf("%s forward=%v", p.Access, p.Forward))
	}
	for _, k := range p.Keys {
		line("key", jsonOf(k))
	}
	for _, kc := range p.KeyConditions {
		line("keycondition", kc)
	}
	line("filter", p.Filter)
	if len(p.Projection) > 0 {
		var names []string
		for _, path := range p.Projection {
			names = append(names, path.outputName())
		}
		line("projection", strings.Join(names, ", "))
	}
	if p.Key != nil {
		line("key", jsonOf(p.Key))
	}
	if p.Item != nil {
		line("item", jsonOf(p.Item))
	}
	line("update", p.Update)
	line("condition", p.Condition)
	line("returning", p.Returning)
	line("names", sortedPairs(p.Names, func(v string) string { return v }))
	line("values", sortedPairs(p.Values, func(v item.Value) string { return jsonOf(v) }))
	return b.String()
}

func jsonOf(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

func sortedPairs[V any](m map[string]V, show func(V) string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []string
	for _, k := range keys {
		out = append(out, k+"="+show(m[k]))
	}
	return strings.Join(out, " ")
}
