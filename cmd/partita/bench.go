package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/partitadb/partita/bench"
)

func newBenchCmd() *cobra.Command {
	cfg := bench.DefaultConfig()
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure a DynamoDB endpoint with real SDK clients",
		Long: `Load a table, then run a workload (put or get) with concurrent AWS SDK
clients and report throughput and latency percentiles.

Example: partita bench --workload get --clients 64 --duration 10s`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := bench.Run(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(r)
			}
			fmt.Fprintln(cmd.OutOrStdout(), r)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Endpoint, "endpoint", cfg.Endpoint, "DynamoDB endpoint URL")
	f.StringVar(&cfg.Table, "table", cfg.Table, "table to use (created if missing)")
	f.StringVar(&cfg.Workload, "workload", cfg.Workload, "workload: put or get")
	f.IntVar(&cfg.Clients, "clients", cfg.Clients, "concurrent SDK clients")
	f.DurationVar(&cfg.Duration, "duration", cfg.Duration, "length of the measured phase (0: until --operations)")
	f.IntVar(&cfg.Operations, "operations", cfg.Operations, "operations in the measured phase (0: until --duration)")
	f.IntVar(&cfg.Records, "records", cfg.Records, "items loaded before the measured phase")
	f.IntVar(&cfg.ValueSize, "value-size", cfg.ValueSize, "payload bytes per item")
	f.BoolVar(&cfg.ConsistentRead, "consistent-read", false, "strongly consistent gets")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}
