package gate

import (
	"errors"
	"fmt"

	"github.com/partitadb/partita/doctor/checker"
)

// ErrColor is returned by ParseColor for a name that is no colour.
var ErrColor = errors.New("gate: unknown colour")

// Color is an operation kind's traffic light: how much the doctor may do
// on its own.
type Color int

// The colours; the zero Color is none of them, and Admit refuses it.
const (
	// Green runs automatically, bounded only per cluster.
	Green Color = iota + 1
	// Yellow runs once validated and within the rate limits.
	Yellow
	// Red waits for an operator's approval.
	Red
)

func (c Color) String() string {
	switch c {
	case Green:
		return "green"
	case Yellow:
		return "yellow"
	case Red:
		return "red"
	}
	return fmt.Sprintf("color(%d)", int(c))
}

// ParseColor reads "green", "yellow" or "red".
func ParseColor(s string) (Color, error) {
	for _, c := range []Color{Green, Yellow, Red} {
		if s == c.String() {
			return c, nil
		}
	}
	return 0, fmt.Errorf("%w %q: want green, yellow or red", ErrColor, s)
}

// Gates maps an operation kind to its colour. A kind it lacks is yellow.
type Gates map[checker.Kind]Color

// Default gives every checker.Kind its colour: repairs green,
// improvements (moves for zone spread or balance, removals of healthy
// surplus voters) yellow; moves off a decommissioning node yellow (they
// run on their own, within the per-node limits), the removal of its
// record once empty green.
func Default() Gates {
	return Gates{
		checker.ReplaceReplica:     Green,
		checker.AddReplica:         Green,
		checker.RollForwardLearner: Green,
		checker.RollBackLearner:    Green,
		checker.LeaveJoint:         Green,
		checker.SetReplicas:        Green,
		checker.TransferLeader:     Green,
		checker.Split:              Yellow, // rate-limited: bursts of splits must not become snapshot storms
		checker.Merge:              Yellow,
		checker.MoveReplica:        Yellow,
		checker.RemoveReplica:      Yellow,
		checker.Decommission:       Yellow, // asked for, but bounded per node: a leaving node sends every replica
		checker.RemoveNode:         Green,
	}
}

// Color returns k's colour: yellow for a kind g does not know (a new kind
// runs validated and rate-limited until someone decides otherwise).
func (g Gates) Color(k checker.Kind) Color {
	if c, ok := g[k]; ok {
		return c
	}
	return Yellow
}
