package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/partitadb/partita/admin"
)

// ctlBackupPoll is how often `ctl backup create` and `restore` look at
// their progress while they wait.
const ctlBackupPoll = 500 * time.Millisecond

func newCtlBackupCmd(f *ctlFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "backup", Short: "On-demand backups: create, list, describe, restore (docs/backups.md)", Args: cobra.NoArgs}
	cmd.AddCommand(newCtlBackupCreateCmd(f), newCtlBackupListCmd(f), newCtlBackupDescribeCmd(f), newCtlBackupRestoreCmd(f),
		newCtlBackupRestorePITRCmd(f))
	return cmd
}

func newCtlBackupCreateCmd(f *ctlFlags) *cobra.Command {
	var name string
	var wait time.Duration
	cmd := &cobra.Command{
		Use:   "create TABLE",
		Short: "Back up a table, showing the partitions written until it is AVAILABLE",
		Long: `Start an on-demand backup of TABLE (as DynamoDB's CreateBackup) and, unless
--wait is 0, show its progress (partitions written to the backup bucket)
until it is AVAILABLE.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if name == "" {
				name = args[0] + "-" + time.Now().UTC().Format("20060102-150405")
			}
			var b admin.BackupInfo
			path := "/cluster/backups?" + url.Values{"table": {args[0]}, "name": {name}}.Encode()
			if err := f.run(cmd, http.MethodPost, path, time.Minute, &b, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "backup %s of %s started: %s\n", b.Name, b.Table, b.Arn)
			}); err != nil || wait == 0 {
				return err
			}
			return f.waitBackup(cmd, b.Arn, wait)
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "backup name (default TABLE-<UTC time>)")
	cmd.Flags().DurationVar(&wait, "wait", 10*time.Minute, "how long to show progress (0: return at once)")
	return cmd
}

// waitBackup shows the backup's progress until it is AVAILABLE.
func (f *ctlFlags) waitBackup(cmd *cobra.Command, arn string, wait time.Duration) error {
	last := ""
	for deadline := time.Now().Add(wait); ; time.Sleep(ctlBackupPoll) {
		b, err := f.getBackup(cmd, arn)
		if err != nil {
			return err
		}
		line := fmt.Sprintf("%s: %d/%d partitions written", b.Status, b.Written, b.Partitions)
		if b.Status != "CREATING" {
			line = fmt.Sprintf("%s: %d items, %d bytes", b.Status, b.Items, b.Bytes)
		}
		if line != last && f.output != "json" {
			fmt.Fprintln(cmd.OutOrStdout(), line)
			last = line
		}
		if b.Status != "CREATING" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("backup %s still CREATING after %s", arn, wait)
		}
	}
}

func (f *ctlFlags) getBackup(cmd *cobra.Command, arn string) (admin.BackupInfo, error) {
	var b admin.BackupInfo
	body, err := f.call(cmd.Context(), http.MethodGet, "/cluster/backup?"+url.Values{"arn": {arn}}.Encode(), nil)
	if err != nil {
		return b, err
	}
	return b, json.Unmarshal(body, &b)
}

func newCtlBackupListCmd(f *ctlFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the backups",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var bs []admin.BackupInfo
			return f.run(cmd, http.MethodGet, "/cluster/backups", 30*time.Second, &bs, func(w *tabwriter.Writer) {
				fmt.Fprintln(w, "TABLE\tNAME\tSTATUS\tCREATED\tITEMS\tBYTES\tARN")
				for _, b := range bs {
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%d\t%s\n", b.Table, b.Name, b.Status,
						time.Unix(b.CreatedUnix, 0).UTC().Format(time.RFC3339), b.Items, b.Bytes, b.Arn)
				}
			})
		},
	}
}

func newCtlBackupDescribeCmd(f *ctlFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "describe ARN",
		Short: "Show one backup",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var b admin.BackupInfo
			path := "/cluster/backup?" + url.Values{"arn": {args[0]}}.Encode()
			return f.run(cmd, http.MethodGet, path, 30*time.Second, &b, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "arn\t%s\nname\t%s\ntable\t%s\nstatus\t%s\npartitions\t%d/%d written\nitems\t%d\nbytes\t%d\ncreated\t%s\n",
					b.Arn, b.Name, b.Table, b.Status, b.Written, b.Partitions, b.Items, b.Bytes,
					time.Unix(b.CreatedUnix, 0).UTC().Format(time.RFC3339))
			})
		},
	}
}

func newCtlBackupRestoreCmd(f *ctlFlags) *cobra.Command {
	var wait time.Duration
	cmd := &cobra.Command{
		Use:   "restore ARN TABLE",
		Short: "Restore a backup to a new table, waiting until it is ACTIVE",
		Long: `Restore the backup ARN to a new table TABLE (as DynamoDB's
RestoreTableFromBackup, without overrides) and, unless --wait is 0, wait
until every item is written and the table is ACTIVE.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			var r admin.RestoreInfo
			path := "/cluster/backup/restore?" + url.Values{"arn": {args[0]}, "table": {args[1]}}.Encode()
			if err := f.run(cmd, http.MethodPost, path, time.Minute, &r, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "restoring %s into table %s\n", r.Backup, r.Table)
			}); err != nil || wait == 0 {
				return err
			}
			return f.waitRestore(cmd, args[1], wait)
		},
	}
	cmd.Flags().DurationVar(&wait, "wait", 30*time.Minute, "how long to wait for the restore (0: return at once)")
	return cmd
}

