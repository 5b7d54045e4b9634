package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/partitadb/partita/admin"
	"github.com/partitadb/partita/doctor/operator"
	"github.com/partitadb/partita/topology"
)

// decommissionPoll is the pause between two looks at a decommission that
// ctl waits for.
const decommissionPoll = time.Second

// decommissionStall is how long what a node holds may stay the same
// before ctl shows what the Doctor says of it; it shows that again every
// decommissionRestate while nothing moves.
const (
	decommissionStall   = 10 * time.Second
	decommissionRestate = time.Minute
)

// operatorDecommissionTimeout bounds a decommission run within its
// request (a cluster below the version of decommission marks).
const operatorDecommissionTimeout = 30 * time.Minute

func newCtlDecommissionCmd(f *ctlFlags) *cobra.Command {
	var wait bool
	var reason string
	cmd := &cobra.Command{
		Use:   "decommission ID",
		Short: "Decommission a node: the Doctor moves its replicas to other nodes, then removes it",
		Long: `Mark node ID for decommissioning. From then on the node takes no new replica
and no leadership; the active Doctor moves each of its replicas to another node
(one operation per partition, each behind the gate "decommission" and checked
step by step like every repair; the meta partition last), and removes the
node's record from the directory once it holds none. The node can then be
stopped.

The command waits for that, printing the partitions still on the node as they
go; --wait=false returns at once (run the command again to see how far it
went: marking a node marked already changes nothing). While the record exists,
partita ctl node recommission ID cancels it. A cluster whose upgrade to the
cluster version of decommission marks is not finalised (partita ctl upgrade
status) cannot record the mark: there the command moves the replicas itself,
within the request, as older releases did.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseNodeID(args[0])
			if err != nil {
				return err
			}
			path := fmt.Sprintf("/cluster/nodes/%d/decommission", id)
			if reason != "" {
				path += "?reason=" + url.QueryEscape(reason)
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), operatorDecommissionTimeout)
			defer cancel()
			body, err := f.call(ctx, http.MethodPost, path, nil)
			if err != nil {
				return err
			}
			var res operator.DecommissionResult
			if err := json.Unmarshal(body, &res); err != nil {
				return fmt.Errorf("%s: %w: is %s the admin address of a cluster node?", path, err, f.addr)
			}
			if res.Mode == operator.DecommissionByOperator {
				return f.printOperatorDecommission(cmd, body, res)
			}
			if !wait {
				return f.printDecommission(cmd, body, res)
			}
			return f.waitDecommission(cmd, res)
		},
	}
	cmd.Flags().BoolVar(&wait, "wait", true, "wait until the node's record is removed, printing the partitions still on it")
	cmd.Flags().StringVar(&reason, "reason", "", "why the node leaves (kept with its mark)")
	return cmd
}

func newCtlRecommissionCmd(f *ctlFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "recommission ID",
		Short: "Cancel the decommission of a node whose record still exists",
		Long: `Clear node ID's decommissioning mark: it takes replicas and leaderships again,
and the Doctor stops moving its replicas (a move under way finishes). A node
whose record is gone has left the cluster: start it afresh, on an empty data
directory, to bring it back.`,
		Args: cobra.ExactArgs(1),
		RunE: postOnNode(f, "recommission", time.Minute, func(w *tabwriter.Writer, res operator.DecommissionResult) {
			fmt.Fprintf(w, "node %d recommissioned: it takes replicas and leaderships again\n", res.Node)
		}),
	}
}

// printOperatorDecommission prints what a decommission run within its
// request did, as before decommission marks; an incomplete one fails.
func (f *ctlFlags) printOperatorDecommission(cmd *cobra.Command, body []byte, res operator.DecommissionResult) error {
	err := f.print(cmd, body, func(w *tabwriter.Writer) {
		fmt.Fprintln(w, "TABLE\tPARTITION\tSTATE\tTO\tDIRECTORY\tDESTROYED\tERROR")
		for _, p := range res.Partitions {
			fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\t%s\n", p.Table, p.Partition, p.State, idOrDash(p.To),
				dash(p.Directory), yesNo(p.Destroyed), dash(p.Error))
		}
		if res.Done {
			fmt.Fprintf(w, "node %d holds no replica any more\n", res.Node)
		} else {
			fmt.Fprintf(w, "node %d still holds replicas: run the command again once the errors above are fixed\n", res.Node)
		}
	})
	if err == nil && !res.Done {
		return fmt.Errorf("decommission of node %d incomplete", res.Node)
	}
	return err
}

// printDecommission prints a decommission's state: the body as received
// with -o json, else its summary lines.
func (f *ctlFlags) printDecommission(cmd *cobra.Command, body []byte, res operator.DecommissionResult) error {
	return f.print(cmd, body, func(w *tabwriter.Writer) {
		fmt.Fprintln(w, markLine(res))
		fmt.Fprintln(w, progressLine(res))
	})
}

// print writes body with -o json, else what table writes.
func (f *ctlFlags) print(cmd *cobra.Command, body []byte, table func(*tabwriter.Writer)) error {
	if f.output == "json" {
		_, err := cmd.OutOrStdout().Write(body)
		return err
	}
	w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
	table(w)
	return w.Flush()
}

// waitDecommission looks at the decommission every decommissionPoll,
// printing each change of what the node still holds (not with -o json,
// which prints the last state alone), until the node's record is gone.
// An error in one look (a node restarting) is printed, and the next look
// made; the wait ends with the command's context (Ctrl-C: the
// decommission goes on without it).
func (f *ctlFlags) waitDecommission(cmd *cobra.Command, res operator.DecommissionResult) error {
	out := io.Discard
	if f.output != "json" {
		out = cmd.OutOrStdout()
	}
	fmt.Fprintln(out, markLine(res))
	last := ""
	show := func(line string) {
		if line != last {
			fmt.Fprintln(out, line)
			last = line
		}
	}
	progress := progressLine(res)
	show(progress)
	path := fmt.Sprintf("/cluster/nodes/%d/decommission", res.Node)
	t := time.NewTicker(decommissionPoll)
	defer t.Stop()
	moved, explained := time.Now(), time.Time{}
	for {
		select {
		case <-cmd.Context().Done():
			return fmt.Errorf("stopped waiting; node %d is still decommissioning: %w", res.Node, cmd.Context().Err())
		case <-t.C:
		}
		if now := time.Now(); now.Sub(moved) >= decommissionStall && (explained.Before(moved) || now.Sub(explained) >= decommissionRestate) {
			// Nothing moved for a while: say what the Doctor says.
			explained = now
			ctx, cancel := context.WithTimeout(cmd.Context(), 15*time.Second)
			var plan admin.DoctorPlan
			err := f.get(ctx, "/doctor/plan", &plan)
			cancel()
			if err != nil {
				fmt.Fprintf(out, "node %d: nothing moved for %v; the Doctor's plan: %v\n", res.Node, now.Sub(moved).Round(time.Second), err)
			} else {
				fmt.Fprintf(out, "node %d: nothing moved for %v; the Doctor's plan of %s:\n", res.Node, now.Sub(moved).Round(time.Second), stamp(plan.Plan.At))
				for _, line := range doctorOnDecommission(plan, res) {
					fmt.Fprintln(out, "  "+line)
				}
			}
		}
		ctx, cancel := context.WithTimeout(cmd.Context(), 15*time.Second)
		body, err := f.call(ctx, http.MethodGet, path, nil)
		cancel()
		var cur operator.DecommissionResult
		switch {
		case isStatus(err, http.StatusNotFound):
			return f.decommissioned(cmd, out, res)
		case err == nil:
			err = json.Unmarshal(body, &cur)
		}
		switch {
		case err != nil:
			show(fmt.Sprintf("node %d: %v (looking again)", res.Node, err))
		case cur.Decommissioning.IsZero():
			return fmt.Errorf("node %d was recommissioned: it stays a member", res.Node)
		default:
			if line := progressLine(cur); line != progress {
				progress, moved = line, time.Now()
			}
			res = cur
			show(progress)
		}
	}
}

// decommissioned reports the end: the node's record is gone.
func (f *ctlFlags) decommissioned(cmd *cobra.Command, out io.Writer, res operator.DecommissionResult) error {
	fmt.Fprintf(out, "node %d decommissioned: it holds no replica and its record is removed; it can be stopped\n", res.Node)
	if f.output != "json" {
		return nil
	}
	res.Remaining, res.Waiting, res.Done, res.Removed = nil, "", true, true
	enc := json.NewEncoder(cmd.OutOrStdout())
	enc.SetIndent("", "  ")
	return enc.Encode(res)
}

// markLine says who marked the node, when and why.
func markLine(res operator.DecommissionResult) string {
	s := fmt.Sprintf("node %d decommissioning since %s", res.Node, stamp(res.Decommissioning))
	s += byWhom(res.By)
	if res.Reason != "" {
		s += ": " + res.Reason
	}
	return s
}

// progressLine says what the node still holds, and why nothing moves if
// so.
func progressLine(res operator.DecommissionResult) string {
	var s string
	if len(res.Remaining) == 0 {
		s = fmt.Sprintf("node %d holds no replica any more: the Doctor removes its record next", res.Node)
	} else {
		parts := make([]string, 0, len(res.Remaining))
		for _, r := range res.Remaining {
			p := fmt.Sprintf("%s/%d (%s", r.Table, r.Partition, r.Role)
			if r.Leader {
				p += ", leader"
			}
			parts = append(parts, p+")")
		}
		s = fmt.Sprintf("node %d: %d partitions left: %s", res.Node, len(res.Remaining), strings.Join(parts, ", "))
	}
	if res.Waiting != "" {
		s += "; waiting: " + res.Waiting
	}
	return s
}

// membership is how ctl nodes shows a node's part in the cluster.
func membership(n topology.NodeInfo) string {
	var marks []string
	if !n.Decommissioning.IsZero() {
		marks = append(marks, "decommissioning (marked "+ago(n.Decommissioning)+")")
	}
	if !n.Draining.IsZero() {
		marks = append(marks, "draining (since "+ago(n.Draining)+")")
	}
	if len(marks) == 0 {
		return "active"
	}
	return strings.Join(marks, ", ")
}

// doctorOnDecommission is what the active Doctor's last plan says of
// res's node and the partitions left on it: the operations it planned
// and their verdicts, those in flight, and why it leaves the others
// alone, by the decommission checker. It is how ctl explains a
// decommission that stopped moving.
func doctorOnDecommission(p admin.DoctorPlan, res operator.DecommissionResult) []string {
	left := map[uint64]bool{}
	for _, r := range res.Remaining {
		left[r.Partition] = true
	}
	concerns := func(partition, node uint64) bool { return node == res.Node || (partition != 0 && left[partition]) }
	var out []string
	if p.Plan.Paused {
		out = append(out, "the Doctor is paused")
	}
	if p.Plan.Waiting != "" {
		out = append(out, "the Doctor makes no plan: "+p.Plan.Waiting)
	}
	for _, o := range p.Plan.Ops {
		if !concerns(o.Op.Partition, o.Op.From) {
			continue
		}
		s := fmt.Sprintf("the Doctor plans %s: gate %s, %s", o.Op.String(), o.Gate, o.Decision)
		if len(o.Reasons) > 0 {
			s += ": " + strings.Join(o.Reasons, "; ")
		}
		out = append(out, s)
	}
	for _, e := range p.Running {
		if concerns(e.Partition, e.From) {
			out = append(out, fmt.Sprintf("in flight: operation %d, %s p%d from n%d to n%d, %d steps done",
				e.ID, e.Kind, e.Partition, e.From, e.To, len(e.Steps)))
		}
	}
	for _, wn := range p.Plan.WhyNots {
		// The decommission checker's reasons; the others' (zones, merges)
		// do not hold a decommission up.
		if wn.Checker == "decommission" && concerns(wn.Partition, wn.Node) {
			out = append(out, fmt.Sprintf("the Doctor leaves %s alone: %s", whyNotSubject(wn.Partition, wn.Node), wn.Reason))
		}
	}
	if len(out) == 0 {
		out = append(out, fmt.Sprintf("the Doctor on node %d says nothing of node %d or its partitions", p.Node, res.Node))
	}
	return out
}

// whyNotSubject names what a reason for no action is about.
func whyNotSubject(partition, node uint64) string {
	if partition == 0 {
		return fmt.Sprintf("n%d", node)
	}
	return fmt.Sprintf("p%d", partition)
}
