package main

import (
	"fmt"
	"net/http"
	"net/url"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/partitadb/partita/admin"
)

func newCtlExportCmd(f *ctlFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "export", Short: "Table exports to a bucket: create, list, describe (docs/exports.md)", Args: cobra.NoArgs}
	cmd.AddCommand(newCtlExportCreateCmd(f), newCtlExportListCmd(f), newCtlExportDescribeCmd(f))
	return cmd
}

func newCtlImportCmd(f *ctlFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "import", Short: "Table imports from an export: create, list, describe (docs/exports.md)", Args: cobra.NoArgs}
	cmd.AddCommand(newCtlImportCreateCmd(f), newCtlImportListCmd(f), newCtlImportDescribeCmd(f))
	return cmd
}

func newCtlExportCreateCmd(f *ctlFlags) *cobra.Command {
	var prefix string
	var wait time.Duration
	cmd := &cobra.Command{
		Use:   "create TABLE BUCKET",
		Short: "Export a table to a bucket, showing the partitions written until it ends",
		Long: `Export TABLE to the bucket named BUCKET (as DynamoDB's ExportTableToPointInTime,
an S3Bucket mapped to a URL by the nodes' --export-bucket-url) and, unless
--wait is 0, show its progress (partitions written) until it is COMPLETED
or FAILED.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			var e admin.ExportInfo
			path := "/cluster/exports?" + url.Values{"table": {args[0]}, "bucket": {args[1]}, "prefix": {prefix}}.Encode()
			if err := f.run(cmd, http.MethodPost, path, time.Minute, &e, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "export of %s to %s started: %s\n", e.Table, e.Bucket, e.Arn)
			}); err != nil || wait == 0 {
				return err
			}
			return f.waitExport(cmd, e.Arn, wait)
		},
	}
	cmd.Flags().StringVar(&prefix, "prefix", "", "key prefix of the export's objects (S3Prefix)")
	cmd.Flags().DurationVar(&wait, "wait", 30*time.Minute, "how long to show progress (0: return at once)")
	return cmd
}

// waitExport shows an export's progress until it ends.
func (f *ctlFlags) waitExport(cmd *cobra.Command, arn string, wait time.Duration) error {
	last := ""
	for deadline := time.Now().Add(wait); ; time.Sleep(ctlBackupPoll) {
		var e admin.ExportInfo
		if err := f.get(cmd.Context(), "/cluster/export?"+url.Values{"arn": {arn}}.Encode(), &e); err != nil {
			return err
		}
		line := fmt.Sprintf("%s: %d/%d partitions written", e.Status, e.Written, e.Partitions)
		switch e.Status {
		case "COMPLETED":
			line = fmt.Sprintf("%s: %d items, %d bytes in %ds; manifest %s", e.Status, e.Items, e.Bytes, e.EndUnix-e.StartUnix, e.Manifest)
		case "FAILED":
			line = fmt.Sprintf("%s: %s", e.Status, e.Failure)
		}
		if line != last && f.output != "json" {
			fmt.Fprintln(cmd.OutOrStdout(), line)
			last = line
		}
		if e.Status != "IN_PROGRESS" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("export %s still IN_PROGRESS after %s", arn, wait)
		}
	}
}

func newCtlExportListCmd(f *ctlFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the exports",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var es []admin.ExportInfo
			return f.run(cmd, http.MethodGet, "/cluster/exports", 30*time.Second, &es, func(w *tabwriter.Writer) {
				fmt.Fprintln(w, "TABLE\tSTATUS\tBUCKET\tSTARTED\tITEMS\tBYTES\tARN")
				for _, e := range es {
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%d\t%s\n", e.Table, e.Status, e.Bucket,
						time.Unix(e.StartUnix, 0).UTC().Format(time.RFC3339), e.Items, e.Bytes, e.Arn)
				}
			})
		},
	}
}

func newCtlExportDescribeCmd(f *ctlFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "describe ARN",
		Short: "Show one export",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var e admin.ExportInfo
			path := "/cluster/export?" + url.Values{"arn": {args[0]}}.Encode()
			return f.run(cmd, http.MethodGet, path, 30*time.Second, &e, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "arn\t%s\ntable\t%s\nstatus\t%s\nbucket\t%s\nprefix\t%s\npartitions\t%d/%d written\nitems\t%d\nbytes\t%d\nmanifest\t%s\nstarted\t%s\n",
					e.Arn, e.Table, e.Status, e.Bucket, e.Prefix, e.Written, e.Partitions, e.Items, e.Bytes, e.Manifest,
					time.Unix(e.StartUnix, 0).UTC().Format(time.RFC3339))
				if e.Failure != "" {
					fmt.Fprintf(w, "failure\t%s\n", e.Failure)
				}
			})
		},
	}
}

func newCtlImportCreateCmd(f *ctlFlags) *cobra.Command {
	var wait time.Duration
	cmd := &cobra.Command{
		Use:   "create EXPORT_ARN TABLE",
		Short: "Import a completed export into a new table, showing progress until it ends",
		Long: `Import the data files of the completed export EXPORT_ARN into a new table
TABLE with the exported table's key schema, billing mode and global
secondary indexes (as DynamoDB's ImportTable) and, unless --wait is 0, show
its progress until it is COMPLETED or FAILED.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			var im admin.ImportInfo
			path := "/cluster/imports?" + url.Values{"export": {args[0]}, "table": {args[1]}}.Encode()
			if err := f.run(cmd, http.MethodPost, path, time.Minute, &im, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "import into %s started: %s\n", im.Table, im.Arn)
			}); err != nil || wait == 0 {
				return err
			}
			return f.waitImport(cmd, im.Arn, wait)
		},
	}
	cmd.Flags().DurationVar(&wait, "wait", 30*time.Minute, "how long to show progress (0: return at once)")
	return cmd
}

