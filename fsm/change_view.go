package fsm

import "github.com/partitadb/partita/partitapb"

// LogView is the change view a table's change log must keep so that both
// of its readers find what they need: its stream (the StreamViewType the
// table's StreamSpecification names, CHANGE_VIEW_NONE without a stream)
// and its global secondary indexes, which need both images of every
// write (an index entry moves when its key attributes change, and the
// old entry is found from the old image). A stream reader shows only
// what its own view names of the records it reads.
//
// Whatever sets a table's stream or indexes sets Table.change_view to
// LogView of the result.
func LogView(stream partitapb.ChangeView, globalIndexes int) partitapb.ChangeView {
	if globalIndexes > 0 {
		return partitapb.ChangeView_NEW_AND_OLD_IMAGES
	}
	return stream
}

// WithOldImages is view widened to keep the old image of every write,
// as point-in-time recovery needs (the value of a key at a time is the
// old image of its first write after it): the union of view and
// OLD_IMAGE.
func WithOldImages(view partitapb.ChangeView) partitapb.ChangeView {
	switch view {
	case partitapb.ChangeView_NEW_IMAGE, partitapb.ChangeView_NEW_AND_OLD_IMAGES:
		return partitapb.ChangeView_NEW_AND_OLD_IMAGES
	}
	return partitapb.ChangeView_OLD_IMAGE
}

// TableLogView is what t's change log must keep for its stream, its
// global secondary indexes and its point-in-time recovery together: the
// view Table.change_view is set to at CreateTable, and whenever an
// update changes one of them. An operator's view (the ctl change-view)
// may keep more, never less.
func TableLogView(t *partitapb.Table) partitapb.ChangeView {
	v := LogView(t.GetStream().GetView(), len(t.GetGlobalIndexes()))
	if t.GetPointInTimeRecovery() != nil {
		v = WithOldImages(v)
	}
	return v
}
