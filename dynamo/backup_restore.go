package dynamo

import (
	"context"
	"fmt"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/partitapb"
)

// RestoreTableFromBackup makes a new table with the backup's schema (key
// schema, billing, global secondary indexes, each overridable as DynamoDB
// allows) and has the node write the backup's items into it; the table
// shows CREATING, with a RestoreSummary in progress, until they are all
// written. As in DynamoDB, streams, TTL and tags are not restored.

type restoreTableFromBackupRequest struct {
	TargetTableName               *string                `json:"TargetTableName"`
	BackupArn                     *string                `json:"BackupArn"`
	BillingModeOverride           *string                `json:"BillingModeOverride"`
	ProvisionedThroughputOverride *provisionedThroughput `json:"ProvisionedThroughputOverride"`
	GlobalSecondaryIndexOverride  []globalIndexRequest   `json:"GlobalSecondaryIndexOverride"`
	LocalSecondaryIndexOverride   []localIndexRequest    `json:"LocalSecondaryIndexOverride"`
	SSESpecificationOverride      any                    `json:"SSESpecificationOverride"`
	OnDemandThroughputOverride    any                    `json:"OnDemandThroughputOverride"`
}

// restoreSummary is a restored table's RestoreSummary.
type restoreSummary struct {
	SourceBackupArn   string  `json:"SourceBackupArn,omitempty"`
	SourceTableArn    string  `json:"SourceTableArn,omitempty"`
	RestoreDateTime   float64 `json:"RestoreDateTime"`
	RestoreInProgress bool    `json:"RestoreInProgress"`
}

// restoreSummaryOf describes t's restore, nil for a table never restored.
func restoreSummaryOf(t *partitapb.Table) *restoreSummary {
	r := t.GetRestore()
	if r == nil {
		return nil
	}
	return &restoreSummary{SourceBackupArn: r.GetSourceBackupArn(), SourceTableArn: r.GetSourceTableArn(),
		RestoreDateTime: epochSeconds(r.GetRestoreUnixNanos()), RestoreInProgress: r.GetInProgress()}
}

func (s *Server) handleRestoreTableFromBackup(ctx context.Context, r *request) (any, error) {
	var req restoreTableFromBackupRequest
	if err := decode(r.body, &req); err != nil {
		return nil, err
	}
	var v violations
	v.tableName(req.TargetTableName, "targetTableName")
	v.notNull(req.BackupArn != nil, "backupArn")
	v.length(req.BackupArn, "backupArn", 37, 1024)
	v.enum(req.BillingModeOverride, "billingModeOverride", billingModes...)
	v.throughput(req.ProvisionedThroughputOverride, "provisionedThroughputOverride")
	if err := v.err(); err != nil {
		return nil, err
	}
	bs, err := s.backups()
	if err != nil {
		return nil, err
	}
	b, err := bs.Backup(ctx, *req.BackupArn)
	if err != nil {
		return nil, backupError(err)
	}
	if b.GetStatus() != directory.BackupAvailable {
		return nil, newError(kindBackupInUse, "Backup is being created or deleted: %s", b.GetArn())
	}
	t, err := s.restoredTable(&req, b)
	if err != nil {
		return nil, err
	}
	created, err := bs.Restore(ctx, t)
	if isDomainCode(err, partitapb.Error_TABLE_IN_USE) {
		return nil, newError(kindTableAlreadyExists, "Table already exists: %s", t.GetName())
	}
	if err != nil {
		return nil, fmt.Errorf("dynamo: restore table: %w", err)
	}
	return &tableResponse{TableDescription: s.describe(created, 0, 0)}, nil
}

// restoredTable is the record of the table req restores from b: the
// backup's table as a CreateTable request, overrides applied, checked as
// CreateTable checks.
func (s *Server) restoredTable(req *restoreTableFromBackupRequest, b *partitapb.Backup) (*partitapb.Table, error) {
	t, err := s.restoredTableOf(req, b.GetTable())
	if err != nil {
		return nil, err
	}
	t.Restore = &partitapb.BackupRestore{SourceBackupArn: b.GetArn(), SourceTableArn: b.GetTableArn(),
		RestoreUnixNanos: t.GetCreationUnixNanos(), InProgress: true}
	return t, nil
}

