package sim

import (
	"strings"
	"time"

	"github.com/partitadb/partita/doctor/checker"
	"github.com/partitadb/partita/doctor/gate"
)

// Gates returns the hooks that judge operations as the Doctor does: Admit
// through gate.Admit (stale plans, one operation per partition, safety,
// the colours of gates and the rate limits, with the starts of the last
// minute kept by the returned closure) and CheckStep through
// gate.CheckStep. cfg gives the checkers' config at a time.
func Gates(gates gate.Gates, limits gate.Limits, cfg func(time.Time) checker.Config) (AdmitFunc, StepFunc) {
	var starts []time.Time
	admit := func(op checker.Op, cur checker.View, running []Running, now time.Time) (bool, string) {
		kept := starts[:0]
		for _, s := range starts {
			if now.Sub(s) <= time.Minute {
				kept = append(kept, s)
			}
		}
		starts = kept
		rs := make([]gate.Running, 0, len(running))
		for _, r := range running {
			rs = append(rs, gate.Running{Op: r.Op, Started: r.Started})
		}
		vd := gate.Admit(op, cur, cfg(now), rs, starts, gates.Color(op.Kind), false, limits, now)
		if vd.Decision != gate.Run {
			return false, strings.Join(vd.Reasons, "; ")
		}
		starts = append(starts, now)
		return true, ""
	}
	step := func(name string, partition, node uint64, cur checker.View, now time.Time) (bool, string) {
		vd := gate.CheckStep(gate.StepKind(name), partition, node, cur, cfg(now))
		return vd.Decision == gate.Run, strings.Join(vd.Reasons, "; ")
	}
	return admit, step
}
