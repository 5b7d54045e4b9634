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

// tableLogView is what t's change log must keep for its stream, its
// global secondary indexes and its point-in-time recovery together: the
// one place Table.change_view is set (at CreateTable, and whenever
// UpdateTable or UpdateContinuousBackups changes one of them).
func tableLogView(t *partitapb.Table) partitapb.ChangeView {
	v := fsm.LogView(t.GetStream().GetView(), len(t.GetGlobalIndexes()))
	if t.GetPointInTimeRecovery() != nil {
		v = fsm.WithOldImages(v)
	}
	return v
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
	t.ChangeView = tableLogView(t)
}

// applyStreamUpdate enables or disables next's stream as spec asks, with
// DynamoDB's errors for a stream already enabled or none to disable.
// Disabled streams older than retention are forgotten.
func applyStreamUpdate(next *partitapb.Table, spec *streamSpecification, now time.Time, retention time.Duration) error {
	if spec == nil {
		return nil
	}
	if *spec.StreamEnabled {
		if next.GetStream() != nil {
			return validationf("Table already has an enabled stream: TableName: %s", next.GetName())
		}
		enableStream(next, *spec.StreamViewType, now)
	} else {
		if next.GetStream() == nil {
			return validationf("Table has no stream to disable: TableName: %s", next.GetName())
		}
		old := proto.Clone(next.GetStream()).(*partitapb.StreamInfo)
		old.DisabledUnixNanos = now.UnixNano()
		next.PastStreams = append(next.PastStreams, old)
		next.Stream = nil
		next.ChangeView = tableLogView(next)
	}
	kept := next.PastStreams[:0]
	for _, p := range next.PastStreams {
		if now.Sub(time.Unix(0, p.GetDisabledUnixNanos())) < retention {
			kept = append(kept, p)
		}
	}
	next.PastStreams = kept
	return nil
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

// inLife says whether a change of t written at nanos belongs to its
// stream st: written before st was disabled, and after the stream before
// it was. (Not "after st was enabled": the log keeps nothing before that
// unless another reader needs it, and the enabling node's clock is not
// the clock of the leader that stamped the record.)
func inLife(t *partitapb.Table, st *partitapb.StreamInfo, nanos int64) bool {
	if d := st.GetDisabledUnixNanos(); d != 0 && nanos >= d {
		return false
	}
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
