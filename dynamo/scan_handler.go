package dynamo

import (
	"context"
	"errors"
	"math/bits"

	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/router"
)

// scanRequest is Scan's input.
type scanRequest struct {
	readParams
	ScanFilter    map[string]filterCondition `json:"ScanFilter"`
	Segment       *int64                     `json:"Segment"`
	TotalSegments *int64                     `json:"TotalSegments"`
}

// maxTotalSegments is the largest TotalSegments DynamoDB accepts.
const maxTotalSegments = 1000000

func (s *Server) handleScan(ctx context.Context, r *request) (any, error) {
	var req scanRequest
	if err := decode(r.body, &req); err != nil {
		return nil, err
	}
	req.legacyFilter = req.ScanFilter
	ex, t, _, err := s.openRead(ctx, &req, &req.readParams)
	if err != nil {
		return nil, err
	}
	spec, err := req.spec(req.pageKeys)
	if err != nil {
		return nil, err
	}
	pg := req.newPage(nil, ex)
	var fetchErr error
	err = s.cfg.Backend.Scan(ctx, t, spec, s.localVisit(ctx, &req.readParams, pg, &fetchErr))
	if err = errors.Join(err, fetchErr); err != nil {
		return nil, s.backendError("scan", t, err)
	}
	return pg.response(req.ReturnConsumedCapacity, req.apiTable, req.consistent()), nil
}

// checkShape validates the parameters before any expression is parsed.
func (req *scanRequest) checkShape() error {
	var v violations
	req.check(&v)
	v.filterConditions(req.ScanFilter, "scanFilter")
	if req.Segment != nil && (*req.Segment < 0 || *req.Segment > maxTotalSegments-1) {
		bound := "greater than or equal to 0"
		if *req.Segment > 0 {
			bound = "less than or equal to 999999"
		}
		v.add(req.Segment, "segment", "Member must have value "+bound)
	}
	if req.TotalSegments != nil && (*req.TotalSegments < 1 || *req.TotalSegments > maxTotalSegments) {
		bound := "greater than or equal to 1"
		if *req.TotalSegments > 1 {
			bound = "less than or equal to 1000000"
		}
		v.add(req.TotalSegments, "totalSegments", "Member must have value "+bound)
	}
	if err := v.err(); err != nil {
		return err
	}
	if err := req.checkSegments(); err != nil {
		return err
	}
	if err := req.checkSelect(false); err != nil {
		return err
	}
	return checkExprParams(
		[]param{{"FilterExpression", req.FilterExpression != nil}, {"ProjectionExpression", req.ProjectionExpression != nil}},
		[]param{{"AttributesToGet", req.AttributesToGet != nil}, {"ScanFilter", req.ScanFilter != nil}, {"ConditionalOperator", req.ConditionalOperator != nil}},
		req.ExpressionAttributeNames, req.ExpressionAttributeValues)
}

// checkSegments applies the rules on Segment and TotalSegments.
func (req *scanRequest) checkSegments() error {
	switch {
	case req.Segment != nil && req.TotalSegments == nil:
		return validationf("The TotalSegments parameter is required but was not present in the request when Segment parameter is present")
	case req.Segment == nil && req.TotalSegments != nil:
		return validationf("The Segment parameter is required but was not present in the request when parameter TotalSegments is present")
	case req.Segment != nil && *req.Segment >= *req.TotalSegments:
		return validationf("The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: %d is not less than TotalSegments: %d",
			*req.Segment, *req.TotalSegments)
	}
	return nil
}

// exprs translates the legacy parameters and parses the expressions.
func (req *scanRequest) exprs() (*readExprs, error) {
	es := newExprSet(req.ExpressionAttributeNames, req.ExpressionAttributeValues)
	tx := readTexts{filter: req.FilterExpression, proj: req.ProjectionExpression}
	if err := req.translateReadLegacy(es, &tx); err != nil {
		return nil, err
	}
	return es.parseRead(tx)
}

// spec builds the backend's scan, checking the start key.
func (req *scanRequest) spec(ks keySchema) (router.ScanSpec, error) {
	spec := router.ScanSpec{Consistent: req.consistent()}
	if req.Segment != nil {
		spec.Segment, spec.TotalSegments = int(*req.Segment), int(*req.TotalSegments)
	}
	if req.ExclusiveStartKey == nil {
		return spec, nil
	}
	if ks.checkKey(req.ExclusiveStartKey) != nil {
		return spec, validationf("The provided starting key is invalid: %s", msgKeySchemaMismatch)
	}
	h := item.Hash(req.ExclusiveStartKey[ks.hashKey().name])
	if !inSegment(h, spec.Segment, spec.TotalSegments) {
		return spec, validationf("The provided starting key is invalid: Invalid ExclusiveStartKey. Please use ExclusiveStartKey with correct Segment. TotalSegments: %d Segment: %d",
			spec.TotalSegments, spec.Segment)
	}
	spec.StartAfter = req.ExclusiveStartKey
	return spec, nil
}

// inSegment reports whether hash h falls in scan segment seg of total:
// segment i covers [i*2^64/total, (i+1)*2^64/total), as the router splits
// the hash space.
func inSegment(h uint64, seg, total int) bool {
	if total <= 1 {
		return true
	}
	lo, _ := bits.Div64(uint64(seg), 0, uint64(total))
	if h < lo {
		return false
	}
	if seg+1 == total {
		return true
	}
	hi, _ := bits.Div64(uint64(seg+1), 0, uint64(total))
	return h < hi
}
