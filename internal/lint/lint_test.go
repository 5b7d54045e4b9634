package lint_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"golang.org/x/tools/go/packages"

	"github.com/partitadb/partita/internal/lint"
)

// fixture is a module that breaks each rule (testdata/violations/go.mod).
const fixture = "testdata/violations"

// root is the module root of the tree.
const root = "../.."

// fixtureEnv loads the fixture as a module of its own.
func fixtureEnv() []string { return append(os.Environ(), "GOWORK=off", "GOFLAGS=") }

var (
	treeOnce sync.Once
	tree     []*packages.Package
	treeErr  error
)

// loadTree loads the module once for every check.
func loadTree(t *testing.T) []*packages.Package {
	t.Helper()
	treeOnce.Do(func() { tree, treeErr = lint.Load(root, nil) })
	if treeErr != nil {
		t.Fatal(treeErr)
	}
	return tree
}

func loadFixture(t *testing.T) []*packages.Package {
	t.Helper()
	pkgs, err := lint.Load(fixture, fixtureEnv())
	if err != nil {
		t.Fatal(err)
	}
	return pkgs
}

func report(t *testing.T, findings []lint.Finding) {
	t.Helper()
	for _, f := range findings {
		t.Error(f)
	}
}

func TestImports(t *testing.T) {
	report(t, lint.CheckImports(loadTree(t), lint.ImportRules))
}

func TestNoClockOrRandomness(t *testing.T) {
	report(t, lint.CheckSymbols(loadTree(t), lint.SymbolRules))
}

func TestErrorfWraps(t *testing.T) {
	report(t, lint.CheckErrorf(loadTree(t)))
}

// TestRulesCatchViolations runs the checks on the fixture: each rule must
// report its violations there, and nothing the rules allow.
func TestRulesCatchViolations(t *testing.T) {
	pkgs := loadFixture(t)
	var findings []lint.Finding
	findings = append(findings, lint.CheckImports(pkgs, lint.ImportRules)...)
	findings = append(findings, lint.CheckSymbols(pkgs, lint.SymbolRules)...)
	findings = append(findings, lint.CheckErrorf(pkgs)...)
	abs, err := filepath.Abs(fixture)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range findings {
		rel, err := filepath.Rel(abs, f.Pos.Filename)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, f.Rule+" "+filepath.ToSlash(rel)+" "+f.Msg)
	}
	want := []string{
		"errorf fsm/fsm.go fmt.Errorf formats the error errFixture with %s: wrap it with %w",
		"errorf fsm/fsm.go fmt.Errorf formats the error errFixture with %v: wrap it with %w",
		"import directory/directory.go directory imports github.com/partitadb/partita/route: imports point down the layers of docs/architecture.md",
		"import doctor/operator/operator.go doctor/operator imports github.com/partitadb/partita/store: the doctor acts through cluster and route, never on a store",
		"import expr/expr.go expr imports math/rand/v2: expressions evaluate deterministically",
		"import fsm/fsm.go fsm imports github.com/cockroachdb/pebble/v2: Pebble stays behind engine's types",
		"import fsm/fsm_test.go fsm imports github.com/cockroachdb/pebble/v2: Pebble stays behind engine's types",
		"import store/store.go store imports github.com/partitadb/partita/node: node is wiring only: nothing below it imports it",
		"symbol fsm/fsm.go fsm uses time.Now: the state machine is deterministic",
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("findings in the fixture:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// staticcheck returns the path of the staticcheck the module's tool
// directive names, building it if needed.
func staticcheck(t *testing.T) string {
	t.Helper()
	cmd := exec.Command("go", "tool", "-n", "staticcheck")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go tool -n staticcheck: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// run runs name in dir and returns its combined output and whether it
// exited with status 0.
func run(t *testing.T, dir string, env []string, name string, args ...string) (string, bool) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Env = dir, env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if _, exit := err.(*exec.ExitError); err != nil && !exit {
		t.Fatalf("%s: %v", name, err)
	}
	return out.String(), err == nil
}

func TestStaticcheck(t *testing.T) {
	if out, ok := run(t, root, nil, staticcheck(t), "./..."); !ok {
		t.Errorf("staticcheck findings:\n%s", out)
	}
}

func TestStaticcheckCatchesViolations(t *testing.T) {
	out, ok := run(t, fixture, fixtureEnv(), staticcheck(t), "./...")
	if ok || !strings.Contains(out, "expr.go") || !strings.Contains(out, "SA4017") {
		t.Errorf("staticcheck on the fixture: want SA4017 in expr.go, got (ok=%v):\n%s", ok, out)
	}
}

func TestGoModTidy(t *testing.T) {
	if out, ok := run(t, root, nil, "go", "mod", "tidy", "-diff"); !ok {
		t.Errorf("go.mod or go.sum is not tidy (run go mod tidy):\n%s", out)
	}
}

func TestGoModTidyCatchesViolations(t *testing.T) {
	out, ok := run(t, fixture, fixtureEnv(), "go", "mod", "tidy", "-diff")
	if ok || !strings.Contains(out, "-\texample.com/unused v0.0.0") {
		t.Errorf("go mod tidy -diff on the fixture: want example.com/unused dropped, got (ok=%v):\n%s", ok, out)
	}
}
