package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/partitadb/partita/admin"
	"github.com/partitadb/partita/settings"
	"github.com/partitadb/partita/topology"
)

// newCtlConfigCmd groups the run-time settings' commands.
func newCtlConfigCmd(f *ctlFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: "Run-time settings: list, override live, history, rollback, effective values", Args: cobra.NoArgs,
		Long: `Run-time settings and their overrides, kept in the directory and applied by
every node without a restart. An override applies to the whole cluster, a
zone (zone:Z), a node (node:N) or, for table settings, a table (table:T);
the most specific one wins over the node's flags, environment and file.

  partita ctl config list                          every setting, its default and bounds, overrides in force
  partita ctl config get raft.log-max-bytes        one setting: what it does, who reads it, its overrides
  partita ctl config set raft.log-max-bytes 32MiB --scope zone:b --reason "bigger disks"
  partita ctl config unset raft.log-max-bytes --scope zone:b
  partita ctl config history                       the versions of the overrides, who made them and why
  partita ctl config diff 3 5                      what changed from version 3 to version 5
  partita ctl config rollback [VERSION]            a new version equal to VERSION (default: the one before)
  partita ctl config effective [--node N]          a node's values, each with its source
  partita ctl config rollout KEY VALUE --stages zone:a,zone:b,zone:c --soak 60s
                                                   one stage at a time, halted and undone if health regresses`}
	cmd.AddCommand(newCtlConfigListCmd(f), newCtlConfigGetCmd(f), newCtlConfigSetCmd(f, "set"), newCtlConfigSetCmd(f, "unset"),
		newCtlConfigHistoryCmd(f), newCtlConfigDiffCmd(f), newCtlConfigRollbackCmd(f), newCtlConfigEffectiveCmd(f),
		newCtlConfigRolloutCmd(f))
	return cmd
}

// overridesOf lists the overrides of key as scope=value, most general
// first.
func overridesOf(st admin.ConfigState, key string) string {
	var out []string
	for _, o := range st.Overrides {
		if o.Key == key {
			out = append(out, fmt.Sprintf("%s=%s (v%d)", o.Scope, o.Value, o.Version))
		}
	}
	return strings.Join(out, ", ")
}

func bounds(s admin.SettingInfo) string {
	switch {
	case len(s.Choices) > 0:
		return strings.Join(s.Choices, "|")
	case s.Min != "" || s.Max != "":
		return s.Min + ".." + s.Max
	}
	return ""
}

func newCtlConfigListCmd(f *ctlFlags) *cobra.Command {
	return &cobra.Command{
		Use: "list", Short: "List every setting, its default, bounds and the overrides in force", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var st admin.ConfigState
			return f.run(cmd, http.MethodGet, "/config", 10*time.Second, &st, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "version %d of the overrides\n", st.Version)
				fmt.Fprintln(w, "SETTING\tKIND\tDEFAULT\tBOUNDS\tLIVE\tOVERRIDES")
				for _, s := range st.Settings {
					live := "yes"
					if !s.Live {
						live = "no (at start)"
					}
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", s.Name, s.Kind, s.Default, bounds(s), live, overridesOf(st, s.Name))
				}
			})
		},
	}
}

func newCtlConfigGetCmd(f *ctlFlags) *cobra.Command {
	return &cobra.Command{
		Use: "get KEY", Short: "Show one setting: what it does, who reads it, its bounds and overrides", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var st admin.ConfigState
			var found *admin.SettingInfo
			err := f.run(cmd, http.MethodGet, "/config", 10*time.Second, &st, func(w *tabwriter.Writer) {
				for i, s := range st.Settings {
					if s.Name == args[0] {
						found = &st.Settings[i]
					}
				}
				if found == nil {
					return
				}
				s := found
				fmt.Fprintf(w, "%s (%s", s.Name, s.Kind)
				if s.Unit != "" {
					fmt.Fprintf(w, ", %s", s.Unit)
				}
				fmt.Fprintf(w, ")\n%s\nread by:\t%s\ndefault:\t%s\n", s.Doc, s.Readers, s.Default)
				if b := bounds(*s); b != "" {
					fmt.Fprintf(w, "bounds:\t%s\n", b)
				}
				fmt.Fprintf(w, "live:\t%v\nper table:\t%v\noverrides:\t%s\n", s.Live, s.PerTable, overridesOf(st, s.Name))
			})
			if err == nil && found == nil && f.output != "json" {
				return fmt.Errorf("no setting %q (partita ctl config list names them all)", args[0])
			}
			return err
		},
	}
}

