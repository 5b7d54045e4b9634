package dynamo

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/partitadb/partita/partitapb"
)

// RestoreTableToPointInTime makes a new table with the source table's
// current schema (overridable as RestoreTableFromBackup's) and has the
// node write into it the source's items as they were at the restore
// time, read from the source's change log (docs/backups.md). The table
// shows CREATING, with a RestoreSummary in progress, until they are all
// written.

type restoreTableToPointInTimeRequest struct {
	SourceTableArn                *string                `json:"SourceTableArn"`
	SourceTableName               *string                `json:"SourceTableName"`
	TargetTableName               *string                `json:"TargetTableName"`
	UseLatestRestorableTime       *bool                  `json:"UseLatestRestorableTime"`
	RestoreDateTime               *float64               `json:"RestoreDateTime"`
	BillingModeOverride           *string                `json:"BillingModeOverride"`
	ProvisionedThroughputOverride *provisionedThroughput `json:"ProvisionedThroughputOverride"`
	GlobalSecondaryIndexOverride  []globalIndexRequest   `json:"GlobalSecondaryIndexOverride"`
	LocalSecondaryIndexOverride   []localIndexRequest    `json:"LocalSecondaryIndexOverride"`
	SSESpecificationOverride      any                    `json:"SSESpecificationOverride"`
	OnDemandThroughputOverride    any                    `json:"OnDemandThroughputOverride"`
}

func (s *Server) handleRestoreTableToPointInTime(ctx context.Context, r *request) (any, error) {
	var req restoreTableToPointInTimeRequest
	if err := decode(r.body, &req); err != nil {
		return nil, err
	}
	var v violations
	v.tableName(req.TargetTableName, "targetTableName")
	if req.SourceTableName != nil {
		v.tableName(req.SourceTableName, "sourceTableName")
	}
	v.enum(req.BillingModeOverride, "billingModeOverride", billingModes...)
	v.throughput(req.ProvisionedThroughputOverride, "provisionedThroughputOverride")
	if err := v.err(); err != nil {
		return nil, err
	}
	if err := req.checkParams(); err != nil {
		return nil, err
	}
	bs, err := s.backups()
	if err != nil {
		return nil, err
	}
	source, err := s.pitrSource(ctx, &req)
	if err != nil {
		return nil, err
	}
	asOf, err := s.restoreTime(&req, source)
	if err != nil {
		return nil, err
	}
	t, err := s.restoredTableOf(req.overrides(), source)
	if err != nil {
		return nil, err
	}
	t.Restore = &partitapb.BackupRestore{SourceTableArn: s.tableARN(source.GetName()),
		RestoreUnixNanos: asOf.UnixNano(), InProgress: true}
	t.PointInTimeRestore = &partitapb.PointInTimeRestore{SourceTable: source.GetName(),
		SourceTableId: source.GetId(), AsOfUnixNanos: asOf.UnixNano()}
	created, err := bs.Restore(ctx, t)
	if isDomainCode(err, partitapb.Error_TABLE_IN_USE) {
		return nil, newError(kindTableAlreadyExists, "Table already exists: %s", t.GetName())
	}
	if err != nil {
		return nil, fmt.Errorf("dynamo: restore table to a point in time: %w", err)
	}
	return &tableResponse{TableDescription: s.describe(created, 0, 0)}, nil
}

// checkParams applies the rules between the source and time parameters.
func (req *restoreTableToPointInTimeRequest) checkParams() error {
	latest := req.UseLatestRestorableTime != nil && *req.UseLatestRestorableTime
	switch {
	case req.SourceTableName == nil && req.SourceTableArn == nil:
		return validationf("Either SourceTableName or SourceTableArn must be specified")
	case req.SourceTableName != nil && req.SourceTableArn != nil:
		return validationf("Only one of SourceTableName or SourceTableArn may be specified")
	case latest && req.RestoreDateTime != nil:
		return validationf("Only one of RestoreDateTime or UseLatestRestorableTime may be specified")
	case !latest && req.RestoreDateTime == nil:
		return validationf("Either RestoreDateTime or UseLatestRestorableTime must be specified")
	case req.RestoreDateTime != nil && (math.IsNaN(*req.RestoreDateTime) || math.IsInf(*req.RestoreDateTime, 0)):
		return validationf("RestoreDateTime is not a valid time")
	}
	return nil
}

