package admin

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// BackupInfo is an on-demand backup as ctl shows it (docs/backups.md).
type BackupInfo struct {
	Arn    string `json:"arn"`
	Name   string `json:"name"`
	Table  string `json:"table"`
	Status string `json:"status"` // CREATING, AVAILABLE, DELETED
	// Partitions is how many partitions the backup reads; Written how
	// many are in the bucket.
	Partitions  int   `json:"partitions"`
	Written     int   `json:"written"`
	Items       int64 `json:"items"`
	Bytes       int64 `json:"bytes"`
	CreatedUnix int64 `json:"created_unix"`
}

// RestoreInfo is a table restored from a backup, or from another table
// as of a time (Source, AsOfUnixMilli).
type RestoreInfo struct {
	Table         string `json:"table"`
	Backup        string `json:"backup,omitempty"`
	Source        string `json:"source,omitempty"`
	AsOfUnixMilli int64  `json:"as_of_unix_milli,omitempty"`
	InProgress    bool   `json:"in_progress"`
	Items         int64  `json:"items"`
}

// Backups is what the backup routes need; a Cluster that implements it
// serves them.
type Backups interface {
	// CreateBackup starts a backup of table, named name.
	CreateBackup(ctx context.Context, table, name string) (BackupInfo, error)
	// ListBackups lists every backup.
	ListBackups(ctx context.Context) ([]BackupInfo, error)
	// DescribeBackup returns the backup with arn.
	DescribeBackup(ctx context.Context, arn string) (BackupInfo, error)
	// RestoreBackup starts restoring the backup with arn to a new table.
	RestoreBackup(ctx context.Context, arn, table string) (RestoreInfo, error)
	// RestoreStatus returns the restore of table.
	RestoreStatus(ctx context.Context, table string) (RestoreInfo, error)
	// RestorePointInTime starts restoring table source as of at (zero:
	// its latest restorable time) to a new table.
	RestorePointInTime(ctx context.Context, source, table string, at time.Time) (RestoreInfo, error)
}

// handleBackups serves, when c implements Backups:
//
//	POST /cluster/backups?table=T&name=N     start a backup
//	GET  /cluster/backups                    list the backups
//	GET  /cluster/backup?arn=A               one backup
//	POST /cluster/backup/restore?arn=A&table=T   restore A to table T
//	GET  /cluster/restores/{table}           a restore's progress
//	POST /cluster/backup/restore-pitr?source=S&table=T[&time=RFC3339]
//	                                         restore S as of a time to T
func handleBackups(mux *http.ServeMux, c Cluster) {
	b, ok := c.(Backups)
	if !ok {
		return
	}
	mux.HandleFunc("POST /cluster/backups", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("table") == "" || q.Get("name") == "" {
			reply(w, nil, fmt.Errorf("%w: want /cluster/backups?table=T&name=N", ErrBadRequest))
			return
		}
		res, err := b.CreateBackup(r.Context(), q.Get("table"), q.Get("name"))
		reply(w, res, err)
	})
	mux.HandleFunc("GET /cluster/backups", func(w http.ResponseWriter, r *http.Request) {
		res, err := b.ListBackups(r.Context())
		reply(w, res, err)
	})
	mux.HandleFunc("GET /cluster/backup", func(w http.ResponseWriter, r *http.Request) {
		res, err := b.DescribeBackup(r.Context(), r.URL.Query().Get("arn"))
		reply(w, res, err)
	})
	mux.HandleFunc("POST /cluster/backup/restore", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("arn") == "" || q.Get("table") == "" {
			reply(w, nil, fmt.Errorf("%w: want /cluster/backup/restore?arn=A&table=T", ErrBadRequest))
			return
		}
		res, err := b.RestoreBackup(r.Context(), q.Get("arn"), q.Get("table"))
		reply(w, res, err)
	})
	mux.HandleFunc("POST /cluster/backup/restore-pitr", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		var at time.Time
		var err error
		if v := q.Get("time"); v != "" {
			at, err = time.Parse(time.RFC3339Nano, v)
		}
		if q.Get("source") == "" || q.Get("table") == "" || err != nil {
			reply(w, nil, fmt.Errorf("%w: want /cluster/backup/restore-pitr?source=S&table=T[&time=RFC3339]", ErrBadRequest))
			return
		}
		res, err := b.RestorePointInTime(r.Context(), q.Get("source"), q.Get("table"), at)
		reply(w, res, err)
	})
	mux.HandleFunc("GET /cluster/restores/{table}", func(w http.ResponseWriter, r *http.Request) {
		res, err := b.RestoreStatus(r.Context(), r.PathValue("table"))
		reply(w, res, err)
	})
}
