// Package settings is the registry of Partita's run-time settings and the
// rules that turn a node's static configuration and the cluster's
// overrides into the values the node runs with.
//
// A Setting names one knob: its type, bounds, default, unit, what reads
// it, and whether it can change while the node runs (Live). The Catalog
// lists Partita's settings; NewRegistry checks a catalogue once.
//
//	reg := settings.MustRegistry(settings.Catalog()...)
//	v, err := reg.Check("raft.log-max-bytes", "32MiB", settings.Cluster) // typed, bounded
//
// Values come from layers, the later winning: the default, the YAML file,
// the environment, a flag, then the overrides stored in the directory,
// cluster-wide, for a zone, a node, and (for table settings) a table. The
// most specific override wins:
//
//	default < file < env < flag < cluster < zone:Z < node:N < table:T
//
// Overrides change by versioned Changes (History): each version sets or
// unsets one (key, scope) with its author, time and reason, and the
// state at any version can be rebuilt, compared (Diff) and restored
// (Rollback makes a new version equal to an old one).
//
// Live holds a node's effective values and calls the readers that
// subscribed to a setting when an update changes it; a reader applies
// the change without a restart.
package settings
