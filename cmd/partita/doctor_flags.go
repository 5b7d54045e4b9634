package main

import (
	"time"

	"github.com/spf13/pflag"

	"github.com/partitadb/partita/node"
)

// registerDoctorFlags adds the Doctor's flags, shared by start and dev.
// The Doctor runs by default: one node's is active, the others stand by.
func registerDoctorFlags(f *pflag.FlagSet, cfg *node.Config) {
	cfg.Doctor = true
	f.BoolVar(&cfg.Doctor, "doctor", cfg.Doctor, "run the Doctor on this node: the nodes elect one active Doctor (it holds a lease), which repairs the cluster; the others stand by")
	f.DurationVar(&cfg.DoctorOptions.DeadAfter, "dead-after", 0, "how long a node stays dead (by heartbeats and its leaders' contact) before the Doctor replaces its replicas (0: 30s; else at least 5s)")
	f.DurationVar(&cfg.DoctorOptions.ZoneDeadAfter, "zone-dead-after", 0, "how long a whole zone (every node of a zone of two or more) stays down before the Doctor replaces its replicas in other zones; until then they wait, as each partition keeps a quorum in the other zones (0: 10m; at least --dead-after)")
	f.DurationVar(&cfg.DoctorOptions.RestartGrace, "restart-grace", 5*time.Minute, "how long a node that stopped cleanly (SIGTERM: drained, its stop recorded) may stay down before the Doctor replaces its replicas: a restart is not a death (0: judged by --dead-after alone)")
	f.DurationVar(&cfg.DoctorOptions.ReplicaDownAfter, "replica-down-after", 0, "how long a replica stays down on a live node before the Doctor replaces it (0: 30s)")
	f.DurationVar(&cfg.DoctorOptions.Interval, "doctor-interval", 0, "time between the Doctor's cycles (0: 5s)")
	f.DurationVar(&cfg.DoctorOptions.OpDeadline, "doctor-op-deadline", 0, "deadline of one Doctor operation; past it, the operation is alerted and rolled back (0: 10m)")
	f.StringVar(&cfg.DoctorOptions.AlertWebhook, "alert-webhook", "", "URL that receives a JSON POST for every Doctor alert (an operation failed or passed its deadline)")
}

// faultFlags are the hidden fault-injection flags the Doctor's scenario
// runs use on real processes.
type faultFlags struct{ fsyncDelay time.Duration }

func (ff *faultFlags) register(f *pflag.FlagSet) {
	f.DurationVar(&ff.fsyncDelay, "fault-fsync-delay", 0, "testing only: every fsync of this node's storage first waits this long (a slow disk)")
	_ = f.MarkHidden("fault-fsync-delay")
}

// apply sets the node's fault hooks; without faults the storage is not
// wrapped at all.
func (ff *faultFlags) apply(cfg *node.Config) {
	if d := ff.fsyncDelay; d > 0 {
		cfg.FsyncDelay = func() time.Duration { return d }
	}
}