func newCtlBackupRestorePITRCmd(f *ctlFlags) *cobra.Command {
	var wait time.Duration
	var at string
	cmd := &cobra.Command{
		Use:   "restore-pitr SOURCE TABLE",
		Short: "Restore a table as of a point in time to a new table, waiting until it is ACTIVE",
		Long: `Restore table SOURCE, which must have point-in-time recovery enabled,
as it was at --time (RFC 3339; default: its latest restorable time) to a
new table TABLE (as DynamoDB's RestoreTableToPointInTime, without
overrides) and, unless --wait is 0, wait until every item is written and
the table is ACTIVE.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			q := url.Values{"source": {args[0]}, "table": {args[1]}}
			if at != "" {
				if _, err := time.Parse(time.RFC3339Nano, at); err != nil {
					return fmt.Errorf("--time: %w", err)
				}
				q.Set("time", at)
			}
			var r admin.RestoreInfo
			if err := f.run(cmd, http.MethodPost, "/cluster/backup/restore-pitr?"+q.Encode(), time.Minute, &r, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "restoring %s as of %s into table %s\n", r.Source,
					time.UnixMilli(r.AsOfUnixMilli).UTC().Format(time.RFC3339Nano), r.Table)
			}); err != nil || wait == 0 {
				return err
			}
			return f.waitRestore(cmd, args[1], wait)
		},
	}
	cmd.Flags().StringVar(&at, "time", "", "the time to restore to, RFC 3339 (default: the latest restorable time)")
	cmd.Flags().DurationVar(&wait, "wait", 30*time.Minute, "how long to wait for the restore (0: return at once)")
	return cmd
}

// waitRestore waits for the restore of table to end, saying how long it
// has run.
func (f *ctlFlags) waitRestore(cmd *cobra.Command, table string, wait time.Duration) error {
	start, shown := time.Now(), time.Duration(0)
	for deadline := start.Add(wait); ; time.Sleep(ctlBackupPoll) {
		var r admin.RestoreInfo
		body, err := f.call(cmd.Context(), http.MethodGet, "/cluster/restores/"+url.PathEscape(table), nil)
		if err == nil {
			err = json.Unmarshal(body, &r)
		}
		if err != nil {
			return err
		}
		if !r.InProgress {
			if f.output != "json" {
				fmt.Fprintf(cmd.OutOrStdout(), "table %s ACTIVE: %d items restored in %s\n", table, r.Items, time.Since(start).Round(time.Millisecond))
			}
			return nil
		}
		if el := time.Since(start); el-shown >= 5*time.Second && f.output != "json" {
			fmt.Fprintf(cmd.OutOrStdout(), "restoring, %s...\n", el.Round(time.Second))
			shown = el
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("table %s still restoring after %s", table, wait)
		}
	}
}
