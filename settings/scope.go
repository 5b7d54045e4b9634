package settings

import (
	"fmt"
	"strings"
)

// ScopeKind is what an override applies to. Later kinds are more
// specific and win over earlier ones.
type ScopeKind int

// The scopes of an override, least specific first.
const (
	ScopeCluster ScopeKind = iota + 1
	ScopeZone
	ScopeNode
	ScopeTable
)

// Scope is where an override applies: the whole cluster, or one zone,
// node or table.
type Scope struct {
	Kind ScopeKind
	Name string // the zone, node id or table; empty for the cluster
}

// Cluster is the scope of the whole cluster.
var Cluster = Scope{Kind: ScopeCluster}

var scopePrefixes = map[ScopeKind]string{ScopeZone: "zone", ScopeNode: "node", ScopeTable: "table"}

// String is the scope as ParseScope reads it: cluster, zone:Z, node:N,
// table:T.
func (s Scope) String() string {
	if s.Kind == ScopeCluster {
		return "cluster"
	}
	return scopePrefixes[s.Kind] + ":" + s.Name
}

// ParseScope reads cluster, zone:Z, node:N (a node id) or table:T.
func ParseScope(text string) (Scope, error) {
	if text == "cluster" || text == "" {
		return Cluster, nil
	}
	prefix, name, ok := strings.Cut(text, ":")
	if ok && name != "" && strings.TrimSpace(name) == name {
		for k, p := range scopePrefixes {
			if p == prefix && (k != ScopeNode || isNodeID(name)) {
				return Scope{Kind: k, Name: name}, nil
			}
		}
	}
	return Scope{}, fmt.Errorf("%w: %q: want cluster, zone:ZONE, node:ID or table:NAME", ErrBadScope, text)
}

func isNodeID(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != "" && s[0] != '0'
}

// Target is what one reader's value is resolved for: a node, its zone,
// and for table settings the table.
type Target struct {
	Node  string // node id
	Zone  string
	Table string
}

// matches reports whether an override at s applies to t.
func (s Scope) matches(t Target) bool {
	switch s.Kind {
	case ScopeCluster:
		return true
	case ScopeZone:
		return s.Name == t.Zone
	case ScopeNode:
		return s.Name == t.Node
	case ScopeTable:
		return s.Name == t.Table
	}
	return false
}
