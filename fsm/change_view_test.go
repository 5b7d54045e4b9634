package fsm_test

import (
	"testing"

	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/partitapb"
)

func TestLogView(t *testing.T) {
	for _, tc := range []struct {
		stream  partitapb.ChangeView
		indexes int
		want    partitapb.ChangeView
	}{
		{partitapb.ChangeView_CHANGE_VIEW_NONE, 0, partitapb.ChangeView_CHANGE_VIEW_NONE},
		{partitapb.ChangeView_KEYS_ONLY, 0, partitapb.ChangeView_KEYS_ONLY},
		{partitapb.ChangeView_NEW_IMAGE, 0, partitapb.ChangeView_NEW_IMAGE},
		{partitapb.ChangeView_CHANGE_VIEW_NONE, 1, partitapb.ChangeView_NEW_AND_OLD_IMAGES},
		{partitapb.ChangeView_KEYS_ONLY, 3, partitapb.ChangeView_NEW_AND_OLD_IMAGES},
	} {
		if got := fsm.LogView(tc.stream, tc.indexes); got != tc.want {
			t.Errorf("LogView(%v, %d) = %v, want %v", tc.stream, tc.indexes, got, tc.want)
		}
	}
}
