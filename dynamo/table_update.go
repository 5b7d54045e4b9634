package dynamo

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/partitapb"
)

// updateTableRequest is UpdateTable's input.
type updateTableRequest struct {
	TableName                   *string                `json:"TableName"`
	AttributeDefinitions        []attributeDefinition  `json:"AttributeDefinitions"`
	BillingMode                 *string                `json:"BillingMode"`
	ProvisionedThroughput       *provisionedThroughput `json:"ProvisionedThroughput"`
	DeletionProtectionEnabled   *bool                  `json:"DeletionProtectionEnabled"`
	TableClass                  *string                `json:"TableClass"`
	GlobalSecondaryIndexUpdates []globalIndexUpdate    `json:"GlobalSecondaryIndexUpdates"`
	StreamSpecification         *streamSpecification   `json:"StreamSpecification"`
	SSESpecification            any                    `json:"SSESpecification"`
	ReplicaUpdates              []any                  `json:"ReplicaUpdates"`
}

func (s *Server) handleUpdateTable(ctx context.Context, r *request) (any, error) {
	var req updateTableRequest
	if err := decode(r.body, &req); err != nil {
		return nil, err
	}
	if err := checkUpdateTable(&req); err != nil {
		return nil, err
	}
	t, err := s.lookupTable(ctx, *req.TableName, true)
	if err != nil {
		return nil, err
	}
	if tableStatus(t) == statusCreating {
		return nil, newError(kindResourceInUse, "Attempt to change a resource which is still in use: Table is being created: %s", t.GetName())
	}
	if err := s.checkStreamsAllowed(req.StreamSpecification); err != nil {
		return nil, err
	}
	updated, err := s.cfg.Backend.UpdateTable(ctx, t.GetName(), func(cur *partitapb.Table) (*partitapb.Table, error) {
		return s.applyTableUpdate(cur, &req)
	})
	if isDomainCode(err, partitapb.Error_TABLE_NOT_FOUND) {
		return nil, s.notFound(*req.TableName, true)
	}
	if err != nil {
		return nil, fmt.Errorf("dynamo: update table %q: %w", t.GetName(), err)
	}
	if updated, err = s.finishIndexUpdates(ctx, updated, &req); err != nil {
		return nil, err
	}
	if req.StreamSpecification != nil {
		s.streamsChanged(ctx)
	}
	items, bytes, err := s.cfg.Backend.TableStats(ctx, updated)
	if err != nil {
		return nil, fmt.Errorf("dynamo: table stats of %q: %w", t.GetName(), err)
	}
	return &tableResponse{TableDescription: s.describe(updated, items, bytes)}, nil
}

// checkUpdateTable validates what can be validated without the table.
func checkUpdateTable(req *updateTableRequest) error {
	var v violations
	if err := tableParam(req.TableName, &v); err != nil {
		return err
	}
	v.enum(req.BillingMode, "billingMode", billingModes...)
	v.enum(req.TableClass, "tableClass", tableClasses...)
	v.throughput(req.ProvisionedThroughput, "provisionedThroughput")
	if err := v.err(); err != nil {
		return err
	}
	if err := checkIndexUpdatesShape(req.GlobalSecondaryIndexUpdates); err != nil {
		return err
	}
	if req.BillingMode == nil && req.ProvisionedThroughput == nil && req.DeletionProtectionEnabled == nil &&
		req.TableClass == nil && req.GlobalSecondaryIndexUpdates == nil && req.StreamSpecification == nil &&
		req.SSESpecification == nil && req.ReplicaUpdates == nil {
		return validationf("At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required")
	}
	switch {
	case req.ReplicaUpdates != nil:
		return validationf("%sReplicaUpdates are not supported yet by Partita", msgInvalidParams)
	}
	if err := checkStreamSpecUpdate(req.StreamSpecification); err != nil {
		return err
	}
	return checkThroughputBounds(req.ProvisionedThroughput)
}

