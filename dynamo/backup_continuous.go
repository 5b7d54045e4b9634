package dynamo

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/partitapb"
)

// Continuous backups. Every table has on-demand backups
// (ContinuousBackupsStatus ENABLED); point-in-time recovery is enabled
// per table by UpdateContinuousBackups: the table's change log then keeps
// the old image of every write for the recovery period, which
// RestoreTableToPointInTime reads (docs/backups.md).

type updateContinuousBackupsRequest struct {
	TableName                        *string `json:"TableName"`
	PointInTimeRecoverySpecification *struct {
		PointInTimeRecoveryEnabled *bool  `json:"PointInTimeRecoveryEnabled"`
		RecoveryPeriodInDays       *int64 `json:"RecoveryPeriodInDays"`
	} `json:"PointInTimeRecoverySpecification"`
}

type pointInTimeRecoveryDescription struct {
	PointInTimeRecoveryStatus  string   `json:"PointInTimeRecoveryStatus"`
	EarliestRestorableDateTime *float64 `json:"EarliestRestorableDateTime,omitempty"`
	LatestRestorableDateTime   *float64 `json:"LatestRestorableDateTime,omitempty"`
	RecoveryPeriodInDays       *int32   `json:"RecoveryPeriodInDays,omitempty"`
}

type continuousBackupsDescription struct {
	ContinuousBackupsStatus        string                         `json:"ContinuousBackupsStatus"`
	PointInTimeRecoveryDescription pointInTimeRecoveryDescription `json:"PointInTimeRecoveryDescription"`
}

type continuousBackupsResponse struct {
	ContinuousBackupsDescription continuousBackupsDescription `json:"ContinuousBackupsDescription"`
}

// The bounds of RecoveryPeriodInDays, and its default.
const (
	minRecoveryDays     = 1
	maxRecoveryDays     = 35
	defaultRecoveryDays = 35
)

// PITRLatestLag is how far behind the clock LatestRestorableDateTime
// is: a write evaluated before it has been applied, or refused, by the
// time a restore reads the log (a proposal in flight longer is the
// documented exception).
const PITRLatestLag = time.Second

// DefaultPITRSettle is Config.PITRSettle's default: how long after
// point-in-time recovery is enabled its window opens, the time every
// partition leader needs to take up the table's wider change view (the
// directory reaches nodes at once, or at their 5 s catch-up).
const DefaultPITRSettle = 10 * time.Second

var (
	kindContinuousBackupsUnavailable = errKind{nsDynamo + "ContinuousBackupsUnavailableException", http.StatusBadRequest, "message"}
	kindPITRUnavailable              = errKind{nsDynamo + "PointInTimeRecoveryUnavailableException", http.StatusBadRequest, "message"}
	kindInvalidRestoreTime           = errKind{nsDynamo + "InvalidRestoreTimeException", http.StatusBadRequest, "message"}
)

// restorableWindow is the times t can be restored to at now, when its
// point-in-time recovery is enabled: from when it was enabled (plus
// settle) or the start of the recovery period, whichever is later, to
// now less PITRLatestLag.
func (s *Server) restorableWindow(t *partitapb.Table, now time.Time) (earliest, latest time.Time) {
	p := t.GetPointInTimeRecovery()
	earliest = time.Unix(0, p.GetEnabledUnixNanos()).Add(s.cfg.PITRSettle)
	if start := now.Add(-time.Duration(p.GetRecoveryPeriodDays()) * 24 * time.Hour); start.After(earliest) {
		earliest = start
	}
	if floor := time.Unix(0, p.GetWindowFloorUnixNanos()); floor.After(earliest) {
		earliest = floor
	}
	return earliest, now.Add(-PITRLatestLag)
}

// continuousBackupsOf describes t's continuous backups at now.
func (s *Server) continuousBackupsOf(t *partitapb.Table, now time.Time) *continuousBackupsResponse {
	d := continuousBackupsDescription{ContinuousBackupsStatus: "ENABLED"}
	d.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus = "DISABLED"
	if p := t.GetPointInTimeRecovery(); p != nil {
		earliest, latest := s.restorableWindow(t, now)
		d.PointInTimeRecoveryDescription = pointInTimeRecoveryDescription{PointInTimeRecoveryStatus: "ENABLED",
			EarliestRestorableDateTime: refOf(epochSeconds(earliest.UnixNano())),
			LatestRestorableDateTime:   refOf(epochSeconds(latest.UnixNano())),
			RecoveryPeriodInDays:       refOf(p.GetRecoveryPeriodDays())}
	}
	return &continuousBackupsResponse{ContinuousBackupsDescription: d}
}

