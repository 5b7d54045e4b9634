package dynamo

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/partitapb"
)

// On-demand backups (docs/backups.md). The wire layer checks requests and
// shapes answers; Config.Backups keeps the records and moves the data.

// Backups is what the backup operations need below the wire layer. The
// node implements it; its jobs write a CREATING backup's partitions to the
// backup bucket and fill a restored table. Methods are safe for
// concurrent use; domain errors are *partitapb.Error values.
type Backups interface {
	// CreateBackup records b (status CREATING) and starts writing it.
	CreateBackup(ctx context.Context, b *partitapb.Backup) (*partitapb.Backup, error)
	// Backup returns the backup with arn, or a BACKUP_NOT_FOUND error.
	Backup(ctx context.Context, arn string) (*partitapb.Backup, error)
	// Backups lists every backup record.
	Backups(ctx context.Context) ([]*partitapb.Backup, error)
	// DeleteBackup deletes the backup with arn and returns it DELETED.
	DeleteBackup(ctx context.Context, arn string) (*partitapb.Backup, error)
	// Restore creates table t (its Restore set, in progress) and starts
	// writing the items of the backup t.Restore names into it.
	Restore(ctx context.Context, t *partitapb.Table) (*partitapb.Table, error)
	// FreshTable reads the named table's record from the directory, not
	// a cache: a table being restored is read so, to see the restore end.
	FreshTable(ctx context.Context, name string) (*partitapb.Table, error)
	// NeedPointInTimeRecovery refuses (VALIDATION) while the cluster
	// version in force does not allow point-in-time recovery.
	NeedPointInTimeRecovery() error
}

// The backup errors, as DynamoDB sends them.
var (
	kindBackupNotFound     = errKind{nsDynamo + "BackupNotFoundException", http.StatusBadRequest, "message"}
	kindBackupInUse        = errKind{nsDynamo + "BackupInUseException", http.StatusBadRequest, "message"}
	kindTableNotFound      = errKind{nsDynamo + "TableNotFoundException", http.StatusBadRequest, "message"}
	kindTableAlreadyExists = errKind{nsDynamo + "TableAlreadyExistsException", http.StatusBadRequest, "message"}
	kindTableInUse         = errKind{nsDynamo + "TableInUseException", http.StatusBadRequest, "message"}
)

const backupNamePattern = "[a-zA-Z0-9_.-]+"

type createBackupRequest struct {
	TableName  *string `json:"TableName"`
	BackupName *string `json:"BackupName"`
}

type backupArnRequest struct {
	BackupArn *string `json:"BackupArn"`
}

type backupDetails struct {
	BackupArn              string  `json:"BackupArn"`
	BackupName             string  `json:"BackupName"`
	BackupSizeBytes        *int64  `json:"BackupSizeBytes,omitempty"`
	BackupStatus           string  `json:"BackupStatus"`
	BackupType             string  `json:"BackupType"`
	BackupCreationDateTime float64 `json:"BackupCreationDateTime"`
}

type createBackupResponse struct {
	BackupDetails backupDetails `json:"BackupDetails"`
}

type sourceTableDetails struct {
	TableName             string                `json:"TableName"`
	TableId               string                `json:"TableId"`
	TableArn              string                `json:"TableArn"`
	TableSizeBytes        int64                 `json:"TableSizeBytes"`
	KeySchema             []keySchemaOut        `json:"KeySchema"`
	TableCreationDateTime float64               `json:"TableCreationDateTime"`
	ProvisionedThroughput throughputDescription `json:"ProvisionedThroughput"`
	ItemCount             int64                 `json:"ItemCount"`
	BillingMode           string                `json:"BillingMode"`
}

type sourceTableFeatureDetails struct {
	GlobalSecondaryIndexes []globalIndexDescription `json:"GlobalSecondaryIndexes,omitempty"`
}

type backupDescription struct {
	BackupDetails             backupDetails             `json:"BackupDetails"`
	SourceTableDetails        sourceTableDetails        `json:"SourceTableDetails"`
	SourceTableFeatureDetails sourceTableFeatureDetails `json:"SourceTableFeatureDetails"`
}

type backupDescriptionResponse struct {
	BackupDescription backupDescription `json:"BackupDescription"`
}

// backups returns Config.Backups, or an error when the node has none.
func (s *Server) backups() (Backups, error) {
	if s.cfg.Backups == nil {
		return nil, validationf("Backups are not available on this node")
	}
	return s.cfg.Backups, nil
}

