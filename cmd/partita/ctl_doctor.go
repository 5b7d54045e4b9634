package main

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/partitadb/partita/admin"
	"github.com/partitadb/partita/clusterversion"
	"github.com/partitadb/partita/directory"
)

// newCtlDoctorCmd groups the Doctor's commands.
func newCtlDoctorCmd(f *ctlFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "doctor", Short: "Inspect and steer the Doctor, the cluster's repair control plane", Args: cobra.NoArgs}
	cmd.AddCommand(newCtlDoctorStatusCmd(f), newCtlDoctorPlanCmd(f), newCtlDoctorTimelineCmd(f),
		newCtlDoctorDecideCmd(f, "approve"), newCtlDoctorDecideCmd(f, "reject"), newCtlDoctorGateCmd(f),
		newCtlDoctorPauseCmd(f, "pause"), newCtlDoctorPauseCmd(f, "resume"), newCtlDoctorReplicationCmd(f))
	return cmd
}

// newCtlDoctorPlanCmd shows the active Doctor's last plan (a dry run:
// what it proposes and why, what it decided, and why it left the other
// partitions alone) and the operations in flight.
func newCtlDoctorPlanCmd(f *ctlFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "plan",
		Short: "Show the active Doctor's last plan, its verdicts, the reasons for no action, and the operations in flight",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var p admin.DoctorPlan
			return f.run(cmd, http.MethodGet, "/doctor/plan", 20*time.Second, &p, func(w *tabwriter.Writer) {
				pl := p.Plan
				fmt.Fprintf(w, "doctor on node %d, epoch %d, planned at %s", p.Node, pl.Epoch, stamp(pl.At))
				if pl.Paused {
					fmt.Fprint(w, " (PAUSED)")
				}
				fmt.Fprintln(w)
				if r := pl.Replication; r.Factor > 0 {
					fmt.Fprintf(w, "replication factor %d: %s\n", r.Factor, r.Source)
				}
				if pl.Waiting != "" {
					fmt.Fprintf(w, "no plan: %s\n", pl.Waiting)
				}
				fmt.Fprintln(w, "OPERATION\tGATE\tDECISION\tREASONS")
				for _, o := range pl.Ops {
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", o.Op.String(), o.Gate, o.Decision,
						strings.Join(append(slices.Clone(o.Op.Reasons), o.Reasons...), "; "))
				}
				if len(p.Running) > 0 {
					fmt.Fprintln(w, "\nIN FLIGHT\tKIND\tPARTITION\tSTEPS DONE\tDEADLINE")
					for _, e := range p.Running {
						fmt.Fprintf(w, "%d\t%s\t%s\t%d\t%s\n", e.ID, e.Kind, idOrDash(e.Partition), len(e.Steps), until(e.Deadline))
					}
				}
				if len(pl.Zones) > 0 {
					fmt.Fprintln(w, "\nZONE\tSTATE\tNODES\tALIVE\tSUSPECT\tDEAD\tDOWN SINCE")
					for _, z := range pl.Zones {
						fmt.Fprintf(w, "%s\t%s\t%v\t%d\t%d\t%d\t%s\n", dash(z.Zone), z.State, z.Nodes, z.Alive, z.Suspect, z.Dead, stamp(z.DownSince))
					}
				}
				if len(pl.WhyNots) > 0 {
					fmt.Fprintln(w, "\nLEFT ALONE\tNODE\tCHECKER\tWHY")
					for _, wn := range pl.WhyNots {
						fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", idOrDash(wn.Partition), idOrDash(wn.Node), wn.Checker, wn.Reason)
					}
				}
			})
		},
	}
}

