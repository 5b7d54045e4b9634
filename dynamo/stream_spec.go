package dynamo

import (
	"context"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/partitapb"
)

// streamViewTypes is StreamViewType's enum, in DynamoDB's order.
var streamViewTypes = []string{"NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"}

// defaultStreamRetention is how long a disabled stream, or a deleted
// table's, stays listed and readable when Config.StreamRetention is not
// set: 24 hours, as DynamoDB keeps a stream's records.
const defaultStreamRetention = 24 * time.Hour

// streamRetention is how long a disabled stream, or a deleted table's,
// stays listed and readable now.
func (s *Server) streamRetention() time.Duration {
	if s.cfg.StreamRetention != nil {
		if d := s.cfg.StreamRetention(); d > 0 {
			return d
		}
	}
	return defaultStreamRetention
}

// streamLabelLayout is a stream label: the time the stream was enabled,
// ISO 8601 to the millisecond, UTC, without a zone, as DynamoDB's.
const streamLabelLayout = "2006-01-02T15:04:05.000"

// streamSpecDescription is StreamSpecification in a TableDescription.
type streamSpecDescription struct {
	StreamEnabled  bool   `json:"StreamEnabled"`
	StreamViewType string `json:"StreamViewType,omitempty"`
}

// streamLabel is the label of a stream enabled at nanos.
func streamLabel(nanos int64) string {
	return time.Unix(0, nanos).UTC().Format(streamLabelLayout)
}

// streamARN is the ARN of table's stream enabled at nanos.
func (s *Server) streamARN(table string, nanos int64) string {
	return s.tableARN(table) + "/stream/" + streamLabel(nanos)
}

// viewName is the StreamViewType of a change view.
func viewName(v partitapb.ChangeView) string { return v.String() }

// parseView is the change view of a StreamViewType (checked already).
func parseView(s string) partitapb.ChangeView {
	return partitapb.ChangeView(partitapb.ChangeView_value[s])
}

// checkStreamSpecCreate validates CreateTable's StreamSpecification.
func checkStreamSpecCreate(spec *streamSpecification) error {
	if spec == nil {
		return nil
	}
	if err := checkStreamSpecShape(spec); err != nil {
		return err
	}
	enabled := spec.StreamEnabled != nil && *spec.StreamEnabled
	switch {
	case enabled && spec.StreamViewType == nil:
		return validationf("%sTable is being created with a stream enabled, UpdateViewType is required", msgInvalidParams)
	case !enabled && spec.StreamViewType != nil:
		return validationf("%sTable is being created with a stream disabled, UpdateViewType should not be specified", msgInvalidParams)
	}
	return nil
}

// checkStreamSpecShape is the shape validation of a StreamSpecification.
func checkStreamSpecShape(spec *streamSpecification) error {
	var v violations
	v.notNull(spec.StreamEnabled != nil, "streamSpecification.streamEnabled")
	v.enum(spec.StreamViewType, "streamSpecification.streamViewType", streamViewTypes...)
	return v.err()
}

// checkStreamSpecUpdate validates UpdateTable's StreamSpecification
// without the table.
func checkStreamSpecUpdate(spec *streamSpecification) error {
	if spec == nil {
		return nil
	}
	if err := checkStreamSpecShape(spec); err != nil {
		return err
	}
	enabled := *spec.StreamEnabled
	switch {
	case enabled && spec.StreamViewType == nil:
		return validationf("%sIf stream is being enabled then UpdateViewType is required", msgInvalidParams)
	case !enabled && spec.StreamViewType != nil:
		return validationf("%sIf stream is being disabled, then UpdateViewType must not be specified", msgInvalidParams)
	}
	return nil
}

// enableStream gives t a new stream of view at now.
func enableStream(t *partitapb.Table, view string, now time.Time) {
	t.Stream = &partitapb.StreamInfo{View: parseView(view), EnabledUnixNanos: now.UnixNano()}
	t.ChangeView = fsm.TableLogView(t)
}