func (s *Server) handleCreateBackup(ctx context.Context, r *request) (any, error) {
	var req createBackupRequest
	if err := decode(r.body, &req); err != nil {
		return nil, err
	}
	var v violations
	v.tableName(req.TableName, "tableName")
	v.notNull(req.BackupName != nil, "backupName")
	v.backupName(req.BackupName, "backupName")
	if err := v.err(); err != nil {
		return nil, err
	}
	bs, err := s.backups()
	if err != nil {
		return nil, err
	}
	if _, err := s.backupTable(ctx, req.TableName); err != nil {
		return nil, err
	}
	t, err := s.lookupTable(ctx, *req.TableName, true)
	if err != nil {
		return nil, err
	}
	if tableStatus(t) != statusActive {
		return nil, newError(kindTableInUse, "Table is not in ACTIVE state: %s", t.GetName())
	}
	b, err := bs.CreateBackup(ctx, s.newBackupRecord(t, *req.BackupName))
	if err != nil {
		return nil, fmt.Errorf("dynamo: create backup: %w", err)
	}
	return &createBackupResponse{BackupDetails: s.backupDetails(b)}, nil
}

// isNotFound reports whether err is the wire's ResourceNotFoundException.
func isNotFound(err error) bool {
	ae, ok := err.(*apiError)
	return ok && ae.Kind == kindResourceNotFound
}

// newBackupRecord is the record of a new backup of t: its ARN, as
// DynamoDB makes them (table ARN, /backup/, creation milliseconds and a
// random suffix), and the partitions to read.
func (s *Server) newBackupRecord(t *partitapb.Table, name string) *partitapb.Backup {
	now := s.cfg.Now()
	var suffix [4]byte
	_, _ = rand.Read(suffix[:])
	id := fmt.Sprintf("%014d-%s", now.UnixMilli(), hex.EncodeToString(suffix[:]))
	b := &partitapb.Backup{
		Arn:       s.tableARN(t.GetName()) + "/backup/" + id,
		Name:      name,
		TableName: t.GetName(),
		TableArn:  s.tableARN(t.GetName()),
		TableId:   t.GetId(),
		Status:    directory.BackupCreating,
		Table:     t,
		Prefix:    "backups/" + t.GetName() + "/" + id,
	}
	for _, p := range t.GetPartitions() {
		b.Partitions = append(b.Partitions, p.GetId())
	}
	return b
}

func (s *Server) backupDetails(b *partitapb.Backup) backupDetails {
	d := backupDetails{
		BackupArn:              b.GetArn(),
		BackupName:             b.GetName(),
		BackupStatus:           b.GetStatus(),
		BackupType:             "USER",
		BackupCreationDateTime: epochSeconds(b.GetCreatedUnixNanos()),
	}
	if b.GetStatus() != directory.BackupCreating {
		size := b.GetBytes()
		d.BackupSizeBytes = &size
	}
	return d
}

func (s *Server) describeBackup(b *partitapb.Backup) backupDescription {
	t := b.GetTable()
	d := backupDescription{
		BackupDetails: s.backupDetails(b),
		SourceTableDetails: sourceTableDetails{
			TableName:             b.GetTableName(),
			TableId:               tableID(t),
			TableArn:              b.GetTableArn(),
			TableSizeBytes:        b.GetBytes(),
			TableCreationDateTime: epochSeconds(t.GetCreationUnixNanos()),
			ProvisionedThroughput: throughputOf(t),
			ItemCount:             b.GetItems(),
			BillingMode:           billingOf(t).BillingMode,
		},
	}
	for _, k := range t.GetKeySchema() {
		d.SourceTableDetails.KeySchema = append(d.SourceTableDetails.KeySchema, keySchemaOut{k.GetAttributeName(), k.GetKeyType()})
	}
	d.SourceTableFeatureDetails.GlobalSecondaryIndexes = s.describeIndexes(t, nil)
	return d
}

