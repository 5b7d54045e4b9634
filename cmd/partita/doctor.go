package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"gocloud.dev/blob"
	_ "gocloud.dev/blob/fileblob" // file:// buckets
	_ "gocloud.dev/blob/memblob"  // mem:// buckets
	_ "gocloud.dev/blob/s3blob"   // s3:// buckets, S3-compatible endpoints included

	"github.com/partitadb/partita/topology/ingest"
)

func newDoctorCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "The control plane's tools: replay the cluster's topology history",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newDoctorReplayCmd())
	return cmd
}

// replayFlags are the flags of `partita doctor replay`.
type replayFlags struct {
	bucket, at, from, to string
	step, lookback       time.Duration
	interval, deadAfter  time.Duration
	output               string
}

func newDoctorReplayCmd() *cobra.Command {
	f := &replayFlags{}
	cmd := &cobra.Command{
		Use:   "replay --bucket URL (--at TIME | --from TIME --to TIME)",
		Short: "Rebuild the cluster view of the past from the topology bucket alone",
		Long: `Rebuild the cluster view as it was at a moment from the topology snapshots
the nodes published to a bucket (file://, mem://, s3://...; for an
S3-compatible endpoint: s3://B?endpoint=http://HOST:PORT&s3ForcePathStyle=true&region=us-east-1).

  --at TIME              the view at TIME (nodes, zones, partitions, leaders, lag, load)
  --from T1 --to T2      walk from T1 to T2 every --step and print what changed:
                         nodes appearing, turning suspect or dead, restarting,
                         leaders moving, partitions appearing, lag growing

TIME is RFC 3339 (2026-12-03T16:05:00Z), "now", or a duration before now
(-15m). Snapshots taken up to --lookback before a view's time are read: a
node silent for longer does not appear. Liveness uses --interval (for
snapshots that do not carry theirs) and --dead-after as the nodes' ingester
does.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return f.run(cmd) },
	}
	def := ingest.DefaultConfig()
	cmd.Flags().StringVar(&f.bucket, "bucket", "", "topology bucket URL (required)")
	cmd.Flags().StringVar(&f.at, "at", "", "the moment to rebuild")
	cmd.Flags().StringVar(&f.from, "from", "", "start of a walk")
	cmd.Flags().StringVar(&f.to, "to", "", "end of a walk")
	cmd.Flags().DurationVar(&f.step, "step", def.Interval, "a walk's step")
	cmd.Flags().DurationVar(&f.lookback, "lookback", 10*time.Minute, "how far before a view's time snapshots are read")
	cmd.Flags().DurationVar(&f.interval, "interval", def.Interval, "the nodes' topology interval")
	cmd.Flags().DurationVar(&f.deadAfter, "dead-after", def.DeadAfter, "age of a node's newest snapshot after which it is dead")
	cmd.Flags().StringVarP(&f.output, "output", "o", "table", "output format: table or json")
	return cmd
}

func (f *replayFlags) run(cmd *cobra.Command) error {
	if f.bucket == "" {
		return fmt.Errorf("--bucket is required")
	}
	if f.output != "table" && f.output != "json" {
		return fmt.Errorf("-o %q: want table or json", f.output)
	}
	now := time.Now()
	ctx := cmd.Context()
	b, err := blob.OpenBucket(ctx, f.bucket)
	if err != nil {
		return fmt.Errorf("--bucket %s: %w", f.bucket, err)
	}
	defer b.Close()
	cfg := ingest.DefaultConfig()
	cfg.Interval, cfg.DeadAfter = f.interval, f.deadAfter
	cfg.Forget = max(cfg.Forget, f.deadAfter)
	rp := ingest.Replay{Bucket: b, Config: cfg, Lookback: f.lookback}
	switch {
	case f.at != "" && f.from == "" && f.to == "":
		at, err := parseWhen(f.at, now)
		if err != nil {
			return fmt.Errorf("--at: %w", err)
		}
		return f.printAt(ctx, cmd, rp, at)
	case f.at == "" && f.from != "" && f.to != "":
		from, err := parseWhen(f.from, now)
		if err != nil {
			return fmt.Errorf("--from: %w", err)
		}
		to, err := parseWhen(f.to, now)
		if err != nil {
			return fmt.Errorf("--to: %w", err)
		}
		return f.printWalk(ctx, cmd, rp, from, to)
	}
	return fmt.Errorf("give --at, or --from and --to")
}

func (f *replayFlags) printAt(ctx context.Context, cmd *cobra.Command, rp ingest.Replay, at time.Time) error {
	v, st, err := rp.At(ctx, at)
	if err != nil {
		return err
	}
	if f.output == "json" {
		enc := json.NewEncoder(cmd.OutOrStdout())
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "replayed %s: read %d snapshots (%d bytes), kept %d, skipped %d, unreadable %d\n",
		f.bucket, st.Read, st.Bytes, st.Added, st.Skipped, st.Errors)
	printView(w, v)
	return w.Flush()
}

func (f *replayFlags) printWalk(ctx context.Context, cmd *cobra.Command, rp ingest.Replay, from, to time.Time) error {
	var all []ingest.Change
	err := rp.Walk(ctx, from, to, f.step, func(s ingest.Step) error {
		if f.output == "json" {
			all = append(all, s.Changes...)
			return nil
		}
		printChanges(cmd.OutOrStdout(), s.Changes)
		return nil
	})
	if err != nil {
		return err
	}
	if f.output == "json" {
		if all == nil {
			all = []ingest.Change{}
		}
		enc := json.NewEncoder(cmd.OutOrStdout())
		enc.SetIndent("", "  ")
		return enc.Encode(all)
	}
	return nil
}

// parseWhen reads an RFC 3339 time, "now", or a duration before now.
func parseWhen(s string, now time.Time) (time.Time, error) {
	switch {
	case s == "now":
		return now, nil
	case strings.HasPrefix(s, "-"):
		d, err := time.ParseDuration(s)
		if err != nil {
			return time.Time{}, err
		}
		return now.Add(d), nil
	}
	return time.Parse(time.RFC3339Nano, s)
}
