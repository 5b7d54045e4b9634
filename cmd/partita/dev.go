package main

import (
	"fmt"
	"net"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/partitadb/partita/node"
)

func newDevCmd() *cobra.Command {
	cfg := node.DefaultConfig()
	var (
		host string
		port int
		logs logFlags
	)
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run a single local node serving the DynamoDB API",
		Long: `Run a single embedded Partita node for local development.

It serves the DynamoDB API on http://127.0.0.1:8000 (see --host and --port) and
keeps its data in ./partita-data (see --data-dir). Any access key and region
are accepted: requests are not authenticated.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, level, err := logs.logger(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			cfg.Logger, cfg.Level = log, level
			cfg.APIAddr = net.JoinHostPort(host, strconv.Itoa(port))
			n, err := node.Start(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			log.Warn("authentication is off: any access key is accepted (development mode)")
			fmt.Fprintf(cmd.OutOrStdout(), "Partita dev node serving the DynamoDB API on %s (data in %s)\n",
				n.APIURL(), cfg.DataDir)
			if n.AdminURL() != "" {
				fmt.Fprintf(cmd.OutOrStdout(), "Metrics, health, readiness and jobs on admin endpoint %s\n", n.AdminURL())
			}
			if cfg.OTLPEndpoint != "" {
				log.Info("tracing on", "otlp_endpoint", cfg.OTLPEndpoint)
			}
			<-cmd.Context().Done()
			log.Info("shutting down")
			return n.Close()
		},
	}
	cmd.Flags().StringVar(&host, "host", "127.0.0.1", "address to serve the DynamoDB API on")
	cmd.Flags().IntVar(&port, "port", 8000, "port to serve the DynamoDB API on")
	cmd.Flags().StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "directory for the node's data")
	cmd.Flags().StringVar(&cfg.AdminAddr, "admin-addr", "127.0.0.1:9000", "address of the admin endpoint (metrics, health); empty to disable")
	cmd.Flags().BoolVar(&cfg.Pprof, "pprof", false, "serve /debug/pprof on the admin endpoint")
	cmd.Flags().StringVar(&cfg.OTLPEndpoint, "otlp-endpoint", "",
		"OpenTelemetry collector to send traces to over OTLP/gRPC (host:4317, http://host:4317 or https://host:4317); empty: tracing off")
	logs.register(cmd)
	return cmd
}