// lookupBackup checks a BackupArn parameter and returns its backup.
func (s *Server) lookupBackup(ctx context.Context, r *request) (*partitapb.Backup, Backups, error) {
	var req backupArnRequest
	if err := decode(r.body, &req); err != nil {
		return nil, nil, err
	}
	var v violations
	v.notNull(req.BackupArn != nil, "backupArn")
	v.length(req.BackupArn, "backupArn", 37, 1024)
	if err := v.err(); err != nil {
		return nil, nil, err
	}
	bs, err := s.backups()
	if err != nil {
		return nil, nil, err
	}
	b, err := bs.Backup(ctx, *req.BackupArn)
	if err != nil {
		return nil, nil, backupError(err)
	}
	return b, bs, nil
}

// backupError maps the backup domain errors to the wire.
func backupError(err error) error {
	switch {
	case isDomainCode(err, partitapb.Error_BACKUP_NOT_FOUND):
		return newError(kindBackupNotFound, "Backup not found for the given BackupARN.")
	case isDomainCode(err, partitapb.Error_BACKUP_IN_USE):
		return newError(kindBackupInUse, "%s", err.Error())
	}
	return fmt.Errorf("dynamo: backup: %w", err)
}

func (s *Server) handleDescribeBackup(ctx context.Context, r *request) (any, error) {
	b, _, err := s.lookupBackup(ctx, r)
	if err != nil {
		return nil, err
	}
	return &backupDescriptionResponse{BackupDescription: s.describeBackup(b)}, nil
}

func (s *Server) handleDeleteBackup(ctx context.Context, r *request) (any, error) {
	b, bs, err := s.lookupBackup(ctx, r)
	if err != nil {
		return nil, err
	}
	if b, err = bs.DeleteBackup(ctx, b.GetArn()); err != nil {
		return nil, backupError(err)
	}
	return &backupDescriptionResponse{BackupDescription: s.describeBackup(b)}, nil
}

// backupName checks a BackupName parameter (nil passes).
func (v *violations) backupName(name *string, path string) {
	if name == nil {
		return
	}
	if !backupNameRE.MatchString(*name) {
		v.add(name, path, "Member must satisfy regular expression pattern: "+backupNamePattern)
	}
	v.length(name, path, 3, 255)
}

var backupNameRE = tableNameRE // the same rule: [a-zA-Z0-9_.-]+

type listBackupsRequest struct {
	TableName               *string  `json:"TableName"`
	Limit                   *int64   `json:"Limit"`
	TimeRangeLowerBound     *float64 `json:"TimeRangeLowerBound"`
	TimeRangeUpperBound     *float64 `json:"TimeRangeUpperBound"`
	ExclusiveStartBackupArn *string  `json:"ExclusiveStartBackupArn"`
	BackupType              *string  `json:"BackupType"`
}

type backupSummary struct {
	TableName              string  `json:"TableName"`
	TableId                string  `json:"TableId"`
	TableArn               string  `json:"TableArn"`
	BackupArn              string  `json:"BackupArn"`
	BackupName             string  `json:"BackupName"`
	BackupCreationDateTime float64 `json:"BackupCreationDateTime"`
	BackupStatus           string  `json:"BackupStatus"`
	BackupType             string  `json:"BackupType"`
	BackupSizeBytes        *int64  `json:"BackupSizeBytes,omitempty"`
}

type listBackupsResponse struct {
	BackupSummaries        []backupSummary `json:"BackupSummaries"`
	LastEvaluatedBackupArn *string         `json:"LastEvaluatedBackupArn,omitempty"`
}

// maxListBackups is ListBackups' page size bound.
const maxListBackups = 100

func (s *Server) handleListBackups(ctx context.Context, r *request) (any, error) {
	var req listBackupsRequest
	if err := decode(r.body, &req); err != nil {
		return nil, err
	}
	var v violations
	if req.TableName != nil {
		v.tableName(req.TableName, "tableName")
	}
	v.limit(req.Limit, maxListBackups)
	v.enum(req.BackupType, "backupType", "USER", "SYSTEM", "AWS_BACKUP", "ALL")
	v.length(req.ExclusiveStartBackupArn, "exclusiveStartBackupArn", 37, 1024)
	if err := v.err(); err != nil {
		return nil, err
	}
	bs, err := s.backups()
	if err != nil {
		return nil, err
	}
	all, err := bs.Backups(ctx)
	if err != nil {
		return nil, fmt.Errorf("dynamo: list backups: %w", err)
	}
	return s.listBackupsPage(&req, all), nil
}

