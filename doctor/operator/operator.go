package operator

import (
	"context"
	"fmt"
	"strings"
)

// Operator is a named sequence of steps that changes the cluster toward
// one goal (one replica moved, for example). Its steps run in order, each
// once the previous one succeeded.
type Operator struct {
	Name  string
	Steps []Step
}

// String lists the operator's steps, one a line.
func (o *Operator) String() string {
	var b strings.Builder
	b.WriteString(o.Name)
	b.WriteString(":\n")
	for i, s := range o.Steps {
		fmt.Fprintf(&b, "  %d. %s\n", i+1, s)
	}
	return b.String()
}

// StepError is the error of an operator that stopped at a step.
type StepError struct {
	Step Step
	Err  error
}

func (e *StepError) Error() string { return fmt.Sprintf("%s: %v", e.Step, e.Err) }
func (e *StepError) Unwrap() error { return e.Err }

// Run runs o's steps in order through e, each within StepTimeout, and
// stops at the first that fails (a *StepError). Running o again resumes
// it: the steps done already succeed at once.
func Run(ctx context.Context, e *Env, o *Operator) error {
	for _, s := range o.Steps {
		if err := runStep(ctx, e, s); err != nil {
			e.log.Info("operator step failed", "operator", o.Name, "step", s.String(), "err", err)
			return &StepError{Step: s, Err: err}
		}
		e.log.Debug("operator step done", "operator", o.Name, "step", s.String())
	}
	return nil
}

func runStep(ctx context.Context, e *Env, s Step) error {
	ctx, cancel := context.WithTimeout(ctx, StepTimeout)
	defer cancel()
	return s.Run(ctx, e)
}