func newCtlConfigSetCmd(f *ctlFlags, verb string) *cobra.Command {
	var scope, reason string
	var version uint64
	use, short, nargs := "set KEY VALUE", "Override a setting, live, for the cluster or a scope", 2
	if verb == "unset" {
		use, short, nargs = "unset KEY", "Remove an override (the next most specific one, or the node's own value, applies)", 1
	}
	cmd := &cobra.Command{
		Use: use, Short: short, Args: cobra.ExactArgs(nargs),
		RunE: func(cmd *cobra.Command, args []string) error {
			q := url.Values{"key": {args[0]}, "scope": {scope}, "reason": {reason}}
			if verb == "set" {
				q.Set("value", args[1])
			}
			if version != 0 {
				q.Set("version", strconv.FormatUint(version, 10))
			}
			var ch admin.ConfigChange
			return f.run(cmd, http.MethodPost, "/config/"+verb+"?"+q.Encode(), 30*time.Second, &ch, func(w *tabwriter.Writer) {
				printChange(w, ch)
			})
		},
	}
	cmd.Flags().StringVar(&scope, "scope", "cluster", "where it applies: cluster, zone:Z, node:N or table:T")
	cmd.Flags().StringVar(&reason, "reason", "", "why, for the history")
	cmd.Flags().Uint64Var(&version, "version", 0, "refuse the change unless this version of the overrides is in force")
	return cmd
}

func printChange(w *tabwriter.Writer, ch admin.ConfigChange) {
	fmt.Fprintf(w, "version %d by %s", ch.Version, ch.Author)
	if ch.Reason != "" {
		fmt.Fprintf(w, ": %s", ch.Reason)
	}
	fmt.Fprintln(w)
	for _, e := range ch.Edits {
		fmt.Fprintf(w, "  %s\n", editString(e))
	}
}

func editString(e admin.ConfigEdit) string {
	if e.Unset {
		return fmt.Sprintf("unset %s at %s", e.Key, e.Scope)
	}
	return fmt.Sprintf("set %s=%s at %s", e.Key, e.Value, e.Scope)
}

func newCtlConfigHistoryCmd(f *ctlFlags) *cobra.Command {
	return &cobra.Command{
		Use: "history", Short: "List the versions of the overrides, oldest first", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var h []admin.ConfigChange
			return f.run(cmd, http.MethodGet, "/config/history", 20*time.Second, &h, func(w *tabwriter.Writer) {
				fmt.Fprintln(w, "VERSION\tTIME\tAUTHOR\tREASON\tEDITS")
				for _, ch := range h {
					var edits []string
					for _, e := range ch.Edits {
						edits = append(edits, editString(e))
					}
					fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\n", ch.Version, stamp(ch.Time), ch.Author, ch.Reason, strings.Join(edits, "; "))
				}
			})
		},
	}
}

// stateOf is the state of the overrides after ch.
func stateOf(ch admin.ConfigChange) (settings.State, error) {
	ovs := make([]settings.Override, 0, len(ch.Overrides))
	for _, o := range ch.Overrides {
		sc, err := settings.ParseScope(o.Scope)
		if err != nil {
			return settings.State{}, err
		}
		ovs = append(ovs, settings.Override{Key: o.Key, Scope: sc, Value: o.Value, Version: o.Version})
	}
	return settings.NewState(ch.Version, ovs), nil
}

