package directory

import (
	"time"

	"github.com/partitadb/partita/partitapb"
)

// HeartbeatInterval is how often a node refreshes its directory record;
// liveness derives from the age of that record's heartbeat.
const HeartbeatInterval = 2 * time.Second

// Liveness is a node's state as its heartbeats show it.
type Liveness string

// The liveness states: a node is suspect after missing a few heartbeats,
// and dead after missing them for much longer.
const (
	Alive   Liveness = "alive"
	Suspect Liveness = "suspect"
	Dead    Liveness = "dead"
)

// NodeLiveness classifies rec's last heartbeat as of now.
func NodeLiveness(rec *partitapb.Node, now time.Time) Liveness {
	age := now.Sub(time.Unix(0, rec.GetHeartbeatUnixNanos()))
	switch {
	case age < 3*HeartbeatInterval:
		return Alive
	case age < 15*HeartbeatInterval:
		return Suspect
	default:
		return Dead
	}
}

// Decommissioning says rec carries a decommissioning mark: the node takes
// no new replica or leadership, and the Doctor moves its replicas away.
func Decommissioning(rec *partitapb.Node) bool {
	return rec.GetDecommissioningUnixNanos() != 0
}

// Draining says rec carries a drain mark: the node's process was drained
// and has not restarted since; it takes no leadership.
func Draining(rec *partitapb.Node) bool {
	return rec.GetDrainingUnixNanos() != 0
}

// AvoidsLeading says the node of rec should lead no partition while
// another voter can: it is decommissioning or draining.
func AvoidsLeading(rec *partitapb.Node) bool {
	return Decommissioning(rec) || Draining(rec)
}