// newCtlDoctorTimelineCmd lists the Doctor's decisions, newest first.
func newCtlDoctorTimelineCmd(f *ctlFlags) *cobra.Command {
	var partition, node uint64
	var kind, state, since string
	var limit int
	cmd := &cobra.Command{
		Use:   "timeline",
		Short: "List the Doctor's decisions, newest first: operations run, held, refused, awaiting approval",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{}
			for k, v := range map[string]string{"kind": kind, "state": state, "since": since} {
				if v != "" {
					q.Set(k, v)
				}
			}
			for k, v := range map[string]uint64{"partition": partition, "node": node, "limit": uint64(limit)} {
				if v != 0 {
					q.Set(k, strconv.FormatUint(v, 10))
				}
			}
			var es []admin.TimelineEntry
			return f.run(cmd, http.MethodGet, "/doctor/timeline?"+q.Encode(), 20*time.Second, &es, func(w *tabwriter.Writer) {
				fmt.Fprintln(w, "ID\tUPDATED\tKIND\tPARTITION\tFROM\tTO\tGATE\tSTATE\tSTEPS\tWHY")
				for _, e := range es {
					why := strings.Join(e.Reasons, "; ")
					if e.Validation != "" {
						why = e.Validation
					}
					if e.Outcome != "" {
						why += " -> " + e.Outcome
					}
					// A node's record (remove-node) has no partition either.
					id, part := strconv.FormatUint(e.ID, 10), idOrDash(e.Partition)
					if e.Kind == admin.ConfigKind { // a settings change: its version, no partition
						id, part = fmt.Sprintf("v%d", e.Version), "-"
					}
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", id, stamp(e.Updated), e.Kind, part,
						idOrDash(e.From), idOrDash(e.To), e.Gate, e.State, len(e.Steps), why)
				}
			})
		},
	}
	cmd.Flags().Uint64Var(&partition, "partition", 0, "only this partition's decisions")
	cmd.Flags().Uint64Var(&node, "node", 0, "only decisions moving replicas or leaders from or to this node")
	cmd.Flags().StringVar(&kind, "kind", "", "only this kind of operation (replace-replica, transfer-leader, ..., config for the settings' changes)")
	cmd.Flags().StringVar(&state, "state", "", "only decisions in this state (running, succeeded, failed, held, awaiting-approval, ...)")
	cmd.Flags().StringVar(&since, "since", "", "only decisions updated since: a duration (1h) or an RFC 3339 time")
	cmd.Flags().IntVar(&limit, "limit", 100, "at most this many decisions")
	return cmd
}

// newCtlDoctorDecideCmd approves or rejects an operation awaiting an
// operator's approval (its kind's gate is red).
func newCtlDoctorDecideCmd(f *ctlFlags, verb string) *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use: verb + " ID",
		Short: map[string]string{"approve": "Approve an operation waiting at a red gate (it runs once validation passes)",
			"reject": "Reject an operation waiting at a red gate"}[verb],
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseUint(args[0], 10, 64)
			if err != nil {
				return fmt.Errorf("operation id %q: %w", args[0], err)
			}
			var out map[string]any
			q := url.Values{"reason": {reason}}
			return f.run(cmd, http.MethodPost, fmt.Sprintf("/doctor/operations/%d/%s?%s", id, verb, q.Encode()), 20*time.Second, &out,
				func(w *tabwriter.Writer) { fmt.Fprintf(w, "operation %d: %sd\n", id, verb) })
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why (recorded in the timeline)")
	return cmd
}

// newCtlDoctorGateCmd shows or sets the gates' colours.
func newCtlDoctorGateCmd(f *ctlFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "gate", Short: "Show or set the traffic-light gates of the Doctor's operation kinds", Args: cobra.NoArgs}
	get := &cobra.Command{
		Use:   "get",
		Short: "Show every operation kind's gate colour (green: runs; yellow: runs within rate limits; red: waits for approval)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var s admin.DoctorSettings
			return f.run(cmd, http.MethodGet, "/doctor/gates", 10*time.Second, &s, func(w *tabwriter.Writer) {
				if s.Paused {
					fmt.Fprintf(w, "the Doctor is PAUSED (by %s: %s)\n", s.ChangedBy, s.Reason)
				}
				fmt.Fprintln(w, "KIND\tCOLOR\tSET")
				kinds := slices.Sorted(maps.Keys(s.Gates))
				for _, k := range kinds {
					_, set := s.Overrides[k]
					fmt.Fprintf(w, "%s\t%s\t%s\n", k, s.Gates[k], map[bool]string{true: "override", false: "default"}[set])
				}
			})
		},
	}
	var reason string
	set := &cobra.Command{
		Use:   "set KIND green|yellow|red|default",
		Short: "Set an operation kind's gate colour (default: back to the built-in colour)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			var out map[string]string
			q := url.Values{"color": {args[1]}, "reason": {reason}}
			return f.run(cmd, http.MethodPost, "/doctor/gates/"+url.PathEscape(args[0])+"?"+q.Encode(), 20*time.Second, &out,
				func(w *tabwriter.Writer) { fmt.Fprintf(w, "gate %s: %s\n", args[0], args[1]) })
		},
	}
	set.Flags().StringVar(&reason, "reason", "", "why (recorded with the setting)")
	cmd.AddCommand(get, set)
	return cmd
}

