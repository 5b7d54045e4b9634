package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/doctor/operator"
	"github.com/partitadb/partita/topology"
)

// newCtlUpgradePlanCmd orders a rolling restart onto a new binary: one
// stage at a time, each node drained, restarted (by --exec, or by the
// operator following the printed steps), and waited for until it is back
// and caught up; a stage ends with the cluster healthy for --soak. Any
// regression halts the plan.
func newCtlUpgradePlanCmd(f *ctlFlags) *cobra.Command {
	var (
		stages, execCmd string
		soak, wait      time.Duration
		maxLag          uint64
	)
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Order a rolling restart onto a new binary, stage by stage, with health gates; --exec runs it",
		Long: `Print the order in which to restart the nodes onto a new binary: the stages
given (zone:Z or node:N, in order; the nodes they leave out form a last
stage), each node drained, restarted, and waited for until it is alive and
its replicas caught up, and the cluster healthy for --soak between stages.

Partita cannot replace its own binary: with --exec CMD, ctl runs CMD (through
sh -c) for each node in turn, with PARTITA_NODE_ID, PARTITA_NODE_ZONE,
PARTITA_NODE_API, PARTITA_NODE_PEER and PARTITA_NODE_ADMIN set, e.g. a
systemctl restart on the node's host, and waits as above. A failed command,
a node that does not come back within --wait, or a cluster that is not
healthy halts the plan. Once every node runs the new binary, the Doctor
finalises the cluster version by itself (ctl upgrade status).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p := &upgradePlan{f: f, exec: execCmd, soak: soak, wait: wait, maxLag: maxLag, out: cmd.OutOrStdout()}
			return p.run(cmd.Context(), stages)
		},
	}
	cmd.Flags().StringVar(&stages, "stages", "", "stages in order, comma-separated: zone:Z or node:N")
	cmd.Flags().StringVar(&execCmd, "exec", "", "command restarting one node onto the new binary (sh -c; PARTITA_NODE_* set); empty: print the plan only")
	cmd.Flags().DurationVar(&soak, "soak", 30*time.Second, "how long the cluster must stay healthy after each stage")
	cmd.Flags().DurationVar(&wait, "wait", 5*time.Minute, "how long to wait for a restarted node to be back and caught up")
	cmd.Flags().Uint64Var(&maxLag, "max-lag", 100, "entries a replica may be behind its leader and count as caught up (writes in flight keep followers a few behind)")
	return cmd
}

// upgradePlan is one run of `ctl upgrade plan`.
type upgradePlan struct {
	f          *ctlFlags
	exec       string
	soak, wait time.Duration
	maxLag     uint64
	out        io.Writer
	nodes      []topology.NodeInfo
}

func (p *upgradePlan) say(format string, args ...any) {
	fmt.Fprintf(p.out, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func (p *upgradePlan) run(ctx context.Context, spec string) error {
	if err := p.f.get(ctx, "/cluster/nodes", &p.nodes); err != nil {
		return err
	}
	stages, err := planStages(p.nodes, spec)
	if err != nil {
		return err
	}
	for i, s := range stages {
		fmt.Fprintf(p.out, "stage %d (%s): nodes %s\n", i+1, s.name, idList(s.nodes))
		for _, id := range s.nodes {
			fmt.Fprintf(p.out, "  node %d: ctl node drain %d; restart it onto the new binary; wait until it is alive and caught up\n", id, id)
		}
		fmt.Fprintf(p.out, "  then: every node alive, every partition led and caught up, for %v\n", p.soak)
	}
	if p.exec == "" {
		fmt.Fprintln(p.out, "(a plan only: give --exec CMD to run it)")
		return nil
	}
	if err := p.healthy(ctx, 0); err != nil {
		return fmt.Errorf("upgrade plan: the cluster is not healthy before the first stage: %w", err)
	}
	for i, s := range stages {
		p.say("stage %d of %d (%s)", i+1, len(stages), s.name)
		for _, id := range s.nodes {
			if err := p.restart(ctx, id); err != nil {
				p.say("halted at node %d: %v", id, err)
				return fmt.Errorf("upgrade plan halted at stage %d (%s), node %d: %w", i+1, s.name, id, err)
			}
		}
		if err := p.soaked(ctx); err != nil {
			p.say("halted after stage %d: %v", i+1, err)
			return fmt.Errorf("upgrade plan halted after stage %d (%s): %w", i+1, s.name, err)
		}
		p.say("stage %d healthy for %v", i+1, p.soak)
	}
	p.say("every node restarted; the Doctor finalises the cluster version once its soak is over (ctl upgrade status)")
	return nil
}

// restart drains node id, runs the restart command for it, and waits
// until it is back and caught up.
func (p *upgradePlan) restart(ctx context.Context, id uint64) error {
	n := p.node(id)
	var dr operator.DrainResult
	body, err := p.via(id).call(ctx, http.MethodPost, fmt.Sprintf("/cluster/nodes/%d/drain", id), nil)
	if err == nil {
		err = json.Unmarshal(body, &dr)
	}
	if err != nil {
		return fmt.Errorf("drain: %w", err)
	}
	p.say("node %d drained: moved %d of %d leaderships", id, dr.Moved, dr.Led)
	c := exec.CommandContext(ctx, "sh", "-c", p.exec)
	c.Env = append(os.Environ(), "PARTITA_NODE_ID="+strconv.FormatUint(id, 10), "PARTITA_NODE_ZONE="+n.Zone,
		"PARTITA_NODE_API="+n.APIAddr, "PARTITA_NODE_PEER="+n.PeerAddr, "PARTITA_NODE_ADMIN="+n.AdminAddr)
	c.Stdout, c.Stderr = p.out, p.out
	start := time.Now()
	if err := c.Run(); err != nil {
		return fmt.Errorf("the restart command: %w", err)
	}
	p.say("node %d: restart command done in %v; waiting for it", id, time.Since(start).Round(time.Millisecond))
	wctx, cancel := context.WithTimeout(ctx, p.wait)
	defer cancel()
	for {
		err := p.ready(wctx, n)
		if err == nil && !dr.Draining.IsZero() {
			err = p.restarted(wctx, id)
		}
		if err == nil {
			err = p.healthy(wctx, id)
		}
		if err == nil {
			p.say("node %d back and caught up after %v", id, time.Since(start).Round(time.Millisecond))
			return nil
		}
		select {
		case <-wctx.Done():
			return fmt.Errorf("not back and caught up within %v: %w", p.wait, err)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// restarted says node id's drain mark is gone: the first heartbeat of
// its new process cleared it (nil), or it is still the process the drain
// marked.
func (p *upgradePlan) restarted(ctx context.Context, id uint64) error {
	var nodes []topology.NodeInfo
	if err := p.via(id).get(ctx, "/cluster/nodes", &nodes); err != nil {
		return err
	}
	for _, n := range nodes {
		if n.ID == id && !n.Draining.IsZero() {
			return fmt.Errorf("node %d is still marked draining: it has not restarted (a new process's first heartbeat clears the mark)", id)
		}
	}
	return nil
}

// ready asks node n's admin endpoint whether it serves.
func (p *upgradePlan) ready(ctx context.Context, n topology.NodeInfo) error {
	if n.AdminAddr == "" {
		return nil
	}
	g := *p.f
	g.addr = n.AdminAddr
	rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := g.call(rctx, http.MethodGet, "/readyz", nil); err != nil {
		return fmt.Errorf("node %d is not ready: %w", n.ID, err)
	}
	return nil
}

// soaked checks the cluster's health for the soak period.
func (p *upgradePlan) soaked(ctx context.Context) error {
	for end := time.Now().Add(p.soak); ; {
		if err := p.healthy(ctx, 0); err != nil {
			return err
		}
		if time.Now().After(end) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// healthy says why the cluster is not healthy (nil: it is): a node not
// alive, a partition without a leader, a replica behind. Asked through a
// node other than avoid.
func (p *upgradePlan) healthy(ctx context.Context, avoid uint64) error {
	var nodes []topology.NodeInfo
	var parts []topology.PartitionInfo
	via := p.via(avoid)
	if err := via.get(ctx, "/cluster/nodes", &nodes); err != nil {
		return err
	}
	if err := via.get(ctx, "/cluster/partitions", &parts); err != nil {
		return err
	}
	for _, n := range nodes {
		if n.Status != directory.Alive {
			return fmt.Errorf("node %d is %s", n.ID, n.Status)
		}
	}
	for _, pt := range parts {
		if pt.Leader == 0 {
			return fmt.Errorf("partition %d has no leader", pt.ID)
		}
		for _, r := range pt.Status {
			if r.Lag > p.maxLag || r.Role != topology.RoleLeader && r.Role != topology.RoleFollower {
				return fmt.Errorf("partition %d: the replica on node %d is %s, %d entries behind", pt.ID, r.Node, r.Role, r.Lag)
			}
		}
	}
	p.nodes = nodes
	return nil
}

// via is the admin endpoint to ask: --addr, unless it is node avoid's
// (being restarted), then another node's.
func (p *upgradePlan) via(avoid uint64) *ctlFlags {
	n := p.node(avoid)
	if avoid == 0 || n.AdminAddr == "" || !strings.HasSuffix(p.f.addr, n.AdminAddr) {
		return p.f
	}
	for _, o := range p.nodes {
		if o.ID != avoid && o.AdminAddr != "" {
			g := *p.f
			g.addr = o.AdminAddr
			return &g
		}
	}
	return p.f
}

func (p *upgradePlan) node(id uint64) topology.NodeInfo {
	for _, n := range p.nodes {
		if n.ID == id {
			return n
		}
	}
	return topology.NodeInfo{}
}

// planStage is one stage's nodes.
type planStage struct {
	name  string
	nodes []uint64
}

// planStages orders nodes by stages (zone:Z or node:N, comma-separated);
// the nodes no stage names form a last stage.
func planStages(nodes []topology.NodeInfo, spec string) ([]planStage, error) {
	var out []planStage
	placed := map[uint64]bool{}
	for _, s := range strings.Split(spec, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		kind, val, ok := strings.Cut(s, ":")
		st := planStage{name: s}
		for _, n := range nodes {
			switch {
			case !ok:
			case kind == "zone" && n.Zone == val, kind == "node" && strconv.FormatUint(n.ID, 10) == val:
				if !placed[n.ID] {
					st.nodes = append(st.nodes, n.ID)
					placed[n.ID] = true
				}
			}
		}
		if !ok || kind != "zone" && kind != "node" {
			return nil, fmt.Errorf("upgrade plan: stage %q: want zone:Z or node:N", s)
		}
		if len(st.nodes) == 0 {
			return nil, fmt.Errorf("upgrade plan: stage %q names no node of the cluster", s)
		}
		out = append(out, st)
	}
	var rest planStage
	rest.name = "the other nodes"
	for _, n := range nodes {
		if !placed[n.ID] {
			rest.nodes = append(rest.nodes, n.ID)
		}
	}
	if len(rest.nodes) > 0 {
		if len(out) == 0 {
			rest.name = "every node"
		}
		out = append(out, rest)
	}
	if len(out) == 0 {
		return nil, errors.New("upgrade plan: the cluster has no node")
	}
	for i := range out {
		slices.Sort(out[i].nodes)
	}
	return out, nil
}

func idList(ids []uint64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatUint(id, 10)
	}
	return strings.Join(s, ", ")
}