// restoredTableOf is the record of the table named by req.TargetTableName
// with source's schema, req's overrides applied, checked as CreateTable
// checks.
func (s *Server) restoredTableOf(req *restoreTableFromBackupRequest, source *partitapb.Table) (*partitapb.Table, error) {
	ct := createRequestOf(source)
	ct.TableName = req.TargetTableName
	if req.BillingModeOverride != nil {
		ct.BillingMode = req.BillingModeOverride
		if *req.BillingModeOverride == billingPayPerRequest {
			ct.ProvisionedThroughput = nil
			for i := range ct.GlobalSecondaryIndexes {
				ct.GlobalSecondaryIndexes[i].ProvisionedThroughput = nil
			}
		}
	}
	if req.ProvisionedThroughputOverride != nil {
		ct.ProvisionedThroughput = req.ProvisionedThroughputOverride
		// An index without capacities of its own (an on-demand source's)
		// takes the table's.
		for i := range ct.GlobalSecondaryIndexes {
			if ct.GlobalSecondaryIndexes[i].ProvisionedThroughput == nil {
				ct.GlobalSecondaryIndexes[i].ProvisionedThroughput = req.ProvisionedThroughputOverride
			}
		}
	}
	if req.LocalSecondaryIndexOverride != nil {
		// Some or all of the backup's local indexes; none drops them all.
		ct.LocalSecondaryIndexes = req.LocalSecondaryIndexOverride
		if len(ct.LocalSecondaryIndexes) == 0 {
			ct.LocalSecondaryIndexes = nil
		}
	}
	if req.GlobalSecondaryIndexOverride != nil {
		// Some or all of the backup's indexes; none drops them all.
		ct.GlobalSecondaryIndexes = req.GlobalSecondaryIndexOverride
		if len(ct.GlobalSecondaryIndexes) == 0 {
			ct.GlobalSecondaryIndexes = nil
		}
	}
	ct.AttributeDefinitions = usedDefinitions(ct)
	if err := s.checkCreateTable(ct); err != nil {
		return nil, err
	}
	return s.newTableRecord(ct), nil
}

// createRequestOf is the CreateTable request that would make t's schema.
func createRequestOf(t *partitapb.Table) *createTableRequest {
	req := &createTableRequest{BillingMode: refOf(billingOf(t).BillingMode)}
	if *req.BillingMode == billingProvisioned {
		req.ProvisionedThroughput = &provisionedThroughput{ReadCapacityUnits: refOf(t.GetReadCapacityUnits()),
			WriteCapacityUnits: refOf(t.GetWriteCapacityUnits())}
	}
	if c := t.GetTableClass(); c != "" {
		req.TableClass = &c
	}
	for _, k := range t.GetKeySchema() {
		req.KeySchema = append(req.KeySchema, keySchemaElement{refOf(k.GetAttributeName()), refOf(k.GetKeyType())})
	}
	for _, a := range t.GetAttributeDefinitions() {
		req.AttributeDefinitions = append(req.AttributeDefinitions, attributeDefinition{refOf(a.GetAttributeName()), refOf(a.GetAttributeType())})
	}
	for _, gi := range t.GetGlobalIndexes() {
		g := globalIndexRequest{IndexName: refOf(gi.GetName()),
			Projection: &projection{ProjectionType: refOf(gi.GetProjectionType()), NonKeyAttributes: gi.GetNonKeyAttributes()}}
		for _, k := range gi.GetKeySchema() {
			g.KeySchema = append(g.KeySchema, keySchemaElement{refOf(k.GetAttributeName()), refOf(k.GetKeyType())})
		}
		if req.ProvisionedThroughput != nil {
			g.ProvisionedThroughput = &provisionedThroughput{ReadCapacityUnits: refOf(gi.GetReadCapacityUnits()),
				WriteCapacityUnits: refOf(gi.GetWriteCapacityUnits())}
		}
		req.GlobalSecondaryIndexes = append(req.GlobalSecondaryIndexes, g)
	}
	for _, li := range t.GetLocalIndexes() {
		l := localIndexRequest{IndexName: refOf(li.GetName()),
			Projection: &projection{ProjectionType: refOf(li.GetProjectionType()), NonKeyAttributes: li.GetNonKeyAttributes()}}
		for _, k := range li.GetKeySchema() {
			l.KeySchema = append(l.KeySchema, keySchemaElement{refOf(k.GetAttributeName()), refOf(k.GetKeyType())})
		}
		req.LocalSecondaryIndexes = append(req.LocalSecondaryIndexes, l)
	}
	return req
}

// usedDefinitions keeps the attribute definitions of req that a key of
// the table or of one of its indexes uses.
func usedDefinitions(req *createTableRequest) []attributeDefinition {
	used := map[string]bool{}
	for _, k := range req.KeySchema {
		used[str(k.AttributeName)] = true
	}
	for _, g := range req.GlobalSecondaryIndexes {
		for _, k := range g.KeySchema {
			used[str(k.AttributeName)] = true
		}
	}
	for _, l := range req.LocalSecondaryIndexes {
		for _, k := range l.KeySchema {
			used[str(k.AttributeName)] = true
		}
	}
	var out []attributeDefinition
	for _, a := range req.AttributeDefinitions {
		if used[str(a.AttributeName)] {
			out = append(out, a)
		}
	}
	return out
}

func refOf[T any](v T) *T { return &v }
