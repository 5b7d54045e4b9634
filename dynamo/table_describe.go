package dynamo

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	"github.com/partitadb/partita/partitapb"
)

// tableARN returns the ARN of the table named name.
func (s *Server) tableARN(name string) string {
	return fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", s.cfg.Region, s.cfg.AccountID, name)
}

// isARN reports whether a TableName parameter is given as an ARN.
func isARN(name string) bool { return strings.HasPrefix(name, "arn:") }

// tableNameFromARN returns the table name inside a table ARN of this
// node's region and account, and false for any other ARN.
func (s *Server) tableNameFromARN(arn string) (string, bool) {
	prefix := fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/", s.cfg.Region, s.cfg.AccountID)
	name, ok := strings.CutPrefix(arn, prefix)
	if !ok || strings.Contains(name, "/") || !tableNameRE.MatchString(name) {
		return "", false
	}
	return name, true
}

// resolveTableName turns a TableName parameter (a name or an ARN) into a
// table name. An ARN naming no table of this node resolves to "" so that
// the lookup reports ResourceNotFound.
func (s *Server) resolveTableName(param string) string {
	if !isARN(param) {
		return param
	}
	name, _ := s.tableNameFromARN(param)
	return name
}

// tableID returns a stable UUID for t, derived from its catalog id and
// creation time, so that a table re-created under the same name gets a
// new TableId as in DynamoDB.
func tableID(t *partitapb.Table) string {
	var in [16]byte
	binary.BigEndian.PutUint64(in[:8], t.GetId())
	binary.BigEndian.PutUint64(in[8:], uint64(t.GetCreationUnixNanos()))
	h := sha256.Sum256(in[:])
	h[6] = h[6]&0x0f | 0x40 // version 4 layout
	h[8] = h[8]&0x3f | 0x80 // RFC 4122 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// epochSeconds converts unix nanoseconds to DynamoDB's epoch seconds.
func epochSeconds(nanos int64) float64 {
	return float64(nanos/int64(time.Millisecond)) / 1000
}

// optionalTime returns epoch seconds, or nil for an unset time.
func optionalTime(nanos int64) *float64 {
	if nanos == 0 {
		return nil
	}
	s := epochSeconds(nanos)
	return &s
}

// describe builds the TableDescription of t with the given statistics.
func (s *Server) describe(t *partitapb.Table, items, bytes int64) *tableDescription {
	d := &tableDescription{
		TableName:                 t.GetName(),
		TableStatus:               tableStatus(t),
		CreationDateTime:          epochSeconds(t.GetCreationUnixNanos()),
		TableSizeBytes:            bytes,
		ItemCount:                 items,
		TableArn:                  s.tableARN(t.GetName()),
		TableId:                   tableID(t),
		DeletionProtectionEnabled: t.GetDeletionProtectionEnabled(),
		ProvisionedThroughput:     throughputOf(t),
		BillingModeSummary:        billingOf(t),
	}
	for _, k := range t.GetKeySchema() {
		d.KeySchema = append(d.KeySchema, keySchemaOut{k.GetAttributeName(), k.GetKeyType()})
	}
	for _, a := range t.GetAttributeDefinitions() {
		d.AttributeDefinitions = append(d.AttributeDefinitions, attributeDefinitionOut{a.GetAttributeName(), a.GetAttributeType()})
	}
	if c := t.GetTableClass(); c != "" {
		d.TableClassSummary = &tableClassSummary{TableClass: c}
	}
	d.GlobalSecondaryIndexes = s.describeIndexes(t, nil)
	d.LocalSecondaryIndexes = s.describeLocalIndexes(t, nil)
	d.RestoreSummary = restoreSummaryOf(t)
	s.describeStream(t, d)
	return d
}

// throughputOf describes the provisioned throughput of t (0/0 on demand).
func throughputOf(t *partitapb.Table) throughputDescription {
	d := throughputDescription{
		LastIncreaseDateTime:   optionalTime(t.GetLastIncreaseUnixNanos()),
		LastDecreaseDateTime:   optionalTime(t.GetLastDecreaseUnixNanos()),
		NumberOfDecreasesToday: t.GetDecreasesToday(),
	}
	if t.GetBillingMode() != billingPayPerRequest {
		d.ReadCapacityUnits = t.GetReadCapacityUnits()
		d.WriteCapacityUnits = t.GetWriteCapacityUnits()
	}
	return d
}

// billingOf describes the billing mode of t.
func billingOf(t *partitapb.Table) *billingModeSummary {
	mode := t.GetBillingMode()
	if mode == "" {
		mode = billingProvisioned
	}
	b := &billingModeSummary{BillingMode: mode}
	if mode == billingPayPerRequest {
		b.LastUpdateToPayPerRequestDateTime = optionalTime(t.GetCreationUnixNanos())
	}
	return b
}

// lookupTable returns the table a TableName parameter names, with
// DynamoDB's message for a missing one (notFound: "" for the item
// operations' message, else the table operations' message).
func (s *Server) lookupTable(ctx context.Context, param string, tableOp bool) (*partitapb.Table, error) {
	return s.lookupTableBy(ctx, param, tableOp, s.cfg.Backend.Table)
}

// lookupTableBy is lookupTable reading the record with table (Backend.
// Table, or SharedTable for a caller that never modifies it).
func (s *Server) lookupTableBy(ctx context.Context, param string, tableOp bool,
	table func(context.Context, string) (*partitapb.Table, error)) (*partitapb.Table, error) {
	name := s.resolveTableName(param)
	if name == "" {
		return nil, s.notFound(param, tableOp)
	}
	t, err := table(ctx, name)
	if isDomainCode(err, partitapb.Error_TABLE_NOT_FOUND) || (err == nil && (t == nil || t.GetIndexBase() != "")) {
		return nil, s.notFound(param, tableOp)
	}
	if err != nil {
		return nil, fmt.Errorf("dynamo: look up table %q: %w", name, err)
	}
	if (t.GetRestore().GetInProgress() || t.GetImportInProgress()) && s.cfg.Backups != nil {
		// A cached record may predate the restore's end.
		if t, err = s.cfg.Backups.FreshTable(ctx, name); err != nil {
			return nil, fmt.Errorf("dynamo: look up table %q: %w", name, err)
		}
	}
	return t, nil
}

// notFound is the ResourceNotFoundException for a missing table.
func (s *Server) notFound(name string, tableOp bool) error {
	if tableOp {
		return newError(kindResourceNotFound, "Requested resource not found: Table: %s not found", name)
	}
	return newError(kindResourceNotFound, "%s", msgResourceNotFound)
}

// activeTable returns the table of an item operation, which DynamoDB serves
// only once the table is created.
func (s *Server) activeTable(ctx context.Context, param string) (*partitapb.Table, error) {
	t, err := s.lookupTableBy(ctx, param, false, s.cfg.Backend.SharedTable)
	if err != nil {
		return nil, err
	}
	if tableStatus(t) == statusCreating {
		return nil, newError(kindResourceNotFound, "%s", msgResourceNotFound)
	}
	return t, nil
}

// TableID is the TableId DynamoDB's answers give t (a stable UUID).
func TableID(t *partitapb.Table) string { return tableID(t) }
