package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v2"

	"github.com/partitadb/partita/node"
	"github.com/partitadb/partita/settings"
)

func newStartCmd() *cobra.Command {
	cfg := node.DefaultConfig()
	var (
		logs    logFlags
		limits  limitFlags
		authn   authFlags
		faults  faultFlags
		join    []string
		sources map[string]settings.SourceKind
	)
	cmd := &cobra.Command{
		Use:   "start",
		Short: "Run a node of a Partita cluster",
		Long: `Run a node of a Partita cluster.

The first node (no --join) creates the cluster; the others join it through
any member's peer address. A node restarted with the same --data-dir rejoins
by itself; if every node moved to a new address, give each --join with one
member's new peer address. Every node serves the DynamoDB API and forwards each request to
the node leading the partition it touches.

A cluster is closed by default: every DynamoDB request must be signed
(SigV4) with an access key of the cluster (partita ctl key create) or of
--credentials-file (docs/security.md). The first node of a new cluster
creates a user "admin" and prints its key once (also written to
<data-dir>/bootstrap-credentials), unless --bootstrap-credentials-file
supplies it. The admin endpoint's changes and its /auth routes need an
admin: the first node also prints an admin token once (kept in
<data-dir>/admin-token, where 'partita ctl' on the same machine finds it).
A node joins a closed cluster with a node certificate (--certs-dir) or a
join token (partita ctl join-token create, then --join-token).
--insecure accepts any access key and anyone at the admin and peer ports
instead, and says so in the log at every start.

  partita start --data-dir /var/lib/partita --zone a
  partita ctl --data-dir /var/lib/partita join-token create
  partita start --data-dir /var/lib/partita --zone b --join 10.0.0.1:7000 --join-token pjt_...

Each flag can also be set with an environment variable PARTITA_<FLAG>
(PARTITA_JOIN=10.0.0.1:7000, PARTITA_API_ADDR=...) or in a YAML file given by
--config (join: "10.0.0.1:7000"); the command line wins over the
environment, which wins over the file.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, level, err := logs.logger(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			cfg.Logger, cfg.Level, cfg.Join = log, level, join
			cfg.Settings = staticSettings(cmd.Flags(), sources)
			routeProcessLogs(log)
			limits.apply(&cfg, log)
			faults.apply(&cfg)
			if err := authn.apply(&cfg, false); err != nil {
				return err
			}
			if pct := tuneGC(os.Getenv); pct > 0 {
				log.Debug("garbage collector target set", "gc_percent", pct)
			}
			n, err := node.Start(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			warnIfOff(cfg, log, " (--insecure)")
			printBootstrapKey(cmd.OutOrStdout(), n, cfg.DataDir)
			fmt.Fprintf(cmd.OutOrStdout(), "Partita node %d serving the DynamoDB API on %s, peers on %s (data in %s)\n",
				n.ID(), n.APIURL(), n.PeerAddr(), cfg.DataDir)
			<-cmd.Context().Done()
			log.Info("shutting down")
			return n.Close()
		},
	}
	f := cmd.Flags()
	registerConfigFlag(cmd, &sources)
	f.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "directory for the node's data")
	f.StringVar(&cfg.APIAddr, "api-addr", ":8000", "address to serve the DynamoDB API on")
	f.StringVar(&cfg.PeerAddr, "peer-addr", ":7000", "address to serve node-to-node RPC on")
	f.StringVar(&cfg.AdminAddr, "admin-addr", ":9000", "address of the admin endpoint (metrics, health); empty to disable")
	f.StringVar(&cfg.AdvertiseHost, "advertise", "", "host other nodes and clients use to reach this node (default: the listen host)")
	f.StringSliceVar(&join, "join", nil, "peer addresses of members to join (comma-separated); none to create a new cluster")
	f.StringVar(&cfg.JoinToken, "join-token", "", "token that admits this node to a closed cluster without node certificates (`partita ctl join-token create`; env PARTITA_JOIN_TOKEN)")
	f.StringVar(&cfg.Zone, "zone", "", "failure domain of this node; replicas are spread across zones")
	f.IntVar(&cfg.ReplicationFactor, "replication-factor", cfg.ReplicationFactor,
		"replication factor a new cluster starts with (1 to 7), recorded by its first node; ignored by a node joining or restarting in a cluster that records one (change it with: partita ctl doctor replication-factor N)")
	f.Uint32Var(&cfg.PartitionsPerTable, "partitions-per-table", cfg.PartitionsPerTable, "partitions of a new table (at least one per node)")
	f.Int64Var(&cfg.PartitionMaxBytes, "partition-max-bytes", cfg.PartitionMaxBytes, "size past which a partition splits; 0: no splits by size")
	f.BoolVar(&cfg.Pprof, "pprof", false, "serve /debug/pprof on the admin endpoint")
	f.BoolVar(&cfg.LegacyWrites, "legacy-writes", false, "propose item writes as commands every replica evaluates, whatever the cluster version (it decides by itself: see ctl upgrade status)")
	f.DurationVar(&cfg.UpgradeSoak, "upgrade-soak", node.DefaultUpgradeSoak, "how long the Doctor's health must stay green before it finalises a new cluster version")
	f.Uint32Var(&cfg.MaxClusterVersion, "max-cluster-version", 0, "claim to support cluster versions up to this one only, as an older binary would (upgrade drills and tests)")
	_ = f.MarkHidden("max-cluster-version")
	registerDoctorFlags(f, &cfg)
	registerStartSettingFlags(f)
	faults.register(f)
	f.StringVar(&cfg.OTLPEndpoint, "otlp-endpoint", "", "OpenTelemetry collector for traces (OTLP/gRPC); empty: tracing off")
	registerTopologyFlags(f, &cfg, bucketFlagHelp+"; empty: no history, the Doctor's fast path only")
	registerBackupFlags(f, &cfg, backupBucketHelp+"; empty: <data-dir>/backups, which only a single node may use")
	authn.register(f, false)
	registerTLSFlags(f, &cfg.TLS)
	logs.register(cmd)
	limits.register(cmd, true)
	return cmd
}

// registerConfigFlag gives cmd the --config flag, and a pre-run that sets
// each flag not given on the command line from PARTITA_<FLAG> or the file
// (applyDefaults), recording where each came from in sources.
func registerConfigFlag(cmd *cobra.Command, sources *map[string]settings.SourceKind) {
	cmd.Flags().String("config", "", "optional YAML file of flag values (env PARTITA_CONFIG)")
	cmd.PreRunE = func(cmd *cobra.Command, _ []string) (err error) {
		*sources, err = applyDefaults(cmd.Flags())
		return err
	}
}

// applyDefaults sets every flag not given on the command line from
// PARTITA_<FLAG> in the environment, else from the YAML file of --config
// (itself given on the command line or as PARTITA_CONFIG), and says which
// flags it set from where. A key of the file that names no flag is an
// error; a list in the file is read as its comma-separated items.
func applyDefaults(flags *pflag.FlagSet) (map[string]settings.SourceKind, error) {
	sources := map[string]settings.SourceKind{}
	file, err := flags.GetString("config")
	if err != nil {
		return nil, err
	}
	if v, ok := os.LookupEnv("PARTITA_CONFIG"); ok && !flags.Changed("config") {
		file = v
		if err := flags.Set("config", v); err != nil {
			return nil, err
		}
		sources["config"] = settings.FromEnv
	}
	fromFile := map[string]string{}
	if file != "" {
		raw, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("--config: %w", err)
		}
		var m map[string]any
		if err := yaml.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf("--config %s: %w", file, err)
		}
		for k, v := range m {
			if flags.Lookup(k) == nil || k == "config" {
				return nil, fmt.Errorf("--config %s: %q is not a flag of this command", file, k)
			}
			if list, ok := v.([]any); ok {
				items := make([]string, len(list))
				for i, x := range list {
					items[i] = fmt.Sprint(x)
				}
				fromFile[k] = strings.Join(items, ",")
				continue
			}
			fromFile[k] = fmt.Sprint(v)
		}
	}
	flags.VisitAll(func(f *pflag.Flag) {
		if f.Changed || err != nil {
			return
		}
		env := "PARTITA_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		v, ok := os.LookupEnv(env)
		from := settings.FromEnv
		if !ok {
			v, ok = fromFile[f.Name]
			from = settings.FromFile
		}
		if ok {
			if serr := flags.Set(f.Name, v); serr != nil {
				err = fmt.Errorf("%s: %w", f.Name, serr)
			}
			sources[f.Name] = from
		}
	})
	return sources, err
}

// settingFlags are the flags that give a run-time setting (package
// settings) its node's own value.
var settingFlags = map[string]string{"log-level": "log.level", "dead-after": "doctor.dead-after",
	"store-workers": "store.workers", "memtable-size": "storage.memtable-size",
	"raft-election-ticks": "raft.election-ticks", "raft-heartbeat-ticks": "raft.heartbeat-ticks"}

// registerStartSettingFlags adds the flags of the settings read only when
// a node starts (refused as overrides: docs/settings.md). Each is text
// the node checks against the catalogue, with the catalogue's default
// when not given.
func registerStartSettingFlags(f *pflag.FlagSet) {
	cat := settings.MustRegistry(settings.Catalog()...)
	for _, fl := range []string{"store-workers", "memtable-size", "raft-election-ticks", "raft-heartbeat-ticks"} {
		s, err := cat.Lookup(settingFlags[fl])
		if err != nil {
			panic(err) // settingFlags names catalogued settings
		}
		bounds := strings.TrimSpace(fmt.Sprintf("%s to %s %s", s.Min, s.Max, s.Unit))
		f.String(fl, s.Default, fmt.Sprintf("%s (setting %s; %s)", strings.TrimSuffix(s.Doc, "."), s.Name, bounds))
	}
}

// staticSettings are the settings the node's flags set, each with where
// it came from: the command line, the environment or the file (sources,
// from applyDefaults).
func staticSettings(flags *pflag.FlagSet, sources map[string]settings.SourceKind) map[string]settings.Static {
	out := map[string]settings.Static{}
	for flag, name := range settingFlags {
		f := flags.Lookup(flag)
		if f == nil || !f.Changed || f.Value.Type() == "duration" && f.Value.String() == "0s" {
			continue // a duration flag's 0 is its default (--dead-after 0: 30s)
		}
		from, ok := sources[flag]
		if !ok {
			from = settings.FromFlag
		}
		out[name] = settings.Static{Text: f.Value.String(), From: from}
	}
	return out
}
