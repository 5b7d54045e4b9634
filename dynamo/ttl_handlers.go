package dynamo

import (
	"context"
	"fmt"
	"time"

	"github.com/partitadb/partita/partitapb"
)

// Time to live. UpdateTimeToLive records the table's TTL attribute and
// whether expired items are deleted; the partitions' leaders delete them
// (node's ttl job). As DynamoDB, a change is ENABLING or DISABLING for a
// while (TTLTransition here: the time every node takes to see it), and a
// table's TTL changes at most once per TTLChangeInterval.

const (
	// TTLTransition is how long a TTL change shows as ENABLING or
	// DISABLING: past the nodes' 5 s catch-up of table records, every
	// leader's sweeper follows it.
	TTLTransition = 10 * time.Second
	// TTLChangeInterval is how often a table's TTL may change: once an
	// hour, as DynamoDB.
	TTLChangeInterval = time.Hour
)

type updateTimeToLiveRequest struct {
	TableName               *string                  `json:"TableName"`
	TimeToLiveSpecification *timeToLiveSpecification `json:"TimeToLiveSpecification"`
}

type timeToLiveSpecification struct {
	AttributeName *string `json:"AttributeName"`
	Enabled       *bool   `json:"Enabled"`
}

type updateTimeToLiveResponse struct {
	TimeToLiveSpecification timeToLiveSpecification `json:"TimeToLiveSpecification"`
}

type describeTimeToLiveResponse struct {
	TimeToLiveDescription timeToLiveDescription `json:"TimeToLiveDescription"`
}

type timeToLiveDescription struct {
	TimeToLiveStatus string  `json:"TimeToLiveStatus"`
	AttributeName    *string `json:"AttributeName,omitempty"`
}

func (s *Server) handleUpdateTimeToLive(ctx context.Context, r *request) (any, error) {
	var req updateTimeToLiveRequest
	if err := decode(r.body, &req); err != nil {
		return nil, err
	}
	var v violations
	if err := tableParam(req.TableName, &v); err != nil {
		return nil, err
	}
	v.notNull(req.TimeToLiveSpecification != nil, "timeToLiveSpecification")
	if spec := req.TimeToLiveSpecification; spec != nil {
		v.notNull(spec.Enabled != nil, "timeToLiveSpecification.enabled")
		v.notNull(spec.AttributeName != nil, "timeToLiveSpecification.attributeName")
		if spec.AttributeName != nil {
			v.length(spec.AttributeName, "timeToLiveSpecification.attributeName", 1, 255)
		}
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	t, err := s.lookupTable(ctx, *req.TableName, true)
	if err != nil {
		return nil, err
	}
	spec := req.TimeToLiveSpecification
	enable, attr := *spec.Enabled, *spec.AttributeName
	now := s.cfg.Now()
	_, err = s.cfg.Backend.UpdateTable(ctx, t.GetName(), func(t *partitapb.Table) (*partitapb.Table, error) {
		switch {
		case enable && t.GetTtlEnabled():
			return nil, validationf("TimeToLive is already enabled")
		case !enable && !t.GetTtlEnabled():
			return nil, validationf("TimeToLive is already disabled")
		case !enable && attr != t.GetTtlAttribute():
			return nil, validationf("TimeToLive is active on a different AttributeName: current AttributeName is %s", t.GetTtlAttribute())
		case t.GetTtlChangedUnixNanos() != 0 && now.Sub(time.Unix(0, t.GetTtlChangedUnixNanos())) < TTLChangeInterval:
			return nil, validationf("Time to live has been modified multiple times within a fixed interval")
		}
		t.TtlEnabled, t.TtlAttribute, t.TtlChangedUnixNanos = enable, attr, now.UnixNano()
		return t, nil
	})
	switch {
	case isDomainCode(err, partitapb.Error_TABLE_NOT_FOUND):
		return nil, s.notFound(t.GetName(), true)
	case err != nil:
		return nil, fmt.Errorf("dynamo: update the time to live of %q: %w", t.GetName(), err)
	}
	return &updateTimeToLiveResponse{TimeToLiveSpecification: timeToLiveSpecification{AttributeName: &attr, Enabled: &enable}}, nil
}

func (s *Server) handleDescribeTimeToLive(ctx context.Context, r *request) (any, error) {
	t, err := s.namedTable(ctx, r)
	if err != nil {
		return nil, err
	}
	return &describeTimeToLiveResponse{TimeToLiveDescription: ttlDescription(t, s.cfg.Now())}, nil
}

// ttlDescription is t's TTL state at now.
func ttlDescription(t *partitapb.Table, now time.Time) timeToLiveDescription {
	changing := t.GetTtlChangedUnixNanos() != 0 && now.Sub(time.Unix(0, t.GetTtlChangedUnixNanos())) < TTLTransition
	attr := t.GetTtlAttribute()
	switch {
	case t.GetTtlEnabled() && changing:
		return timeToLiveDescription{TimeToLiveStatus: "ENABLING", AttributeName: &attr}
	case t.GetTtlEnabled():
		return timeToLiveDescription{TimeToLiveStatus: "ENABLED", AttributeName: &attr}
	case changing && attr != "":
		return timeToLiveDescription{TimeToLiveStatus: "DISABLING", AttributeName: &attr}
	}
	return timeToLiveDescription{TimeToLiveStatus: "DISABLED"}
}
