package main

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/partitadb/partita/admin"
	"github.com/partitadb/partita/topology/ingest"
)

func newCtlTopologyCmd(f *ctlFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "topology",
		Short: "Show the cluster view the nodes' topology snapshots build",
		Long: `Show the cluster view built from the topology snapshots the nodes report
every interval: nodes with their liveness (from the age of their newest
snapshot), health (fsync p99, disk use, CPU) and load; zones; partitions
with their replicas, leader, lag and load.

The nodes report to the meta partition's leader, whose view this is: asked
of another node, the admin endpoint redirects to the leader's. Right after
the meta leadership moves, the new leader's view fills within an interval.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var info admin.TopologyInfo
			return f.run(cmd, http.MethodGet, "/cluster/topology", 10*time.Second, &info, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "view of node %d%s; ingested %d snapshots%s\n", info.Node,
					map[bool]string{true: " (receives the reports)", false: " (not the receiver of reports)"}[info.Receiver],
					info.Stats.Added, skippedSummary(info.Stats.Skipped))
				if info.View != nil {
					printView(w, info.View)
				}
			})
		},
	}
}

func skippedSummary(skipped map[ingest.Reason]uint64) string {
	var parts []string
	for _, r := range ingest.Reasons {
		if skipped[r] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", r, skipped[r]))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return ", skipped " + strings.Join(parts, ", ")
}

// printView prints v as three tables: nodes, zones, partitions.
func printView(w *tabwriter.Writer, v *ingest.ClusterView) {
	fmt.Fprintf(w, "at %s: %d nodes, %d zones, %d partitions\n\n", stamp(v.At), len(v.Nodes), len(v.Zones), len(v.Partitions))
	fmt.Fprintln(w, "NODE\tZONE\tLIVENESS\tAGE\tSEQ\tVERSION\tREPLICAS\tLEADERS\tFSYNC P99\tDISK\tCPU\tREADS/S\tWRITES/S\tPEER")
	for _, n := range v.Nodes {
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%d\t%s\t%d\t%d\t%s\t%s\t%.2f\t%.0f\t%.0f\t%s\n", n.ID, dash(n.Zone), n.Liveness,
			n.Age.Round(time.Millisecond), n.Seq, dash(n.Version), n.Replicas, n.Leaders, n.Health.FsyncP99, percent(n.Health.DiskUse),
			n.Health.CPU, n.Load.ReadsPerSec, n.Load.WritesPerSec, dash(n.PeerAddr))
	}
	fmt.Fprintln(w, "\nZONE\tNODES\tALIVE\tSUSPECT\tDEAD\tREPLICAS\tLEADERS")
	for _, z := range v.Zones {
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%d\t%d\t%d\n", dash(z.Name), z.Nodes, z.Alive, z.Suspect, z.Dead, z.Replicas, z.Leaders)
	}
	fmt.Fprintln(w, "\nTABLE\tPARTITION\tGEN\tLEADER\tTERM\tREPLICAS (NODE:ROLE:LAG)\tMAX LAG\tREADS/S\tWRITES/S")
	for _, p := range v.Partitions {
		fmt.Fprintf(w, "%s\t%d\t%d\t%s\t%d\t%s\t%d\t%.0f\t%.0f\n", tableName(p), p.ID, p.Generation, idOrDash(p.Leader), p.Term,
			replicasSummary(p), p.MaxLag, p.Load.ReadsPerSec, p.Load.WritesPerSec)
	}
}

func tableName(p ingest.PartitionView) string {
	if p.Table == "" && p.TableID == 0 {
		return "(meta)"
	}
	return p.Table
}

func replicasSummary(p ingest.PartitionView) string {
	parts := make([]string, 0, len(p.Replicas))
	for _, r := range p.Replicas {
		s := fmt.Sprintf("%d:%s:%d", r.Node, r.Role, r.Lag)
		if r.Liveness != "alive" {
			s += "(" + string(r.Liveness) + ")"
		}
		parts = append(parts, s)
	}
	slices.Sort(parts)
	return strings.Join(parts, " ")
}

func percent(f float64) string {
	if f == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f%%", 100*f)
}

// printChanges prints a walk's changes, one a line.
func printChanges(out io.Writer, changes []ingest.Change) {
	for _, c := range changes {
		fmt.Fprintln(out, c.String())
	}
}
