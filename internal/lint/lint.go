// Package lint checks the house rules of the tree that the compiler and go
// vet do not: the direction of imports between packages (design.md,
// "Packages and the direction of imports"), no clock and no randomness in
// the deterministic packages, and errors wrapped with %w. The test of this
// package runs the checks, plus staticcheck and go mod tidy, on the module.
//
// A rule names packages by their path inside the module, so the same table
// checks the module and the test fixtures; a rule for a package that does
// not exist yet matches nothing.
package lint

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/token"
	"go/types"
	"sort"
	"strings"

	"golang.org/x/tools/go/packages"
)

// Scope says which files of a package a rule binds.
type Scope int

const (
	// Code binds the package's non-test files.
	Code Scope = iota
	// CodeAndTests also binds its in-package _test.go files.
	CodeAndTests
	// All also binds its external test package (package x_test).
	All
)

// ImportRule forbids packages (From, minus Except) to import Forbid.
// From and Except are paths inside the module ("node", "doctor/..." for a
// subtree, "..." for every package); Forbid holds import paths, with the
// same "/..." suffix for a subtree.
type ImportRule struct {
	From   string
	Except []string
	Forbid []string
	Scope  Scope
	Why    string
}

// SymbolRule forbids packages (From) to use the named objects of other
// packages: Forbid maps an import path to object names ("time" -> "Now").
type SymbolRule struct {
	From   string
	Forbid map[string][]string
	Scope  Scope
	Why    string
}

// clockAndRandomness is every way to read the time or draw a random number.
var clockAndRandomness = map[string][]string{
	"time": {"Now", "Since", "Until", "After", "AfterFunc", "Tick", "NewTicker", "NewTimer", "Sleep"},
}

// Module is the path of the tree's module.
const Module = "github.com/partitadb/partita"

// randomPackages are imported only for randomness.
var randomPackages = []string{"math/rand", "math/rand/v2", "crypto/rand"}

// deterministic lists the packages that must replay identically on every
// replica: they read no clock and no randomness.
var deterministic = []string{"fsm/...", "expr/..."}

// ImportRules is the import direction of design.md. External test packages
// of packages below node may start a node (they sit above everything, like
// cmd/partita); nothing else may.
var ImportRules = append(baseRules, layerRules(Layers)...)

// Layers is the import direction below node (docs/architecture.md): a
// package may import packages of lower layers, and its own subpackages,
// only. Packages outside the layers (cmd, bench, harness, internal) are
// bound by the other rules alone.
var Layers = [][]string{
	{"admin", "dynamo", "console"},
	{"member"},
	{"router", "doctor/..."},
	{"route"},
	{"cluster/..."},
	{"topology/...", "store"},
	{"replica", "admission"},
	{"fsm"},
	{"directory"},
	{"partiql"},
	{"engine", "expr", "transport/..."},
	{"item", "partitapb", "daemon", "telemetry", "auth", "certs", "settings", "clusterversion"},
}

// layerRules forbids each layered package the packages of its own layer
// and of every layer above it.
func layerRules(layers [][]string) []ImportRule {
	var rules []ImportRule
	for i, layer := range layers {
		for _, from := range layer {
			var forbid []string
			for _, above := range layers[:i+1] {
				for _, p := range above {
					if p != from {
						forbid = append(forbid, Module+"/"+p)
					}
				}
			}
			rules = append(rules, ImportRule{From: from, Forbid: forbid,
				Why: "imports point down the layers of docs/architecture.md"})
		}
	}
	return rules
}

var baseRules = []ImportRule{
	{From: "...", Except: []string{"cmd/partita", "node"}, Forbid: []string{Module + "/node/..."}, Scope: CodeAndTests,
		Why: "node is wiring only: nothing below it imports it"},
	{From: "doctor/...", Forbid: []string{Module + "/store/..."}, Scope: All,
		Why: "the doctor acts through cluster and route, never on a store"},
	{From: "...", Except: []string{"engine/..."}, Forbid: []string{"github.com/cockroachdb/pebble/..."}, Scope: All,
		Why: "Pebble stays behind engine's types"},
	{From: deterministic[0], Forbid: randomPackages, Why: "the state machine is deterministic"},
	{From: deterministic[1], Forbid: randomPackages, Why: "expressions evaluate deterministically"},
}

