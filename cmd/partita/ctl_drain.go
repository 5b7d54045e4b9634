package main

import (
	"fmt"
	"net/http"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/partitadb/partita/doctor/operator"
)

func newCtlDrainCmd(f *ctlFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "drain ID",
		Short: "Move the node's leaderships to other nodes and keep them away until it restarts",
		Long: `Move the leadership of every partition node ID leads to other voters, e.g.
before restarting it. The node keeps its replicas and keeps serving,
forwarding requests to the new leaders.

The node is marked draining in the directory until it restarts or is
undrained (partita ctl node undrain ID): meanwhile the Doctor moves away
any leadership it wins in an election and gives it none. A cluster below
cluster version 23 keeps no mark: its drain moves the leaderships once.`,
		Args: cobra.ExactArgs(1),
		RunE: postOnNode(f, "drain", time.Minute, func(w *tabwriter.Writer, res operator.DrainResult) {
			fmt.Fprintln(w, "PARTITION\tNEW LEADER\tERROR")
			for _, p := range res.Partitions {
				fmt.Fprintf(w, "%d\t%s\t%s\n", p.Partition, idOrDash(p.To), dash(p.Error))
			}
			fmt.Fprintf(w, "node %d led %d partitions, moved %d\n", res.Node, res.Led, res.Moved)
			if res.Draining.IsZero() {
				fmt.Fprintf(w, "node %d is not marked draining (cluster version below 23): the Doctor may give it leaderships again\n", res.Node)
				return
			}
			fmt.Fprintf(w, "node %d draining since %s%s: it takes no leadership until it restarts or is undrained\n",
				res.Node, stamp(res.Draining), byWhom(res.DrainBy))
		}),
	}
}

func newCtlUndrainCmd(f *ctlFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "undrain ID",
		Short: "Clear the drain mark of a node: it may lead partitions again",
		Long: `Clear the drain mark of node ID without restarting it: the Doctor's
balancer may give it leaderships again. A restart clears the mark too.`,
		Args: cobra.ExactArgs(1),
		RunE: postOnNode(f, "undrain", 30*time.Second, func(w *tabwriter.Writer, res operator.DrainResult) {
			fmt.Fprintf(w, "node %d is not draining: it may lead partitions again\n", res.Node)
		}),
	}
}

// postOnNode is the RunE of a ctl node command that takes a node ID:
// POST /cluster/nodes/ID/action, its answer (a T) printed by table.
func postOnNode[T any](f *ctlFlags, action string, timeout time.Duration, table func(*tabwriter.Writer, T)) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		id, err := parseNodeID(args[0])
		if err != nil {
			return err
		}
		var res T
		return f.run(cmd, http.MethodPost, fmt.Sprintf("/cluster/nodes/%d/%s", id, action), timeout, &res,
			func(w *tabwriter.Writer) { table(w, res) })
	}
}

// byWhom is " (by WHO)", or nothing when who is unknown.
func byWhom(who string) string {
	if who == "" {
		return ""
	}
	return " (by " + who + ")"
}
