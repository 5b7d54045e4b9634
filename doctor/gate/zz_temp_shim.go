// Package gate: temporary shim of the API, replaced by the real package at merge.
package gate

import (
	"time"

	"github.com/partitadb/partita/doctor/checker"
)

type Color int

const (
	Green Color = iota + 1
	Yellow
	Red
)

func (c Color) String() string { return [...]string{"", "green", "yellow", "red"}[c] }

func ParseColor(s string) (Color, error) { return Green, nil }

type Gates map[checker.Kind]Color

func Default() Gates                          { return Gates{} }
func (g Gates) Color(k checker.Kind) Color { return Green }

type Limits struct{ PerNode, PerZone, PerCluster, StartsPerMinute int }

func DefaultLimits() Limits { return Limits{2, 4, 8, 30} }

type Running struct {
	Op      checker.Op
	Started time.Time
}

type Decision int

const (
	Run Decision = iota
	Hold
	AwaitApproval
	Stale
	Refuse
)

type Verdict struct {
	Decision Decision
	Reasons  []string
}

func Admit(op checker.Op, cur checker.View, cfg checker.Config, running []Running, starts []time.Time,
	color Color, approved bool, limits Limits, now time.Time) Verdict {
	return Verdict{}
}

type StepKind string

func CheckStep(kind StepKind, partition, node uint64, cur checker.View, cfg checker.Config) Verdict {
	return Verdict{}
}