// applyTableUpdate returns a copy of t with the request's changes, or the
// error DynamoDB gives for a change that does not apply to t.
func (s *Server) applyTableUpdate(t *partitapb.Table, req *updateTableRequest) (*partitapb.Table, error) {
	next := proto.Clone(t).(*partitapb.Table)
	if err := s.applyBilling(next, req); err != nil {
		return nil, err
	}
	if req.DeletionProtectionEnabled != nil {
		next.DeletionProtectionEnabled = *req.DeletionProtectionEnabled
	}
	if req.TableClass != nil {
		next.TableClass = *req.TableClass
	}
	if err := applyIndexUpdates(next, req); err != nil {
		return nil, err
	}
	if err := applyStreamUpdate(next, req.StreamSpecification, s.cfg.Now(), s.streamRetention(), s.cfg.StreamStatus != nil && s.cfg.StreamStatus()); err != nil {
		return nil, err
	}
	return next, nil
}

// applyBilling applies BillingMode and ProvisionedThroughput to next.
func (s *Server) applyBilling(next *partitapb.Table, req *updateTableRequest) error {
	current := next.GetBillingMode()
	mode := current
	if req.BillingMode != nil {
		mode = *req.BillingMode
	}
	pt := req.ProvisionedThroughput
	switch {
	case mode == billingPayPerRequest && pt != nil:
		return validationf("%s", msgNoThroughputOnPPR)
	case mode == billingPayPerRequest:
		next.BillingMode = billingPayPerRequest
		return nil
	case pt == nil && current == billingPayPerRequest:
		return validationf("%sProvisionedThroughput must be specified when BillingMode is PROVISIONED", msgInvalidParams)
	case pt == nil:
		return nil
	}
	r, w := *pt.ReadCapacityUnits, *pt.WriteCapacityUnits
	if current != billingPayPerRequest && r == next.GetReadCapacityUnits() && w == next.GetWriteCapacityUnits() {
		return unchangedThroughput(next, r, w)
	}
	next.BillingMode = billingProvisioned
	s.setThroughput(next, r, w, current == billingPayPerRequest)
	return nil
}

// unchangedThroughput is DynamoDB's error for a no-op throughput update.
func unchangedThroughput(t *partitapb.Table, r, w int64) error {
	return validationf("The provisioned throughput for the table will not change. The requested value equals the current value. "+
		"Current ReadCapacityUnits provisioned for the table: %d. Requested ReadCapacityUnits: %d. "+
		"Current WriteCapacityUnits provisioned for the table: %d. Requested WriteCapacityUnits: %d. "+
		"Refer to the Amazon DynamoDB Developer Guide for current limits and how to request higher limits.",
		t.GetReadCapacityUnits(), r, t.GetWriteCapacityUnits(), w)
}

// setThroughput records new capacities and the increase/decrease times.
// A switch from on-demand counts as neither.
func (s *Server) setThroughput(t *partitapb.Table, r, w int64, fromOnDemand bool) {
	now := s.cfg.Now()
	if !fromOnDemand {
		if r > t.GetReadCapacityUnits() || w > t.GetWriteCapacityUnits() {
			t.LastIncreaseUnixNanos = now.UnixNano()
		}
		if r < t.GetReadCapacityUnits() || w < t.GetWriteCapacityUnits() {
			if !sameUTCDay(t.GetLastDecreaseUnixNanos(), now) {
				t.DecreasesToday = 0
			}
			t.DecreasesToday++
			t.LastDecreaseUnixNanos = now.UnixNano()
		}
	}
	t.ReadCapacityUnits, t.WriteCapacityUnits = r, w
}

// sameUTCDay reports whether nanos falls on the UTC day of now.
func sameUTCDay(nanos int64, now time.Time) bool {
	if nanos == 0 {
		return false
	}
	y1, m1, d1 := time.Unix(0, nanos).UTC().Date()
	y2, m2, d2 := now.UTC().Date()
	return y1 == y2 && m1 == m2 && d1 == d2
}
