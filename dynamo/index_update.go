package dynamo

import (
	"context"
	"fmt"

	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/partitapb"
)

// globalIndexUpdate is one entry of UpdateTable's
// GlobalSecondaryIndexUpdates: exactly one action.
type globalIndexUpdate struct {
	Create *globalIndexRequest `json:"Create"`
	Update *struct {
		IndexName             *string                `json:"IndexName"`
		ProvisionedThroughput *provisionedThroughput `json:"ProvisionedThroughput"`
	} `json:"Update"`
	Delete *struct {
		IndexName *string `json:"IndexName"`
	} `json:"Delete"`
}

// Index statuses beyond the table's.
const statusDeleting = "DELETING"

// checkIndexUpdatesShape checks the shape of GlobalSecondaryIndexUpdates.
func checkIndexUpdatesShape(ups []globalIndexUpdate) error {
	if ups != nil && len(ups) == 0 {
		return validationf("%sList of GlobalSecondaryIndexUpdates is empty", msgInvalidParams)
	}
	var v violations
	creates := make([]globalIndexRequest, 0, len(ups))
	online := 0
	for i, u := range ups {
		n := 0
		if u.Create != nil {
			n++
			online++
			creates = append(creates, *u.Create)
		}
		if u.Update != nil {
			n++
			p := fmt.Sprintf("globalSecondaryIndexUpdates.%d.member.update", i+1)
			v.notNull(u.Update.IndexName != nil, p+".indexName")
			v.notNull(u.Update.ProvisionedThroughput != nil, p+".provisionedThroughput")
			v.throughput(u.Update.ProvisionedThroughput, p+".provisionedThroughput")
		}
		if u.Delete != nil {
			n++
			online++
			v.notNull(u.Delete.IndexName != nil, fmt.Sprintf("globalSecondaryIndexUpdates.%d.member.delete.indexName", i+1))
		}
		if n != 1 {
			return validationf("%sOne and only one of Create, Update or Delete must be specified in a GlobalSecondaryIndexUpdate", msgInvalidParams)
		}
	}
	v.globalIndexes(creates)
	if err := v.err(); err != nil {
		return err
	}
	if online > 1 {
		return newError(kindLimitExceeded, "Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table")
	}
	return nil
}

// applyIndexUpdates applies GlobalSecondaryIndexUpdates to next (a copy of
// the table's record): a new index is CREATING and backfilling, a deleted
// one DELETING; the work is done after the record is written.
func applyIndexUpdates(next *partitapb.Table, req *updateTableRequest) error {
	for _, u := range req.GlobalSecondaryIndexUpdates {
		var err error
		switch {
		case u.Create != nil:
			err = applyIndexCreate(next, u.Create, req.AttributeDefinitions)
		case u.Update != nil:
			err = applyIndexThroughput(next, *u.Update.IndexName, u.Update.ProvisionedThroughput)
		case u.Delete != nil:
			err = setIndexStatus(next, *u.Delete.IndexName, statusDeleting)
		}
		if err != nil {
			return err
		}
	}
	next.ChangeView = fsm.TableLogView(next)
	return nil
}

// findIndex returns the index of t named name, or nil.
func findIndex(t *partitapb.Table, name string) *partitapb.GlobalIndex {
	for _, gi := range t.GetGlobalIndexes() {
		if gi.GetName() == name {
			return gi
		}
	}
	return nil
}

// indexNotFound is DynamoDB's error for an update of a missing index.
func indexNotFound(t *partitapb.Table, name string) error {
	return newError(kindResourceNotFound, "Requested resource not found: Index: %s not found for table: %s", name, t.GetName())
}

func applyIndexCreate(next *partitapb.Table, c *globalIndexRequest, defs []attributeDefinition) error {
	if findIndex(next, str(c.IndexName)) != nil || hasLocalIndex(next, str(c.IndexName)) {
		return validationf("%sAttempting to create an index which already exists", msgInvalidParams)
	}
	if len(next.GetGlobalIndexes()) >= maxGlobalIndexes {
		return newError(kindLimitExceeded, "Subscriber limit exceeded: The number of global secondary indexes exceeds the limit of %d", maxGlobalIndexes)
	}
	for _, gi := range next.GetGlobalIndexes() {
		if gi.GetStatus() != statusActive {
			return newError(kindLimitExceeded, "Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table")
		}
	}
	merged := mergeDefinitions(next, defs)
	if err := checkIndexKeySchema(*c.IndexName, c.KeySchema, merged); err != nil {
		return err
	}
	if err := checkProjection(*c.IndexName, c.Projection); err != nil {
		return err
	}
	mode := next.GetBillingMode()
	if err := checkIndexThroughput(*c.IndexName, &mode, c.ProvisionedThroughput); err != nil {
		return err
	}
	next.AttributeDefinitions = nil
	for _, d := range merged {
		next.AttributeDefinitions = append(next.AttributeDefinitions,
			&partitapb.AttributeDefinition{AttributeName: *d.AttributeName, AttributeType: *d.AttributeType})
	}
	gi := globalIndexRecords(next.GetName(), []globalIndexRequest{*c}, statusCreating)[0]
	gi.Backfilling = true
	next.GlobalIndexes = append(next.GlobalIndexes, gi)
	return nil
}