// applyStreamUpdate enables or disables next's stream as spec asks, with
// DynamoDB's errors for a stream already enabled or none to disable, and
// for a stream still ENABLING or DISABLING. With settle, the stream it
// enables or disables is left settling for the node's stream-status job
// (docs/streams.md, "Status"). Disabled streams older than retention are
// forgotten.
func applyStreamUpdate(next *partitapb.Table, spec *streamSpecification, now time.Time, retention time.Duration, settle bool) error {
	if spec == nil {
		return nil
	}
	if *spec.StreamEnabled {
		if next.GetStream() != nil {
			return validationf("Table already has an enabled stream: TableName: %s", next.GetName())
		}
		if streamSettling(next) {
			return tableBeingUpdated(next)
		}
		enableStream(next, *spec.StreamViewType, now)
		if settle {
			next.StreamCuts = append(next.StreamCuts, &partitapb.StreamCuts{
				EnabledUnixNanos: next.GetStream().GetEnabledUnixNanos(), Settling: true})
		}
	} else {
		if next.GetStream() == nil {
			return validationf("Table has no stream to disable: TableName: %s", next.GetName())
		}
		if streamSettling(next) {
			return tableBeingUpdated(next)
		}
		old := proto.Clone(next.GetStream()).(*partitapb.StreamInfo)
		old.DisabledUnixNanos = now.UnixNano()
		next.PastStreams = append(next.PastStreams, old)
		next.Stream = nil
		next.ChangeView = fsm.TableLogView(next)
		if settle {
			c := streamCutsOf(next, old)
			if c == nil {
				c = &partitapb.StreamCuts{EnabledUnixNanos: old.GetEnabledUnixNanos()}
				next.StreamCuts = append(next.StreamCuts, c)
			}
			c.Settling = true
		}
	}
	kept := next.PastStreams[:0]
	for _, p := range next.PastStreams {
		if now.Sub(time.Unix(0, p.GetDisabledUnixNanos())) < retention {
			kept = append(kept, p)
		}
	}
	next.PastStreams = kept
	cuts := next.StreamCuts[:0]
	for _, c := range next.StreamCuts {
		if streamByEnabling(next, c.GetEnabledUnixNanos()) != nil {
			cuts = append(cuts, c)
		}
	}
	next.StreamCuts = cuts
	return nil
}

// tableBeingUpdated is DynamoDB's error for a change of a stream while
// the table's stream is still being enabled or disabled.
func tableBeingUpdated(t *partitapb.Table) error {
	return newError(kindResourceInUse, "Attempt to change a resource which is still in use: Table is being updated: %s", t.GetName())
}

// streamByEnabling returns t's stream (enabled, or disabled and kept)
// enabled at nanos, or nil.
func streamByEnabling(t *partitapb.Table, nanos int64) *partitapb.StreamInfo {
	if st := t.GetStream(); st != nil && st.GetEnabledUnixNanos() == nanos {
		return st
	}
	for _, p := range t.GetPastStreams() {
		if p.GetEnabledUnixNanos() == nanos {
			return p
		}
	}
	return nil
}

// streamCutsOf returns the cuts of t's stream st, or nil (a stream of a
// node without the stream-status job, or from before it).
func streamCutsOf(t *partitapb.Table, st *partitapb.StreamInfo) *partitapb.StreamCuts {
	for _, c := range t.GetStreamCuts() {
		if c.GetEnabledUnixNanos() == st.GetEnabledUnixNanos() {
			return c
		}
	}
	return nil
}

// streamSettling says whether one of t's streams is still ENABLING or
// DISABLING.
func streamSettling(t *partitapb.Table) bool {
	for _, c := range t.GetStreamCuts() {
		if c.GetSettling() {
			return true
		}
	}
	return false
}

// streamStatus is DescribeStream's StreamStatus of t's stream st. A
// deleted table's streams are DISABLED (its delete ended them).
func streamStatus(t *partitapb.Table, st *partitapb.StreamInfo) string {
	settling := streamCutsOf(t, st).GetSettling() && t.GetDeletedUnixNanos() == 0
	switch {
	case st.GetDisabledUnixNanos() == 0 && settling:
		return "ENABLING"
	case st.GetDisabledUnixNanos() == 0:
		return "ENABLED"
	case settling:
		return "DISABLING"
	}
	return "DISABLED"
}

// cutOf returns partition's sequence in cuts, and whether it has one.
func cutOf(cuts []*partitapb.StreamCut, partition uint64) (uint64, bool) {
	for _, c := range cuts {
		if c.GetPartition() == partition {
			return c.GetSeq(), true
		}
	}
	return 0, false
}

