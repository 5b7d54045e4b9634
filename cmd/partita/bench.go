package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strings"

	"github.com/spf13/cobra"

	"github.com/partitadb/partita/bench"
)

func newBenchCmd() *cobra.Command {
	cfg := bench.DefaultConfig()
	var (
		endpoints  string
		noLoad     bool
		asJSON     bool
		cpuProfile string
	)
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure a DynamoDB endpoint with real SDK clients",
		Long: `Load a table, then run a workload with concurrent AWS SDK clients and
report throughput and latency percentiles per operation.

Workloads (YCSB's core ones, plus pure ones):
` + workloadHelp() + `
Requests are signed (SigV4) with the key of AWS_ACCESS_KEY_ID and
AWS_SECRET_ACCESS_KEY (or --access-key-id and --secret-access-key), as a
closed cluster (partita start, dev --auth) requires; without one, with a
dummy key that only a cluster with authentication off accepts.

Example: partita bench --workload a --clients 64 --duration 30s --records 100000`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.Endpoints = splitList(endpoints)
			// The environment is read here, so that --help never shows a secret.
			if cfg.AccessKeyID == "" && cfg.SecretAccessKey == "" {
				cfg.AccessKeyID, cfg.SecretAccessKey = os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
			}
			if cfg.Region == "" {
				cfg.Region = os.Getenv("AWS_REGION")
			}
			if noLoad {
				cfg.Load = false
			}
			out := cmd.OutOrStdout()
			if isTerminal(out) {
				cfg.Progress = out
			}
			if cpuProfile != "" {
				stop, err := startCPUProfile(cpuProfile)
				if err != nil {
					return err
				}
				defer stop()
			}
			r, err := bench.Run(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(r)
			}
			_, err = fmt.Fprint(out, r)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&endpoints, "endpoint", strings.Join(cfg.Endpoints, ","), "DynamoDB endpoint URLs, comma-separated (clients take them round-robin)")
	f.StringVar(&cfg.Table, "table", "", fmt.Sprintf("table to use, created if missing (default %q, %q for workload e)", bench.DefaultTable, bench.DefaultRangeTable))
	f.StringVar(&cfg.Workload, "workload", cfg.Workload, "workload: "+strings.Join(bench.WorkloadNames(), ", "))
	f.StringVar(&cfg.Distribution, "distribution", "", "key distribution: uniform, zipfian or latest (default: the workload's)")
	f.IntVar(&cfg.Clients, "clients", cfg.Clients, "concurrent SDK clients")
	f.DurationVar(&cfg.Duration, "duration", cfg.Duration, "length of the measured phase (0: until --operations)")
	f.IntVar(&cfg.Operations, "operations", cfg.Operations, "operations in the measured phase (0: until --duration)")
	f.IntVar(&cfg.Records, "records", cfg.Records, "items inserted by the load phase, and read by the workload")
	f.BoolVar(&cfg.Load, "load", cfg.Load, "run the load phase before measuring")
	f.BoolVar(&noLoad, "no-load", false, "skip the load phase (the items are there from an earlier run)")
	f.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the client (this process) to this file")
	f.IntVar(&cfg.ValueSize, "value-size", cfg.ValueSize, "payload bytes per item")
	f.IntVar(&cfg.TxnItems, "txn-items", cfg.TxnItems, "items each transaction of the txn workload updates (1 to 100)")
	f.IntVar(&cfg.Attempts, "attempts", cfg.Attempts,
		"SDK attempts per operation, with the SDK's standard backoff (1: no retries, every error counted)")
	f.IntVar(&cfg.MaxScanLength, "max-scan-length", cfg.MaxScanLength, "longest scan (items per Query; each scan reads 1..this, uniform)")
	f.BoolVar(&cfg.ConsistentRead, "consistent-read", false, "strongly consistent reads (GetItem and Query)")
	f.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "seed of the clients' random sources")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	f.StringVar(&cfg.AccessKeyID, "access-key-id", "", "access key id that signs the requests (default: AWS_ACCESS_KEY_ID)")
	f.StringVar(&cfg.SecretAccessKey, "secret-access-key", "", "its secret access key (default: AWS_SECRET_ACCESS_KEY)")
	f.StringVar(&cfg.Region, "region", "", "region of the signatures (default: AWS_REGION, else "+bench.DefaultRegion+")")
	return cmd
}

// workloadHelp lists the workloads for the command's help.
func workloadHelp() string {
	var b strings.Builder
	for _, n := range bench.WorkloadNames() {
		fmt.Fprintf(&b, "  %-4s %s\n", n, bench.Workloads[n].Description)
	}
	return b.String()
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// startCPUProfile profiles this process into path until the returned
// function is called: the client's share of a benchmark's CPU is half of
// what a comparison on shared cores measures.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("bench: cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("bench: cpu profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
