package admin

import (
	"context"
	"fmt"
	"net/http"
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

// RestoreInfo is a table restored from a backup.
type RestoreInfo struct {
	Table      string `json:"table"`
	Backup     string `json:"backup"`
	InProgress bool   `json:"in_progress"`
	Items      int64  `json:"items"`
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
}

// handleBackups serves, when c implements Backups:
//
//	POST /cluster/backups?table=T&name=N     start a backup
//	GET  /cluster/backups                    list the backups
//	GET  /cluster/backup?arn=A               one backup
//	POST /cluster/backup/restore?arn=A&table=T   restore A to table T
//	GET  /cluster/restores/{table}           a restore's progress
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
	mux.HandleFunc("GET /cluster/restores/{table}", func(w http.ResponseWriter, r *http.Request) {
		res, err := b.RestoreStatus(r.Context(), r.PathValue("table"))
		reply(w, res, err)
	})
}