// backupTable checks a TableName parameter of a backup operation and
// returns the table: a missing table is a TableNotFoundException there.
func (s *Server) backupTable(ctx context.Context, name *string) (*partitapb.Table, error) {
	var v violations
	v.tableName(name, "tableName")
	if err := v.err(); err != nil {
		return nil, err
	}
	t, err := s.lookupTable(ctx, *name, true)
	if isNotFound(err) {
		return nil, newError(kindTableNotFound, "Table not found: %s", s.resolveTableName(*name))
	}
	return t, err
}

func (s *Server) handleDescribeContinuousBackups(ctx context.Context, r *request) (any, error) {
	var req tableNameRequest
	if err := decode(r.body, &req); err != nil {
		return nil, err
	}
	t, err := s.backupTable(ctx, req.TableName)
	if err != nil {
		return nil, err
	}
	return s.continuousBackupsOf(t, s.cfg.Now()), nil
}

func (s *Server) handleUpdateContinuousBackups(ctx context.Context, r *request) (any, error) {
	var req updateContinuousBackupsRequest
	if err := decode(r.body, &req); err != nil {
		return nil, err
	}
	spec := req.PointInTimeRecoverySpecification
	var v violations
	v.tableName(req.TableName, "tableName")
	v.notNull(spec != nil, "pointInTimeRecoverySpecification")
	if spec != nil {
		v.notNull(spec.PointInTimeRecoveryEnabled != nil, "pointInTimeRecoverySpecification.pointInTimeRecoveryEnabled")
		if d := spec.RecoveryPeriodInDays; d != nil && *d < minRecoveryDays {
			v.add(*d, "pointInTimeRecoverySpecification.recoveryPeriodInDays", fmt.Sprintf("Member must have value greater than or equal to %d", minRecoveryDays))
		} else if d != nil && *d > maxRecoveryDays {
			v.add(*d, "pointInTimeRecoverySpecification.recoveryPeriodInDays", fmt.Sprintf("Member must have value less than or equal to %d", maxRecoveryDays))
		}
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	t, err := s.backupTable(ctx, req.TableName)
	if err != nil {
		return nil, err
	}
	enable := *spec.PointInTimeRecoveryEnabled
	if !enable && spec.RecoveryPeriodInDays != nil {
		return nil, validationf("RecoveryPeriodInDays can only be specified when PointInTimeRecoveryEnabled is true")
	}
	if enable {
		if err := s.needPITR(); err != nil {
			return nil, err
		}
	}
	now := s.cfg.Now()
	updated, err := s.cfg.Backend.UpdateTable(ctx, t.GetName(), func(t *partitapb.Table) (*partitapb.Table, error) {
		var floor time.Time
		if t.GetPointInTimeRecovery() != nil {
			floor, _ = s.restorableWindow(t, now)
		}
		setPointInTimeRecovery(t, enable, spec.RecoveryPeriodInDays, now, floor)
		return t, nil
	})
	switch {
	case isDomainCode(err, partitapb.Error_TABLE_NOT_FOUND):
		return nil, newError(kindTableNotFound, "Table not found: %s", t.GetName())
	case err != nil:
		return nil, fmt.Errorf("dynamo: update the continuous backups of %q: %w", t.GetName(), err)
	}
	return s.continuousBackupsOf(updated, now), nil
}

// setPointInTimeRecovery enables (keeping the time it was first enabled)
// or disables t's point-in-time recovery, and widens or narrows its
// change view to match. A change of the period keeps floor, the earliest
// restorable time before it, as the window's floor.
func setPointInTimeRecovery(t *partitapb.Table, enable bool, days *int64, now, floor time.Time) {
	if !enable {
		t.PointInTimeRecovery = nil
		t.ChangeView = fsm.TableLogView(t)
		return
	}
	p := t.GetPointInTimeRecovery()
	if p == nil {
		p = &partitapb.PointInTimeRecovery{EnabledUnixNanos: now.UnixNano(), RecoveryPeriodDays: defaultRecoveryDays}
	}
	if days != nil && int32(*days) != p.GetRecoveryPeriodDays() {
		if p.GetEnabledUnixNanos() != now.UnixNano() {
			p.WindowFloorUnixNanos = floor.UnixNano()
		}
		p.RecoveryPeriodDays = int32(*days)
	}
	t.PointInTimeRecovery = p
	t.ChangeView = fsm.TableLogView(t)
}

// needPITR refuses point-in-time recovery where the node has no backups
// or the cluster version does not allow it yet.
func (s *Server) needPITR() error {
	if s.cfg.Backups == nil {
		return newError(kindContinuousBackupsUnavailable, "Point-in-time recovery needs this node's backup job (--backup-interval)")
	}
	return s.cfg.Backups.NeedPointInTimeRecovery()
}