// streamStart is the sequence of partition's log that t's stream st
// starts after (0: none known).
func streamStart(t *partitapb.Table, st *partitapb.StreamInfo, partition uint64) uint64 {
	seq, _ := cutOf(streamCutsOf(t, st).GetStarts(), partition)
	return seq
}

// streamEnd is the last sequence of partition's log in t's disabled
// stream st, and whether it is known.
func streamEnd(t *partitapb.Table, st *partitapb.StreamInfo, partition uint64) (uint64, bool) {
	if st.GetDisabledUnixNanos() == 0 {
		return 0, false
	}
	return cutOf(streamCutsOf(t, st).GetEnds(), partition)
}

// inStream says whether change c of partition's log belongs to t's
// stream st: after the stream's start in that log and up to its end, as
// the stream-status job cut them when the stream settled; where a cut is
// not known (a stream from before cuts, a partition created since), by
// the record's time as inLife says.
func inStream(t *partitapb.Table, st *partitapb.StreamInfo, partition uint64, c fsm.Change) bool {
	start, hasStart := cutOf(streamCutsOf(t, st).GetStarts(), partition)
	if hasStart && c.Seq <= start {
		return false
	}
	if end, ok := streamEnd(t, st, partition); ok {
		if c.Seq > end {
			return false
		}
	} else if d := st.GetDisabledUnixNanos(); d != 0 && c.Record.GetUnixNanos() >= d {
		return false
	}
	return hasStart || afterPrevious(t, st, c.Record.GetUnixNanos())
}

// describeStream adds t's stream to its TableDescription d: the
// specification while enabled, the latest stream's ARN and label while
// any is known.
func (s *Server) describeStream(t *partitapb.Table, d *tableDescription) {
	latest := t.GetStream()
	if latest != nil {
		d.StreamSpecification = &streamSpecDescription{StreamEnabled: true, StreamViewType: viewName(latest.GetView())}
	} else if n := len(t.GetPastStreams()); n > 0 {
		latest = t.GetPastStreams()[n-1]
	}
	if latest != nil {
		d.LatestStreamArn = s.streamARN(t.GetName(), latest.GetEnabledUnixNanos())
		d.LatestStreamLabel = streamLabel(latest.GetEnabledUnixNanos())
	}
}

// tableStreams lists t's streams still visible at now: the disabled ones
// within retention, then the enabled one.
func tableStreams(t *partitapb.Table, now time.Time, retention time.Duration) []*partitapb.StreamInfo {
	var out []*partitapb.StreamInfo
	for _, p := range t.GetPastStreams() {
		if now.Sub(time.Unix(0, p.GetDisabledUnixNanos())) < retention {
			out = append(out, p)
		}
	}
	if st := t.GetStream(); st != nil {
		out = append(out, st)
	}
	return out
}

// parseStreamARN returns the table name and label of a stream ARN of this
// node's region and account.
func (s *Server) parseStreamARN(arn string) (table, label string, ok bool) {
	tableARN, label, found := strings.Cut(arn, "/stream/")
	if !found {
		return "", "", false
	}
	table, ok = s.tableNameFromARN(tableARN)
	return table, label, ok && label != ""
}

// afterPrevious says whether a change of t written at nanos was written
// after the stream before st was disabled. (Not "after st was enabled":
// the log keeps nothing before that unless another reader needs it, and
// the enabling node's clock is not the clock of the leader that stamped
// the record.)
func afterPrevious(t *partitapb.Table, st *partitapb.StreamInfo, nanos int64) bool {
	for _, p := range t.GetPastStreams() {
		if d := p.GetDisabledUnixNanos(); d <= st.GetEnabledUnixNanos() && nanos < d {
			return false
		}
	}
	return true
}

// checkStreamsAllowed refuses to enable a stream when Config.StreamsAllowed
// says the cluster cannot keep its records.
func (s *Server) checkStreamsAllowed(spec *streamSpecification) error {
	if spec == nil || spec.StreamEnabled == nil || !*spec.StreamEnabled || s.cfg.StreamsAllowed == nil {
		return nil
	}
	if err := s.cfg.StreamsAllowed(); err != nil {
		return validationf("%sStreams cannot be enabled: %s", msgInvalidParams, err.Error())
	}
	return nil
}

// streamsChanged tells the node that a table's stream changed.
func (s *Server) streamsChanged(ctx context.Context) {
	if s.cfg.StreamsChanged != nil {
		s.cfg.StreamsChanged(ctx)
	}
}
