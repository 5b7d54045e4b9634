package admin

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/partitadb/partita/doctor/upgrade"
	"github.com/partitadb/partita/partitapb"
)

// The upgrade routes, served by every node of a cluster:
//
//	GET  /upgrade/status   upgrade.Status: the active cluster version, each
//	                       node's binary and versions, what blocks
//	                       finalisation (307 to the active Doctor's node,
//	                       which judges health)
//	POST /upgrade/hold     [reason= by=]: stop automatic finalisation
//	POST /upgrade/release  [by=]: let it go on

// Upgrades is what the upgrade routes need of a node.
type Upgrades interface {
	// UpgradeStatus is the upgrade's status as the active Doctor sees it,
	// or a *DoctorElsewhereError naming the active Doctor's node.
	UpgradeStatus(ctx context.Context) (upgrade.Status, error)
	// UpgradeHold holds (or releases) automatic finalisation.
	UpgradeHold(ctx context.Context, hold bool, by, reason string) (upgrade.Status, error)
}

// UpgradeHandler returns the /upgrade/ routes served by u.
func UpgradeHandler(u Upgrades) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /upgrade/status", func(w http.ResponseWriter, r *http.Request) {
		st, err := u.UpgradeStatus(r.Context())
		replyOrRedirect(w, r, st, err)
	})
	for _, verb := range []string{"hold", "release"} {
		mux.HandleFunc("POST /upgrade/"+verb, func(w http.ResponseWriter, r *http.Request) {
			st, err := u.UpgradeHold(r.Context(), verb == "hold", by(r), r.URL.Query().Get("reason"))
			reply(w, st, err)
		})
	}
	return mux
}

// UpgradeKind is the kind of the timeline entry that records the last
// change of the cluster version.
const UpgradeKind = "upgrade"

// VersionTimeline is the last change of the cluster version as a
// timeline entry; false when it never changed after the cluster began.
func VersionTimeline(v *partitapb.ClusterVersion) (TimelineEntry, bool) {
	if v.GetPrevious() == 0 || v.GetChangedUnixNanos() == 0 {
		return TimelineEntry{}, false
	}
	at := time.Unix(0, v.GetChangedUnixNanos()).UTC()
	return TimelineEntry{Kind: UpgradeKind, Checker: "upgrade", Gate: "green", State: "succeeded",
		Reasons: []string{"every node runs a binary that supports the next version, and the Doctor's health stayed green for the soak"},
		Created: at, Updated: at, DecidedBy: v.GetChangedBy(),
		Outcome: fmt.Sprintf("cluster version %d finalised (from %d)", v.GetActive(), v.GetPrevious())}, true
}

// MatchesKind says e passes q's filters, for an entry that names no
// partition or node (a cluster-wide one).
func (q TimelineQuery) MatchesKind(e TimelineEntry) bool {
	return q.Partition == 0 && q.Node == 0 && (q.Kind == "" || q.Kind == e.Kind) &&
		(q.State == "" || q.State == e.State) && (q.Since.IsZero() || !e.Created.Before(q.Since))
}