// mergeDefinitions is the table's attribute definitions with the
// request's added (a redefinition with another type is DynamoDB's error,
// found by the index key check as an undefined key otherwise).
func mergeDefinitions(t *partitapb.Table, defs []attributeDefinition) []attributeDefinition {
	var out []attributeDefinition
	seen := map[string]bool{}
	for _, d := range t.GetAttributeDefinitions() {
		name, typ := d.GetAttributeName(), d.GetAttributeType()
		out = append(out, attributeDefinition{AttributeName: &name, AttributeType: &typ})
		seen[name] = true
	}
	for _, d := range defs {
		if d.AttributeName != nil && d.AttributeType != nil && !seen[*d.AttributeName] {
			out = append(out, d)
			seen[*d.AttributeName] = true
		}
	}
	return out
}

func applyIndexThroughput(next *partitapb.Table, name string, pt *provisionedThroughput) error {
	gi := findIndex(next, name)
	if gi == nil {
		return indexNotFound(next, name)
	}
	if next.GetBillingMode() == billingPayPerRequest {
		return validationf("%sProvisionedThroughput should not be specified for index: %s when BillingMode is PAY_PER_REQUEST", msgInvalidParams, name)
	}
	if err := checkThroughputBounds(pt); err != nil {
		return err
	}
	gi.ReadCapacityUnits, gi.WriteCapacityUnits = *pt.ReadCapacityUnits, *pt.WriteCapacityUnits
	return nil
}

func setIndexStatus(next *partitapb.Table, name, status string) error {
	gi := findIndex(next, name)
	if gi == nil {
		return indexNotFound(next, name)
	}
	if gi.GetStatus() != statusActive {
		return newError(kindResourceInUse, "Attempt to change a resource which is still in use: Index is being %s: %s",
			map[string]string{statusCreating: "created", statusDeleting: "deleted"}[gi.GetStatus()], name)
	}
	gi.Status = status
	return nil
}

// finishIndexUpdates does the work of the index changes recorded by
// UpdateTable: a new index's table is created (the nodes backfill it and
// mark it ACTIVE), a deleted index's table and entries go, then the index
// leaves the record.
func (s *Server) finishIndexUpdates(ctx context.Context, updated *partitapb.Table, req *updateTableRequest) (*partitapb.Table, error) {
	for _, u := range req.GlobalSecondaryIndexUpdates {
		switch {
		case u.Create != nil:
			if err := s.cfg.Backend.CreateIndex(ctx, updated, findIndex(updated, *u.Create.IndexName)); err != nil {
				return nil, fmt.Errorf("dynamo: create index %s: %w", *u.Create.IndexName, err)
			}
		case u.Delete != nil:
			gi := findIndex(updated, *u.Delete.IndexName)
			if gi == nil {
				continue
			}
			deleting := updated
			if err := s.removeIndex(ctx, updated.GetName(), gi); err != nil {
				return nil, err
			}
			updated = deleting // the response shows the index DELETING, as DynamoDB's does
		}
	}
	return updated, nil
}

// removeIndex drops the table of index gi of the table named name, then
// the index from the table's record.
func (s *Server) removeIndex(ctx context.Context, name string, gi *partitapb.GlobalIndex) error {
	if err := s.cfg.Backend.DeleteIndex(ctx, gi); err != nil {
		return fmt.Errorf("dynamo: delete index %s: %w", gi.GetName(), err)
	}
	_, err := s.cfg.Backend.UpdateTable(ctx, name, func(t *partitapb.Table) (*partitapb.Table, error) {
		kept := t.GlobalIndexes[:0]
		for _, g := range t.GetGlobalIndexes() {
			if g.GetName() != gi.GetName() {
				kept = append(kept, g)
			}
		}
		t.GlobalIndexes = kept
		t.ChangeView = fsm.TableLogView(t)
		return t, nil
	})
	if err != nil {
		return fmt.Errorf("dynamo: delete index %s: %w", gi.GetName(), err)
	}
	return nil
}
