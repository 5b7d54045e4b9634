package dynamo

import (
	"testing"
	"time"

	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/partitapb"
)

// TestPointInTimeRecoveryChangeView: enabling point-in-time recovery
// makes a table's change log keep old images on top of what its stream
// and global indexes need; disabling it gives back exactly what they
// need; the first enabling time is kept when only the period changes.
func TestPointInTimeRecoveryChangeView(t *testing.T) {
	cases := []struct {
		stream      partitapb.ChangeView
		gsi         bool
		on, off     partitapb.ChangeView
		description string
	}{
		{partitapb.ChangeView_CHANGE_VIEW_NONE, false, partitapb.ChangeView_OLD_IMAGE, partitapb.ChangeView_CHANGE_VIEW_NONE, "no stream"},
		{partitapb.ChangeView_KEYS_ONLY, false, partitapb.ChangeView_OLD_IMAGE, partitapb.ChangeView_KEYS_ONLY, "keys only"},
		{partitapb.ChangeView_NEW_IMAGE, false, partitapb.ChangeView_NEW_AND_OLD_IMAGES, partitapb.ChangeView_NEW_IMAGE, "new image"},
		{partitapb.ChangeView_OLD_IMAGE, false, partitapb.ChangeView_OLD_IMAGE, partitapb.ChangeView_OLD_IMAGE, "old image"},
		{partitapb.ChangeView_CHANGE_VIEW_NONE, true, partitapb.ChangeView_NEW_AND_OLD_IMAGES, partitapb.ChangeView_NEW_AND_OLD_IMAGES, "global index"},
	}
	now := time.Unix(1000, 0)
	for _, c := range cases {
		tb := &partitapb.Table{Name: "t"}
		if c.stream != partitapb.ChangeView_CHANGE_VIEW_NONE {
			tb.Stream = &partitapb.StreamInfo{View: c.stream}
		}
		if c.gsi {
			tb.GlobalIndexes = []*partitapb.GlobalIndex{{Name: "g"}}
		}
		tb.ChangeView = fsm.TableLogView(tb)
		setPointInTimeRecovery(tb, true, nil, now, time.Time{})
		if tb.GetChangeView() != c.on || tb.GetPointInTimeRecovery().GetRecoveryPeriodDays() != defaultRecoveryDays {
			t.Fatalf("%s, enabled: view %v, %+v; want %v", c.description, tb.GetChangeView(), tb.GetPointInTimeRecovery(), c.on)
		}
		days := int64(3)
		setPointInTimeRecovery(tb, true, &days, now.Add(time.Hour), now.Add(time.Minute))
		if p := tb.GetPointInTimeRecovery(); p.GetEnabledUnixNanos() != now.UnixNano() || p.GetRecoveryPeriodDays() != 3 ||
			p.GetWindowFloorUnixNanos() != now.Add(time.Minute).UnixNano() {
			t.Fatalf("%s, period changed: %+v", c.description, p)
		}
		setPointInTimeRecovery(tb, false, nil, now, time.Time{})
		if tb.GetChangeView() != c.off || tb.GetPointInTimeRecovery() != nil {
			t.Fatalf("%s, disabled: view %v, %+v; want %v", c.description, tb.GetChangeView(), tb.GetPointInTimeRecovery(), c.off)
		}
	}
}
