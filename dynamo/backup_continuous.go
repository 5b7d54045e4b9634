package dynamo

import (
	"context"
	"net/http"
)

// Continuous backups. Every table has on-demand backups
// (ContinuousBackupsStatus ENABLED); point-in-time recovery is not built
// yet, so it is DISABLED and UpdateContinuousBackups refuses to enable
// it rather than claim a recovery window it cannot restore from
// (docs/backups.md).

type updateContinuousBackupsRequest struct {
	TableName                        *string `json:"TableName"`
	PointInTimeRecoverySpecification *struct {
		PointInTimeRecoveryEnabled *bool  `json:"PointInTimeRecoveryEnabled"`
		RecoveryPeriodInDays       *int64 `json:"RecoveryPeriodInDays"`
	} `json:"PointInTimeRecoverySpecification"`
}

type continuousBackupsDescription struct {
	ContinuousBackupsStatus        string `json:"ContinuousBackupsStatus"`
	PointInTimeRecoveryDescription struct {
		PointInTimeRecoveryStatus string `json:"PointInTimeRecoveryStatus"`
	} `json:"PointInTimeRecoveryDescription"`
}

type continuousBackupsResponse struct {
	ContinuousBackupsDescription continuousBackupsDescription `json:"ContinuousBackupsDescription"`
}

var kindContinuousBackupsUnavailable = errKind{nsDynamo + "ContinuousBackupsUnavailableException", http.StatusBadRequest, "message"}

// continuousBackupsOf describes a table's continuous backups.
func continuousBackupsOf() *continuousBackupsResponse {
	d := continuousBackupsDescription{ContinuousBackupsStatus: "ENABLED"}
	d.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus = "DISABLED"
	return &continuousBackupsResponse{ContinuousBackupsDescription: d}
}

// backupTable checks a TableName parameter of a backup operation: a
// missing table is a TableNotFoundException there.
func (s *Server) backupTable(ctx context.Context, name *string) error {
	var v violations
	v.tableName(name, "tableName")
	if err := v.err(); err != nil {
		return err
	}
	_, err := s.lookupTable(ctx, *name, true)
	if isNotFound(err) {
		return newError(kindTableNotFound, "Table not found: %s", s.resolveTableName(*name))
	}
	return err
}

func (s *Server) handleDescribeContinuousBackups(ctx context.Context, r *request) (any, error) {
	var req tableNameRequest
	if err := decode(r.body, &req); err != nil {
		return nil, err
	}
	if err := s.backupTable(ctx, req.TableName); err != nil {
		return nil, err
	}
	return continuousBackupsOf(), nil
}

func (s *Server) handleUpdateContinuousBackups(ctx context.Context, r *request) (any, error) {
	var req updateContinuousBackupsRequest
	if err := decode(r.body, &req); err != nil {
		return nil, err
	}
	var v violations
	v.notNull(req.PointInTimeRecoverySpecification != nil, "pointInTimeRecoverySpecification")
	if spec := req.PointInTimeRecoverySpecification; spec != nil {
		v.notNull(spec.PointInTimeRecoveryEnabled != nil, "pointInTimeRecoverySpecification.pointInTimeRecoveryEnabled")
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	if err := s.backupTable(ctx, req.TableName); err != nil {
		return nil, err
	}
	if *req.PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled {
		return nil, newError(kindContinuousBackupsUnavailable,
			"Point-in-time recovery is not available in Partita yet; on-demand backups are (CreateBackup)")
	}
	return continuousBackupsOf(), nil
}