// SymbolRules are the uses of other packages' objects the tree forbids.
var SymbolRules = []SymbolRule{
	{From: deterministic[0], Forbid: clockAndRandomness, Why: "the state machine is deterministic"},
	{From: deterministic[1], Forbid: clockAndRandomness, Why: "expressions evaluate deterministically"},
}

// A Finding is one broken rule.
type Finding struct {
	Pos  token.Position // zero for import findings of a whole package
	Pkg  string         // import path of the package
	Rule string         // "import", "symbol" or "errorf"
	Msg  string
}

func (f Finding) String() string {
	if f.Pos.IsValid() {
		return fmt.Sprintf("%s: %s: %s", f.Pos, f.Rule, f.Msg)
	}
	return fmt.Sprintf("%s: %s: %s", f.Pkg, f.Rule, f.Msg)
}

// Load loads and type-checks every package of the module in dir, tests
// included.
func Load(dir string, env []string) ([]*packages.Package, error) {
	cfg := &packages.Config{
		Mode: packages.NeedName | packages.NeedFiles | packages.NeedImports | packages.NeedSyntax |
			packages.NeedTypes | packages.NeedTypesInfo | packages.NeedModule,
		Dir:   dir,
		Env:   env,
		Tests: true,
	}
	pkgs, err := packages.Load(cfg, "./...")
	if err != nil {
		return nil, fmt.Errorf("lint: load %s: %w", dir, err)
	}
	var errs []string
	packages.Visit(pkgs, nil, func(p *packages.Package) {
		for _, e := range p.Errors {
			errs = append(errs, e.Error())
		}
	})
	if len(errs) > 0 {
		return nil, fmt.Errorf("lint: load %s: %s", dir, strings.Join(errs, "; "))
	}
	return pkgs, nil
}

// unit is one package as the rules see it: its import path, module path
// and which kind of files it holds.
type unit struct {
	pkg     *packages.Package
	rel     string // path inside the module; "." for the root
	pkgPath string // import path (of the package an external test tests)
	xtest   bool   // an external test package (package x_test)
	module  string
}

// units drops the test binaries and returns each package once per kind:
// the package, the package with its tests, the external test package.
func units(pkgs []*packages.Package) []unit {
	var out []unit
	for _, p := range pkgs {
		if p.Module == nil || strings.HasSuffix(p.ID, ".test") {
			continue
		}
		u := unit{pkg: p, module: p.Module.Path}
		pkgPath := p.PkgPath
		if strings.HasSuffix(p.Name, "_test") && strings.HasSuffix(pkgPath, "_test") {
			u.xtest = true
			pkgPath = strings.TrimSuffix(pkgPath, "_test")
		}
		u.pkgPath = pkgPath
		u.rel = strings.TrimPrefix(strings.TrimPrefix(pkgPath, u.module), "/")
		if u.rel == "" {
			u.rel = "."
		}
		out = append(out, u)
	}
	return out
}

// binds reports whether a rule of scope s binds the file f of u.
func (u unit) binds(s Scope, f string) bool {
	switch {
	case u.xtest:
		return s == All
	case strings.HasSuffix(f, "_test.go"):
		return s >= CodeAndTests
	}
	return true
}

// match reports whether the import path p matches pattern.
func match(pattern, p string) bool {
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return p == base || strings.HasPrefix(p, base+"/")
	}
	return p == pattern
}

// is reports whether u is in the module-relative pattern.
func (u unit) is(pattern string) bool {
	if pattern == "..." {
		return true
	}
	return match(u.module+"/"+pattern, u.pkgPath)
}

func (u unit) in(from string, except []string) bool {
	if !u.is(from) {
		return false
	}
	for _, e := range except {
		if u.is(e) {
			return false
		}
	}
	return true
}

