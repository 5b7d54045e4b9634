package dynamo

import (
	"context"
	"fmt"

	"github.com/partitadb/partita/partitapb"
)

// globalIndexDescription is one entry of a TableDescription's
// GlobalSecondaryIndexes.
type globalIndexDescription struct {
	IndexName             string                `json:"IndexName"`
	KeySchema             []keySchemaOut        `json:"KeySchema"`
	Projection            projectionOut         `json:"Projection"`
	IndexStatus           string                `json:"IndexStatus"`
	Backfilling           *bool                 `json:"Backfilling,omitempty"`
	ProvisionedThroughput throughputDescription `json:"ProvisionedThroughput"`
	IndexSizeBytes        int64                 `json:"IndexSizeBytes"`
	ItemCount             int64                 `json:"ItemCount"`
	IndexArn              string                `json:"IndexArn"`
}

// projectionOut is an index's Projection in a response.
type projectionOut struct {
	ProjectionType   string   `json:"ProjectionType"`
	NonKeyAttributes []string `json:"NonKeyAttributes,omitempty"`
}

// indexStats are the item count and bytes of an index, by index name.
type indexStats map[string][2]int64

// describeIndexes describes the global secondary indexes of t, with their
// statistics from stats (nil: zeros). While the table is being created,
// its indexes are too.
func (s *Server) describeIndexes(t *partitapb.Table, stats indexStats) []globalIndexDescription {
	var out []globalIndexDescription
	for _, gi := range t.GetGlobalIndexes() {
		d := globalIndexDescription{
			IndexName:   gi.GetName(),
			Projection:  projectionOut{ProjectionType: gi.GetProjectionType(), NonKeyAttributes: gi.GetNonKeyAttributes()},
			IndexStatus: gi.GetStatus(),
			IndexArn:    fmt.Sprintf("%s/index/%s", s.tableARN(t.GetName()), gi.GetName()),
		}
		if tableStatus(t) == statusCreating {
			d.IndexStatus = statusCreating
		}
		if d.IndexStatus == statusCreating {
			b := gi.GetBackfilling()
			d.Backfilling = &b
		}
		for _, k := range gi.GetKeySchema() {
			d.KeySchema = append(d.KeySchema, keySchemaOut{k.GetAttributeName(), k.GetKeyType()})
		}
		if t.GetBillingMode() != billingPayPerRequest {
			d.ProvisionedThroughput.ReadCapacityUnits = gi.GetReadCapacityUnits()
			d.ProvisionedThroughput.WriteCapacityUnits = gi.GetWriteCapacityUnits()
		}
		st := stats[gi.GetName()]
		d.ItemCount, d.IndexSizeBytes = st[0], st[1]
		out = append(out, d)
	}
	return out
}

// indexStats reads the statistics of t's indexes from their tables; an
// index whose table cannot be read shows zeros (the figures are
// approximate in DynamoDB too).
func (s *Server) indexStats(ctx context.Context, t *partitapb.Table) indexStats {
	out := indexStats{}
	for _, gi := range t.GetGlobalIndexes() {
		it, err := s.cfg.Backend.Table(ctx, gi.GetTable())
		if err != nil {
			continue
		}
		items, bytes, err := s.cfg.Backend.TableStats(ctx, it)
		if err != nil {
			continue
		}
		out[gi.GetName()] = [2]int64{items, bytes}
	}
	return out
}