// newCtlDoctorPauseCmd pauses or resumes the Doctor: paused, it still
// plans (ctl doctor plan) and finishes the operations in flight, but
// starts none.
func newCtlDoctorPauseCmd(f *ctlFlags, verb string) *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use: verb,
		Short: map[string]string{"pause": "Stop the Doctor from starting operations (it still plans, and finishes those in flight)",
			"resume": "Let the Doctor start operations again"}[verb],
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var out map[string]bool
			q := url.Values{"reason": {reason}}
			return f.run(cmd, http.MethodPost, "/doctor/"+verb+"?"+q.Encode(), 20*time.Second, &out,
				func(w *tabwriter.Writer) { fmt.Fprintf(w, "doctor %sd\n", verb) })
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why (recorded with the setting)")
	return cmd
}

// newCtlDoctorStatusCmd shows the Doctor lease and the role of the node at
// --addr.
func newCtlDoctorStatusCmd(f *ctlFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show which node's Doctor is active, its epoch and lease, and this node's role",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var st admin.DoctorStatus
			return f.run(cmd, http.MethodGet, "/doctor/status", 10*time.Second, &st, func(w *tabwriter.Writer) {
				fmt.Fprintln(w, "HOLDER\tEPOCH\tEXPIRES\tACQUIRED\tNODE\tROLE")
				fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%d\t%s\n", idOrDash(st.Holder), st.Epoch, until(st.Expires),
					stamp(st.Acquired), st.Node, st.Role)
				fmt.Fprintf(w, "\nreplication factor %d: %s\n", st.Replication.Factor, st.Replication.Source)
			})
		},
	}
}

// newCtlDoctorReplicationCmd shows or sets the cluster's replication
// factor, a record of the directory that the active Doctor plans with
// and CreateTable places by, whichever node runs them.
func newCtlDoctorReplicationCmd(f *ctlFlags) *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use: "replication-factor [N]",
		Short: fmt.Sprintf("Show or set the cluster's replication factor: the voters every partition keeps (%d to %d; from cluster version %d)",
			directory.MinReplicationFactor, directory.MaxReplicationFactor, clusterversion.ClusterReplication),
		Long: `Without N, show the cluster's replication factor, who set it, when and why.

With N, set it: the Doctor adds replicas where partitions have fewer voters
(as far as the nodes allow) and removes one from each partition that has
more; new tables get N replicas per partition. The meta partition keeps
three voters at least. The --replication-factor flag of partita start is
only the factor a new cluster starts with.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var rep admin.Replication
			if len(args) == 0 {
				return f.run(cmd, http.MethodGet, "/doctor/replication", 10*time.Second, &rep, func(w *tabwriter.Writer) {
					printReplication(w, rep)
				})
			}
			if _, err := strconv.Atoi(args[0]); err != nil {
				return fmt.Errorf("replication factor %q: not a number", args[0])
			}
			q := url.Values{"factor": {args[0]}, "reason": {reason}}
			return f.run(cmd, http.MethodPost, "/doctor/replication?"+q.Encode(), 20*time.Second, &rep, func(w *tabwriter.Writer) {
				was := "none"
				if rep.Previous > 0 {
					was = strconv.Itoa(rep.Previous)
				}
				fmt.Fprintf(w, "replication factor: %d (was %s)\n", rep.Recorded, was)
			})
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why (recorded with the factor)")
	return cmd
}

// printReplication shows the replication factor a node acts on and the
// cluster's record of it.
func printReplication(w *tabwriter.Writer, r admin.Replication) {
	fmt.Fprintln(w, "FACTOR\tPREVIOUS\tCHANGED\tBY\tREASON")
	if r.Recorded > 0 {
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\n", r.Recorded, idOrDash(uint64(r.Previous)), stamp(r.Changed), dash(r.ChangedBy), dash(r.Reason))
	} else {
		fmt.Fprintf(w, "%d\t-\t-\t-\t-\n", r.Factor)
	}
	if !r.Fallback {
		if r.Recorded == 0 || r.Recorded != r.Factor { // a single node
			fmt.Fprintf(w, "\nin force: %d (%s)\n", r.Factor, r.Source)
		}
		return
	}
	fmt.Fprintf(w, "\nno record: %s.\n", r.Source)
	if clusterversion.Version(r.ClusterVersion) < clusterversion.ClusterReplication {
		fmt.Fprintf(w, "The record needs cluster version %d; the cluster runs at %d (partita ctl upgrade status).\n",
			clusterversion.ClusterReplication, r.ClusterVersion)
	} else {
		fmt.Fprintln(w, "The active Doctor records its node's flag within a second.")
	}
}

// until prints how long from now t is, to the tenth of a second.
func until(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := time.Until(t).Round(100 * time.Millisecond)
	if d < 0 {
		return "expired " + (-d).String() + " ago"
	}
	return "in " + d.String()
}
