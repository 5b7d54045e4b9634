package dynamo

import (
	"context"
)

// DynamoDB's default account and table capacity limits, which DescribeLimits
// reports.
const (
	accountMaxCapacityUnits = 80000
	tableMaxCapacityUnits   = 40000
)

// describeLimitsResponse is DescribeLimits' output.
type describeLimitsResponse struct {
	AccountMaxReadCapacityUnits  int64 `json:"AccountMaxReadCapacityUnits"`
	AccountMaxWriteCapacityUnits int64 `json:"AccountMaxWriteCapacityUnits"`
	TableMaxReadCapacityUnits    int64 `json:"TableMaxReadCapacityUnits"`
	TableMaxWriteCapacityUnits   int64 `json:"TableMaxWriteCapacityUnits"`
}

func (s *Server) handleDescribeLimits(_ context.Context, r *request) (any, error) {
	var req emptyResponse
	if err := decode(r.body, &req); err != nil {
		return nil, err
	}
	return &describeLimitsResponse{
		AccountMaxReadCapacityUnits:  accountMaxCapacityUnits,
		AccountMaxWriteCapacityUnits: accountMaxCapacityUnits,
		TableMaxReadCapacityUnits:    tableMaxCapacityUnits,
		TableMaxWriteCapacityUnits:   tableMaxCapacityUnits,
	}, nil
}

// endpointCachePeriod is how long clients may cache DescribeEndpoints'
// answer, in minutes.
const endpointCachePeriod = 1440

// endpoint is one entry of DescribeEndpoints' output.
type endpoint struct {
	Address              string `json:"Address"`
	CachePeriodInMinutes int64  `json:"CachePeriodInMinutes"`
}

// describeEndpointsResponse is DescribeEndpoints' output.
type describeEndpointsResponse struct {
	Endpoints []endpoint `json:"Endpoints"`
}

func (s *Server) handleDescribeEndpoints(_ context.Context, r *request) (any, error) {
	var req emptyResponse
	if err := decode(r.body, &req); err != nil {
		return nil, err
	}
	addr := r.host
	if addr == "" {
		addr = "dynamodb." + s.cfg.Region + ".amazonaws.com"
	}
	return &describeEndpointsResponse{Endpoints: []endpoint{{Address: addr, CachePeriodInMinutes: endpointCachePeriod}}}, nil
}
