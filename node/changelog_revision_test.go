package node

import (
	"testing"

	"github.com/partitadb/partita/partitapb"
)

// TestChangeLogKeepsTheNewestRevision: a table's record older than the
// one a node installed its change log from (its cached directory, not yet
// refreshed since this node changed the view; a refresh that read before
// the change) does not take the view back. Before, the settings job's
// cycle reinstalled the cached record's view, and a write acknowledged
// after SetChangeView answered was logged under the old view (CI:
// TestChangeViewThroughAdmin, a put logged after the view became NONE).
func TestChangeLogKeepsTheNewestRevision(t *testing.T) {
	t.Parallel()
	n := startDev(t, nil)
	// The settings job installs the cached directory's tables (none) at
	// each cycle: paused, and its cycle in flight over, it stays out.
	pauseJob(t, n, SettingsCatchUpJob)
	at := func(rev uint64, v partitapb.ChangeView) []*partitapb.Table {
		return []*partitapb.Table{{Id: 42, Name: "logged", Revision: rev, ChangeView: v}}
	}
	view := func() partitapb.ChangeView {
		n.changeLogMu.Lock()
		defer n.changeLogMu.Unlock()
		return n.changeLogRevs[42].View
	}
	n.setChangeLogsOf(at(2, partitapb.ChangeView_NEW_AND_OLD_IMAGES))
	n.setChangeLogsOf(at(1, partitapb.ChangeView_CHANGE_VIEW_NONE))
	if got := view(); got != partitapb.ChangeView_NEW_AND_OLD_IMAGES {
		t.Fatalf("after an older record: view %v, want NEW_AND_OLD_IMAGES", got)
	}
	n.setChangeLogsOf(at(3, partitapb.ChangeView_CHANGE_VIEW_NONE))
	if got := view(); got != partitapb.ChangeView_CHANGE_VIEW_NONE {
		t.Fatalf("after a newer record: view %v, want none", got)
	}
}
