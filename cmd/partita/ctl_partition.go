package main

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/partitadb/partita/admin"
)

func newCtlPartitionCmd(f *ctlFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "partition", Short: "Operate on one partition: split, merge", Args: cobra.NoArgs}
	cmd.AddCommand(newCtlSplitCmd(f), newCtlMergeCmd(f))
	return cmd
}

func newCtlMergeCmd(f *ctlFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "merge TABLE PARTITION",
		Short: "Merge a partition of a table with its right neighbour",
		Long: `Merge partition PARTITION of TABLE with its right neighbour, the partition
whose hash range starts where PARTITION's ends: PARTITION then owns both
ranges, and the neighbour's raft group is removed from every node. No item
moves. Both partitions must have their replicas on the same nodes (move
them together first), and neither may be splitting, merging or changing
its membership. Requests to the neighbour are retried, invisibly to
clients, while the merge runs; a merge that cannot complete (a replica
down) is aborted and both partitions go on as before.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseUint(args[1], 10, 64)
			if err != nil || id == 0 {
				return fmt.Errorf("bad partition id %q", args[1])
			}
			var res admin.MergeResult
			path := fmt.Sprintf("/cluster/partitions/%d/merge?%s", id, url.Values{"table": {args[0]}}.Encode())
			return f.run(cmd, http.MethodPost, path, time.Minute, &res, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "merged partition %d of %s into partition %d\n", res.Right, res.Table, res.Left)
				printRanges(w, res.Partitions)
			})
		},
	}
}

// printRanges prints a table's partitions as a split or merge left them.
func printRanges(w *tabwriter.Writer, parts []admin.PartitionRange) {
	fmt.Fprintln(w, "PARTITION\tHASHES\tRANGE GEN\tREPLICAS")
	for _, p := range parts {
		fmt.Fprintf(w, "%d\t[%s, %s)\t%d\t%s\n", p.ID, p.HashStart, p.HashEnd, p.RangeGeneration, ids(p.Replicas))
	}
}

func newCtlSplitCmd(f *ctlFlags) *cobra.Command {
	var at string
	cmd := &cobra.Command{
		Use:   "split TABLE PARTITION",
		Short: "Split a partition of a table in two",
		Long: `Split partition PARTITION of TABLE in two: it keeps the lower half of its
hash range and a new partition, on the same nodes, takes the upper half. No
item moves. The split point is the middle of the hash range, or with --at
the hash of a partition key (a string, a number, or base64 for a binary key,
by the table's key schema): the items of one partition key are never
divided. Refused while the partition changes its membership, or when it
has split since the directory was read.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseUint(args[1], 10, 64)
			if err != nil || id == 0 {
				return fmt.Errorf("bad partition id %q", args[1])
			}
			q := url.Values{"table": {args[0]}}
			if at != "" {
				q.Set("at", at)
			}
			var res admin.SplitResult
			path := fmt.Sprintf("/cluster/partitions/%d/split?%s", id, q.Encode())
			return f.run(cmd, http.MethodPost, path, time.Minute, &res, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "split partition %d of %s: new partition %d\n", res.Left, res.Table, res.Right)
				printRanges(w, res.Partitions)
			})
		},
	}
	cmd.Flags().StringVar(&at, "at", "", "partition key whose hash starts the new partition (default: the middle of the range)")
	return cmd
}

func ids(v []uint64) string {
	s := make([]string, len(v))
	for i, id := range v {
		s[i] = strconv.FormatUint(id, 10)
	}
	return strings.Join(s, ",")
}
