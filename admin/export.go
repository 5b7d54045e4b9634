package admin

import (
	"context"
	"fmt"
	"net/http"
)

// ExportInfo is a table export as ctl shows it (docs/exports.md).
type ExportInfo struct {
	Arn    string `json:"arn"`
	Table  string `json:"table"`
	Status string `json:"status"` // IN_PROGRESS, COMPLETED, FAILED
	Bucket string `json:"bucket"`
	Prefix string `json:"prefix,omitempty"`
	// Partitions is how many partitions the export reads; Written how
	// many are in the bucket.
	Partitions int    `json:"partitions"`
	Written    int    `json:"written"`
	Items      int64  `json:"items"`
	Bytes      int64  `json:"bytes"`
	Manifest   string `json:"manifest,omitempty"`
	Failure    string `json:"failure,omitempty"`
	StartUnix  int64  `json:"start_unix"`
	EndUnix    int64  `json:"end_unix,omitempty"`
}

// ImportInfo is a table import as ctl shows it.
type ImportInfo struct {
	Arn       string `json:"arn"`
	Table     string `json:"table"`
	Status    string `json:"status"` // IN_PROGRESS, COMPLETED, FAILED
	Bucket    string `json:"bucket"`
	Prefix    string `json:"prefix,omitempty"`
	Processed int64  `json:"processed"`
	Imported  int64  `json:"imported"`
	Errors    int64  `json:"errors"`
	Failure   string `json:"failure,omitempty"`
	StartUnix int64  `json:"start_unix"`
	EndUnix   int64  `json:"end_unix,omitempty"`
}

// Exports is what the export and import routes need; a Cluster that
// implements it serves them.
type Exports interface {
	// CreateExport starts an export of table to bucket, under prefix.
	CreateExport(ctx context.Context, table, bucket, prefix string) (ExportInfo, error)
	// ListExports lists every export.
	ListExports(ctx context.Context) ([]ExportInfo, error)
	// DescribeExport returns the export with arn.
	DescribeExport(ctx context.Context, arn string) (ExportInfo, error)
	// ImportExport starts importing the completed export arn into a new
	// table with the exported table's schema.
	ImportExport(ctx context.Context, arn, table string) (ImportInfo, error)
	// ListImports lists every import.
	ListImports(ctx context.Context) ([]ImportInfo, error)
	// DescribeImport returns the import with arn.
	DescribeImport(ctx context.Context, arn string) (ImportInfo, error)
}

// handleExports serves, when c implements Exports:
//
//	POST /cluster/exports?table=T&bucket=B&prefix=P   start an export
//	GET  /cluster/exports                             list the exports
//	GET  /cluster/export?arn=A                        one export
//	POST /cluster/imports?export=A&table=T            import export A into table T
//	GET  /cluster/imports                             list the imports
//	GET  /cluster/import?arn=A                        one import
func handleExports(mux *http.ServeMux, c Cluster) {
	x, ok := c.(Exports)
	if !ok {
		return
	}
	mux.HandleFunc("POST /cluster/exports", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("table") == "" || q.Get("bucket") == "" {
			reply(w, nil, fmt.Errorf("%w: want /cluster/exports?table=T&bucket=B[&prefix=P]", ErrBadRequest))
			return
		}
		res, err := x.CreateExport(r.Context(), q.Get("table"), q.Get("bucket"), q.Get("prefix"))
		reply(w, res, err)
	})
	mux.HandleFunc("GET /cluster/exports", func(w http.ResponseWriter, r *http.Request) {
		res, err := x.ListExports(r.Context())
		reply(w, res, err)
	})
	mux.HandleFunc("GET /cluster/export", func(w http.ResponseWriter, r *http.Request) {
		res, err := x.DescribeExport(r.Context(), r.URL.Query().Get("arn"))
		reply(w, res, err)
	})
	mux.HandleFunc("POST /cluster/imports", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("export") == "" || q.Get("table") == "" {
			reply(w, nil, fmt.Errorf("%w: want /cluster/imports?export=A&table=T", ErrBadRequest))
			return
		}
		res, err := x.ImportExport(r.Context(), q.Get("export"), q.Get("table"))
		reply(w, res, err)
	})
	mux.HandleFunc("GET /cluster/imports", func(w http.ResponseWriter, r *http.Request) {
		res, err := x.ListImports(r.Context())
		reply(w, res, err)
	})
	mux.HandleFunc("GET /cluster/import", func(w http.ResponseWriter, r *http.Request) {
		res, err := x.DescribeImport(r.Context(), r.URL.Query().Get("arn"))
		reply(w, res, err)
	})
}