// overrides is req's overrides as RestoreTableFromBackup's.
func (req *restoreTableToPointInTimeRequest) overrides() *restoreTableFromBackupRequest {
	return &restoreTableFromBackupRequest{TargetTableName: req.TargetTableName,
		BillingModeOverride: req.BillingModeOverride, ProvisionedThroughputOverride: req.ProvisionedThroughputOverride,
		GlobalSecondaryIndexOverride: req.GlobalSecondaryIndexOverride, LocalSecondaryIndexOverride: req.LocalSecondaryIndexOverride}
}

// pitrSource is the source table of req, with its point-in-time
// recovery enabled.
func (s *Server) pitrSource(ctx context.Context, req *restoreTableToPointInTimeRequest) (*partitapb.Table, error) {
	param := req.SourceTableName
	if param == nil {
		param = req.SourceTableArn
	}
	name := s.resolveTableName(*param)
	t, err := s.lookupTable(ctx, *param, true)
	if isNotFound(err) {
		return nil, newError(kindTableNotFound, "Table not found: %s", name)
	}
	if err != nil {
		return nil, err
	}
	if t.GetPointInTimeRecovery() == nil {
		return nil, newError(kindPITRUnavailable, "Point in time recovery is not enabled for table '%s'", t.GetName())
	}
	return t, nil
}

// restoreTime is the time req restores source to: its latest restorable
// time, or RestoreDateTime, which must lie in the restorable window.
func (s *Server) restoreTime(req *restoreTableToPointInTimeRequest, source *partitapb.Table) (time.Time, error) {
	earliest, latest := s.restorableWindow(source, s.cfg.Now())
	if req.RestoreDateTime == nil {
		if latest.Before(earliest) {
			return time.Time{}, newError(kindInvalidRestoreTime,
				"Point in time recovery of table '%s' was enabled too recently: the earliest restorable time is %s", source.GetName(), earliest.UTC().Format(time.RFC3339))
		}
		return latest, nil
	}
	// Epoch seconds to the microsecond: a float64 holds no finer, and a
	// time sent to the millisecond stays that millisecond.
	at := time.UnixMicro(int64(math.Round(*req.RestoreDateTime * 1e6)))
	if at.Before(earliest) || at.After(latest) {
		return time.Time{}, newError(kindInvalidRestoreTime,
			"RestoreDateTime must be between EarliestRestorableDateTime (%s) and LatestRestorableDateTime (%s)",
			earliest.UTC().Format(time.RFC3339Nano), latest.UTC().Format(time.RFC3339Nano))
	}
	return at, nil
}

// StartRestorePointInTime is RestoreTableToPointInTime for an operator
// (partita ctl backup restore-pitr), without overrides: source as of at,
// or its latest restorable time for a zero at.
func (s *Server) StartRestorePointInTime(ctx context.Context, source, table string, at time.Time) (*partitapb.Table, error) {
	req := restoreTableToPointInTimeRequest{SourceTableName: &source, TargetTableName: &table}
	if at.IsZero() {
		req.UseLatestRestorableTime = refOf(true)
	} else {
		req.RestoreDateTime = refOf(float64(at.UnixMicro()) / 1e6)
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	res, err := s.handleRestoreTableToPointInTime(ctx, &request{body: body})
	if err != nil {
		return nil, err
	}
	return s.cfg.Backups.FreshTable(ctx, res.(*tableResponse).TableDescription.TableName)
}
