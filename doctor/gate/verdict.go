package gate

import (
	"fmt"
	"strings"
)

// Decision is what the doctor does with an operation or step.
type Decision int

// The decisions; the zero Decision is none of them, so that a Verdict
// left unset never reads as Run.
const (
	// Run: go ahead.
	Run Decision = iota + 1
	// Hold: not now; ask again in a later cycle.
	Hold
	// AwaitApproval: the operation's gate is red and no operator has
	// approved it.
	AwaitApproval
	// Stale: the plan is out of date; drop the operation and record why.
	Stale
	// Refuse: acting would be unsafe.
	Refuse
)

func (d Decision) String() string {
	switch d {
	case Run:
		return "run"
	case Hold:
		return "hold"
	case AwaitApproval:
		return "await-approval"
	case Stale:
		return "stale"
	case Refuse:
		return "refuse"
	}
	return fmt.Sprintf("decision(%d)", int(d))
}

// Verdict is the judgement of one operation or step.
type Verdict struct {
	Decision Decision
	// Reasons say why, in words stable enough for tests to compare.
	Reasons []string
}

// String is the decision, then its reasons joined by "; ".
func (v Verdict) String() string {
	if len(v.Reasons) == 0 {
		return v.Decision.String()
	}
	return v.Decision.String() + ": " + strings.Join(v.Reasons, "; ")
}

func verdict(d Decision, reasons ...string) Verdict {
	return Verdict{Decision: d, Reasons: reasons}
}