func newCtlConfigDiffCmd(f *ctlFlags) *cobra.Command {
	return &cobra.Command{
		Use: "diff V1 V2", Short: "Show the edits that turn version V1 of the overrides into V2 (0: none)", Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			var vs [2]uint64
			for i, a := range args {
				v, err := strconv.ParseUint(a, 10, 64)
				if err != nil {
					return fmt.Errorf("%q is not a version", a)
				}
				vs[i] = v
			}
			ctx, cancel := contextFor(cmd, 20*time.Second)
			defer cancel()
			var h []admin.ConfigChange
			if err := f.get(ctx, "/config/history", &h); err != nil {
				return err
			}
			var states [2]settings.State
			for i, v := range vs {
				if v == 0 {
					continue
				}
				found := false
				for _, ch := range h {
					if ch.Version == v {
						st, err := stateOf(ch)
						if err != nil {
							return err
						}
						states[i], found = st, true
					}
				}
				if !found {
					return fmt.Errorf("version %d is not kept (partita ctl config history lists them)", v)
				}
			}
			for _, e := range settings.Diff(states[0], states[1]) {
				fmt.Fprintln(cmd.OutOrStdout(), e)
			}
			return nil
		},
	}
}

func newCtlConfigRollbackCmd(f *ctlFlags) *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use: "rollback [VERSION]", Short: "Make a new version of the overrides equal to VERSION (default: the one before the last)", Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			q := url.Values{"reason": {reason}}
			if len(args) == 1 {
				if _, err := strconv.ParseUint(args[0], 10, 64); err != nil {
					return fmt.Errorf("%q is not a version", args[0])
				}
				q.Set("version", args[0])
			}
			var ch admin.ConfigChange
			return f.run(cmd, http.MethodPost, "/config/rollback?"+q.Encode(), 30*time.Second, &ch, func(w *tabwriter.Writer) {
				printChange(w, ch)
			})
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why, for the history (default: rollback to version N)")
	return cmd
}

func newCtlConfigEffectiveCmd(f *ctlFlags) *cobra.Command {
	var node uint64
	cmd := &cobra.Command{
		Use: "effective", Short: "Show a node's settings, each with its source (default, flag, env, file, override)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			at := *f
			if node != 0 {
				ctx, cancel := contextFor(cmd, 10*time.Second)
				defer cancel()
				var nodes []topology.NodeInfo
				if err := f.get(ctx, "/cluster/nodes", &nodes); err != nil {
					return err
				}
				at.addr = ""
				for _, n := range nodes {
					if n.ID == node {
						at.addr = n.AdminAddr
					}
				}
				if at.addr == "" {
					return fmt.Errorf("node %d has no admin address in the directory", node)
				}
			}
			var e admin.ConfigEffective
			return at.run(cmd, http.MethodGet, "/debug/config", 10*time.Second, &e, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "node %d (zone %q), overrides version %d\n", e.Node, e.Zone, e.Version)
				fmt.Fprintln(w, "SETTING\tVALUE\tSOURCE")
				for _, s := range e.Settings {
					fmt.Fprintf(w, "%s\t%s\t%s\n", s.Name, s.Value, s.Source)
				}
			})
		},
	}
	cmd.Flags().Uint64Var(&node, "node", 0, "the node to ask (default: the node of --addr)")
	return cmd
}

// contextFor bounds one command's requests.
func contextFor(cmd *cobra.Command, timeout time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(cmd.Context(), timeout)
}

// get sends GET path and decodes the JSON answer into out.
func (f *ctlFlags) get(ctx context.Context, path string, out any) error {
	body, err := f.call(ctx, http.MethodGet, path, nil)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("%s: %w: is %s the admin address of a cluster node?", path, err, f.addr)
	}
	return nil
}
