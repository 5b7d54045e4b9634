package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/partitadb/partita/node"
	"github.com/partitadb/partita/settings"
)

func newDevCmd() *cobra.Command {
	cfg := node.DefaultConfig()
	var (
		host     string
		port     int
		peerPort int
		nodes    int
		logs     logFlags
		limits   limitFlags
		authn    authFlags
		sources  map[string]settings.SourceKind
	)
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run a local node (or a local cluster) serving the DynamoDB API",
		Long: `Run Partita locally for development.

By default one embedded node serves the DynamoDB API on http://127.0.0.1:8000
(see --host and --port) and keeps its data in ./partita-data (see --data-dir).
With --nodes N, a cluster of N nodes runs in this process: API ports 8000,
8001, ..., peer ports 7000, 7001, ... (see --peer-port), admin ports 9000,
9001, ..., data in
<data-dir>/node-1, node-2, .... Any access key and region are accepted:
requests are not authenticated, unless --auth turns SigV4 verification on,
against the keys of the directory (partita ctl key create; a new data
directory gets a user "admin" whose key is printed once) and of
--credentials-file (docs/security.md).

Each flag can also be set with an environment variable PARTITA_<FLAG>
(PARTITA_PORT=8001) or in a YAML file given by --config (port: 8001); the
command line wins over the environment, which wins over the file.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, level, err := logs.logger(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			cfg.Logger, cfg.Level = log, level
			cfg.Settings = staticSettings(cmd.Flags(), sources)
			routeProcessLogs(log)
			if cfg.TopologyBucket == "" {
				if cfg.TopologyBucket, err = devTopologyBucket(cfg.DataDir); err != nil {
					return err
				}
			}
			if cfg.BackupBucket == "" {
				if cfg.BackupBucket, err = devBackupBucket(cfg.DataDir); err != nil {
					return err
				}
			}
			if cfg.ExportBucketURL == "" {
				if cfg.ExportBucketURL, err = devExportBuckets(cfg.DataDir); err != nil {
					return err
				}
			}
			limits.apply(&cfg, log)
			if err := authn.apply(&cfg, true); err != nil {
				return err
			}
			if pct := tuneGC(os.Getenv); pct > 0 {
				log.Debug("garbage collector target set", "gc_percent", pct)
			}
			if nodes > 1 {
				// The nodes share the process's open files.
				cfg.APILimits.MaxConns = max(1, cfg.APILimits.MaxConns/nodes)
				cfg.AdminLimits.MaxConns = max(1, cfg.AdminLimits.MaxConns/nodes)
				return runDevCluster(cmd, cfg, host, port, peerPort, nodes)
			}
			cfg.APIAddr = net.JoinHostPort(host, strconv.Itoa(port))
			n, err := node.Start(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			warnIfOff(cfg, log, " (development mode; --auth turns authentication on)")
			printBootstrapKey(cmd.OutOrStdout(), n, cfg.DataDir)
			fmt.Fprintf(cmd.OutOrStdout(), "Partita dev node serving the DynamoDB API on %s (data in %s)\n",
				n.APIURL(), cfg.DataDir)
			if n.AdminURL() != "" {
				fmt.Fprintf(cmd.OutOrStdout(), "Web console, metrics, health, readiness and jobs on admin endpoint %s (open it in a browser)\n", n.AdminURL())
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
	cmd.Flags().IntVar(&nodes, "nodes", 1, "nodes to run in this process (more than 1: a local cluster)")
	cmd.Flags().IntVar(&peerPort, "peer-port", 7000, "first node-to-node RPC port of a local cluster (--nodes above 1)")
	cmd.Flags().StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "directory for the node's data")
	cmd.Flags().StringVar(&cfg.AdminAddr, "admin-addr", "127.0.0.1:9000", "address of the admin endpoint (metrics, health); empty to disable")
	cmd.Flags().BoolVar(&cfg.Pprof, "pprof", false, "serve /debug/pprof on the admin endpoint")
	cmd.Flags().Int64Var(&cfg.PartitionMaxBytes, "partition-max-bytes", cfg.PartitionMaxBytes, "size past which a partition splits; 0: no splits by size")
	registerDoctorFlags(cmd.Flags(), &cfg)
	registerStartSettingFlags(cmd.Flags())
	registerConfigFlag(cmd, &sources)
	cmd.Flags().StringVar(&cfg.OTLPEndpoint, "otlp-endpoint", "",
		"OpenTelemetry collector to send traces to over OTLP/gRPC (host:4317, http://host:4317 or https://host:4317); empty: tracing off")
	registerTopologyFlags(cmd.Flags(), &cfg, bucketFlagHelp+" (default file://<data-dir>/topology)")
	registerBackupFlags(cmd.Flags(), &cfg, backupBucketHelp+" (default file://<data-dir>/backups)")
	authn.register(cmd.Flags(), true)
	registerTLSFlags(cmd.Flags(), &cfg.TLS)
	logs.register(cmd)
	limits.register(cmd, false)
	return cmd
}

// runDevCluster runs a cluster of count nodes in this process until the
// command's context ends.
func runDevCluster(cmd *cobra.Command, base node.Config, host string, port, peerPort, count int) error {
	var running []*node.Node
	defer func() {
		for i := len(running) - 1; i >= 0; i-- {
			if err := running[i].Close(); err != nil {
				base.Logger.Error("stopping a node", "node", running[i].ID(), "err", err)
			}
		}
	}()
	adminHost, adminPort := "", 0
	if base.AdminAddr != "" {
		h, p, err := net.SplitHostPort(base.AdminAddr)
		if err != nil {
			return fmt.Errorf("--admin-addr: %w", err)
		}
		if adminPort, err = strconv.Atoi(p); err != nil {
			return fmt.Errorf("--admin-addr: %w", err)
		}
		adminHost = h
	}
	for i := range count {
		cfg := base
		cfg.DataDir = filepath.Join(base.DataDir, fmt.Sprintf("node-%d", i+1))
		cfg.APIAddr = net.JoinHostPort(host, strconv.Itoa(port+i))
		cfg.PeerAddr = net.JoinHostPort(host, strconv.Itoa(peerPort+i))
		if base.AdminAddr != "" {
			cfg.AdminAddr = net.JoinHostPort(adminHost, strconv.Itoa(adminPort+i))
		}
		if i > 0 {
			cfg.Join = []string{running[0].PeerAddr()}
			if cfg.Auth.Enabled && cfg.TLS.CertsDir == "" {
				// A closed cluster admits a node with a join token.
				tok, err := running[0].CreateJoinToken(cmd.Context(), time.Minute)
				if err != nil {
					return fmt.Errorf("node %d: a join token: %w", i+1, err)
				}
				cfg.JoinToken = tok
			}
		}
		n, err := node.Start(cmd.Context(), cfg)
		if err != nil {
			return fmt.Errorf("node %d: %w", i+1, err)
		}
		running = append(running, n)
		printBootstrapKey(cmd.OutOrStdout(), n, cfg.DataDir)
		fmt.Fprintf(cmd.OutOrStdout(), "Partita dev node %d serving the DynamoDB API on %s (data in %s)\n",
			n.ID(), n.APIURL(), cfg.DataDir)
		if n.AdminURL() != "" {
			fmt.Fprintf(cmd.OutOrStdout(), "Web console, metrics, health, readiness and jobs of node %d on admin endpoint %s (open it in a browser)\n", n.ID(), n.AdminURL())
		}
	}
	warnIfOff(base, base.Logger, " (development mode; --auth turns authentication on)")
	<-cmd.Context().Done()
	base.Logger.Info("shutting down")
	return nil
}