// CheckImports returns the imports of pkgs that break rules.
func CheckImports(pkgs []*packages.Package, rules []ImportRule) []Finding {
	var out []Finding
	for _, u := range units(pkgs) {
		for _, r := range rules {
			if !u.in(r.From, r.Except) {
				continue
			}
			for _, f := range u.pkg.Syntax {
				file := u.pkg.Fset.File(f.Pos()).Name()
				if !u.binds(r.Scope, file) {
					continue
				}
				for _, spec := range f.Imports {
					imp := strings.Trim(spec.Path.Value, `"`)
					for _, forbid := range r.Forbid {
						if match(forbid, imp) {
							out = append(out, Finding{Pos: u.pkg.Fset.Position(spec.Pos()), Pkg: u.pkg.PkgPath,
								Rule: "import", Msg: fmt.Sprintf("%s imports %s: %s", u.rel, imp, r.Why)})
						}
					}
				}
			}
		}
	}
	return dedupe(out)
}

// CheckSymbols returns the uses of forbidden objects in pkgs.
func CheckSymbols(pkgs []*packages.Package, rules []SymbolRule) []Finding {
	var out []Finding
	for _, u := range units(pkgs) {
		for _, r := range rules {
			if !u.is(r.From) {
				continue
			}
			for id, obj := range u.pkg.TypesInfo.Uses {
				if obj.Pkg() == nil || obj.Parent() != obj.Pkg().Scope() {
					continue // not a package-level object
				}
				names, ok := r.Forbid[obj.Pkg().Path()]
				if !ok || !contains(names, obj.Name()) {
					continue
				}
				pos := u.pkg.Fset.Position(id.Pos())
				if !u.binds(r.Scope, pos.Filename) {
					continue
				}
				out = append(out, Finding{Pos: pos, Pkg: u.pkg.PkgPath, Rule: "symbol",
					Msg: fmt.Sprintf("%s uses %s.%s: %s", u.rel, obj.Pkg().Path(), obj.Name(), r.Why)})
			}
		}
	}
	return dedupe(out)
}

// CheckErrorf returns the calls of fmt.Errorf in pkgs that format an error
// with a verb other than %w: the error chain would end there.
func CheckErrorf(pkgs []*packages.Package) []Finding {
	errType := types.Universe.Lookup("error").Type().Underlying().(*types.Interface)
	var out []Finding
	for _, u := range units(pkgs) {
		info := u.pkg.TypesInfo
		for _, f := range u.pkg.Syntax {
			ast.Inspect(f, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok || !isErrorf(info, call) || len(call.Args) == 0 {
					return true
				}
				tv := info.Types[call.Args[0]]
				if tv.Value == nil || tv.Value.Kind() != constant.String {
					return true // a format built at run time: vet's printf check covers it
				}
				args := call.Args[1:]
				for i, verb := range verbs(constant.StringVal(tv.Value)) {
					if i >= len(args) || verb == 'w' {
						continue
					}
					t := info.TypeOf(args[i])
					if t == nil || !types.Implements(t, errType) {
						continue
					}
					out = append(out, Finding{Pos: u.pkg.Fset.Position(args[i].Pos()), Pkg: u.pkg.PkgPath, Rule: "errorf",
						Msg: fmt.Sprintf("fmt.Errorf formats the error %s with %%%c: wrap it with %%w", types.ExprString(args[i]), verb)})
				}
				return true
			})
		}
	}
	return dedupe(out)
}

func isErrorf(info *types.Info, call *ast.CallExpr) bool {
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	fn, ok := info.Uses[sel.Sel].(*types.Func)
	return ok && fn.Pkg() != nil && fn.Pkg().Path() == "fmt" && fn.Name() == "Errorf"
}

// verbs returns, for each operand a format consumes in order, the verb that
// formats it ('*' for a width or precision operand). An explicit argument
// index ([n]) makes the rest unknowable here: verbs stops there.
func verbs(format string) []rune {
	var out []rune
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		for i++; i < len(format); i++ {
			c := format[i]
			switch {
			case c == '%':
				// "%%": a literal percent sign, no operand.
			case c == '[':
				return out
			case c == '*':
				out = append(out, '*')
				continue
			case strings.IndexByte("+-# 0.123456789", c) >= 0:
				continue
			default:
				out = append(out, rune(c))
			}
			break
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// dedupe sorts findings and drops repeats (a file belongs to both the
// package and the package compiled with its tests).
func dedupe(fs []Finding) []Finding {
	sort.Slice(fs, func(i, j int) bool { return fs[i].String() < fs[j].String() })
	out := fs[:0]
	for i, f := range fs {
		if i == 0 || f.String() != fs[i-1].String() {
			out = append(out, f)
		}
	}
	return out
}