// listBackupsPage filters all by req and returns one page, oldest first.
func (s *Server) listBackupsPage(req *listBackupsRequest, all []*partitapb.Backup) *listBackupsResponse {
	slices.SortFunc(all, func(a, b *partitapb.Backup) int {
		return cmp.Or(cmp.Compare(a.GetCreatedUnixNanos(), b.GetCreatedUnixNanos()), strings.Compare(a.GetArn(), b.GetArn()))
	})
	if req.ExclusiveStartBackupArn != nil {
		if i := slices.IndexFunc(all, func(b *partitapb.Backup) bool { return b.GetArn() == *req.ExclusiveStartBackupArn }); i >= 0 {
			all = all[i+1:]
		}
	}
	limit := maxListBackups
	if req.Limit != nil {
		limit = int(*req.Limit)
	}
	out := &listBackupsResponse{BackupSummaries: []backupSummary{}}
	for _, b := range all {
		if !s.backupMatches(req, b) {
			continue
		}
		if len(out.BackupSummaries) == limit {
			last := out.BackupSummaries[limit-1].BackupArn
			out.LastEvaluatedBackupArn = &last
			break
		}
		out.BackupSummaries = append(out.BackupSummaries, s.backupSummary(b))
	}
	return out
}

// backupMatches applies ListBackups' filters.
func (s *Server) backupMatches(req *listBackupsRequest, b *partitapb.Backup) bool {
	created := epochSeconds(b.GetCreatedUnixNanos())
	switch {
	case req.TableName != nil && s.resolveTableName(*req.TableName) != b.GetTableName():
		return false
	case req.BackupType != nil && *req.BackupType != "USER" && *req.BackupType != "ALL":
		return false
	case req.TimeRangeLowerBound != nil && created < *req.TimeRangeLowerBound:
		return false
	case req.TimeRangeUpperBound != nil && created >= *req.TimeRangeUpperBound:
		return false
	}
	return true
}

func (s *Server) backupSummary(b *partitapb.Backup) backupSummary {
	d := s.backupDetails(b)
	return backupSummary{
		TableName:              b.GetTableName(),
		TableId:                tableID(b.GetTable()),
		TableArn:               b.GetTableArn(),
		BackupArn:              d.BackupArn,
		BackupName:             d.BackupName,
		BackupCreationDateTime: d.BackupCreationDateTime,
		BackupStatus:           d.BackupStatus,
		BackupType:             d.BackupType,
		BackupSizeBytes:        d.BackupSizeBytes,
	}
}

// tableStatus is the status DynamoDB would show for t: CREATING while a
// restore still writes its items.
func tableStatus(t *partitapb.Table) string {
	if t.GetRestore().GetInProgress() || t.GetImportInProgress() {
		return statusCreating
	}
	return t.GetStatus()
}

// StartBackup is CreateBackup for an operator (partita ctl backup
// create): a backup named name of the table named table.
func (s *Server) StartBackup(ctx context.Context, table, name string) (*partitapb.Backup, error) {
	if _, err := s.backupTable(ctx, &table); err != nil {
		return nil, err
	}
	var v violations
	v.backupName(&name, "backupName")
	if err := v.err(); err != nil {
		return nil, err
	}
	bs, err := s.backups()
	if err != nil {
		return nil, err
	}
	t, err := s.lookupTable(ctx, table, true)
	if err != nil {
		return nil, err
	}
	if tableStatus(t) != statusActive {
		return nil, newError(kindTableInUse, "Table is not in ACTIVE state: %s", t.GetName())
	}
	return bs.CreateBackup(ctx, s.newBackupRecord(t, name))
}

// StartRestore is RestoreTableFromBackup for an operator (partita ctl
// backup restore), without overrides.
func (s *Server) StartRestore(ctx context.Context, arn, table string) (*partitapb.Table, error) {
	body, err := json.Marshal(restoreTableFromBackupRequest{TargetTableName: &table, BackupArn: &arn})
	if err != nil {
		return nil, err
	}
	res, err := s.handleRestoreTableFromBackup(ctx, &request{body: body})
	if err != nil {
		return nil, err
	}
	return s.cfg.Backups.FreshTable(ctx, res.(*tableResponse).TableDescription.TableName)
}

// IsRequestError reports whether err refuses a request (what a DynamoDB
// client gets as an HTTP 400), rather than a failure of the node.
func IsRequestError(err error) bool {
	e, internal := toAPIError(err)
	return !internal && e.Kind.Status == http.StatusBadRequest
}