// waitImport shows an import's progress until it ends.
func (f *ctlFlags) waitImport(cmd *cobra.Command, arn string, wait time.Duration) error {
	last := ""
	for deadline := time.Now().Add(wait); ; time.Sleep(ctlBackupPoll) {
		var im admin.ImportInfo
		if err := f.get(cmd.Context(), "/cluster/import?"+url.Values{"arn": {arn}}.Encode(), &im); err != nil {
			return err
		}
		line := fmt.Sprintf("%s: %d items processed, %d imported, %d errors", im.Status, im.Processed, im.Imported, im.Errors)
		if im.Failure != "" {
			line += ": " + im.Failure
		}
		if line != last && f.output != "json" {
			fmt.Fprintln(cmd.OutOrStdout(), line)
			last = line
		}
		if im.Status != "IN_PROGRESS" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("import %s still IN_PROGRESS after %s", arn, wait)
		}
	}
}

func newCtlImportListCmd(f *ctlFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the imports",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var ims []admin.ImportInfo
			return f.run(cmd, http.MethodGet, "/cluster/imports", 30*time.Second, &ims, func(w *tabwriter.Writer) {
				fmt.Fprintln(w, "TABLE\tSTATUS\tBUCKET\tPREFIX\tIMPORTED\tERRORS\tARN")
				for _, im := range ims {
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%d\t%s\n", im.Table, im.Status, im.Bucket, im.Prefix, im.Imported, im.Errors, im.Arn)
				}
			})
		},
	}
}

func newCtlImportDescribeCmd(f *ctlFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "describe ARN",
		Short: "Show one import",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var im admin.ImportInfo
			path := "/cluster/import?" + url.Values{"arn": {args[0]}}.Encode()
			return f.run(cmd, http.MethodGet, path, 30*time.Second, &im, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "arn\t%s\ntable\t%s\nstatus\t%s\nbucket\t%s\nprefix\t%s\nprocessed\t%d\nimported\t%d\nerrors\t%d\nstarted\t%s\n",
					im.Arn, im.Table, im.Status, im.Bucket, im.Prefix, im.Processed, im.Imported, im.Errors,
					time.Unix(im.StartUnix, 0).UTC().Format(time.RFC3339))
				if im.Failure != "" {
					fmt.Fprintf(w, "failure\t%s\n", im.Failure)
				}
			})
		},
	}
}
