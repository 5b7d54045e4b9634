package store_test

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
	"github.com/prometheus/client_golang/prometheus"
	"go.etcd.io/raft/v3"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/replica"
	"github.com/partitadb/partita/store"
	"github.com/partitadb/partita/transport"
)

// TestStoreScripts runs the scripts under testdata against real stores on
// crash-simulating in-memory engines, joined by an in-memory network. The
// stores run their own goroutines and clocks, so every command waits
// (boundedly) for the condition it needs and prints only facts that do not
// depend on timing. `go test ./store -run TestStoreScripts -rewrite`
// regenerates the expected output.
//
// Commands (partition p=N, the store node=N, node=leader for whichever
// store leads):
//
//	add-stores n=3 [max-log=N step=N]     new stores, nodes 1..n
//	bootstrap p=2 nodes=(1,2,3)           a partition owning all of table p
//	add-empty p=2 node=4                  an empty replica awaiting its state
//	campaign p=2 node=1                   elect node 1; wait until all know it
//	wait-leader p=2 [among=(2,3)]         wait for a leader (printed unless among)
//	propose p=2 node=1 put k=a v=1 [timeout=2s] | delete k=a
//	propose-many p=2 node=1 n=40          puts k0..k39
//	read p=2 node=1|leader k=a [stale]    read-index read (stale: local read)
//	partition 1 [2] | heal                cut the group off the other nodes
//	crash node=2 | restart node=2         a crash keeps only synced writes
//	add-learner p=2 node=4 | promote p=2 node=4 | remove p=2 node=1
//	transfer-leader p=2 [to=3]            to the voter named (or the leader's choice)
//	wait-applied p=2                      every live member applied the leader's commit
//	wait-trimmed p=2 node=1 max=25        node's log of p holds at most max entries
//	status p=2 | data p=2                 roles, terms, membership / data and digest
//	snapshots node=3                      whether node 3 installed a snapshot
func TestStoreScripts(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		c := &scriptCluster{net: transport.NewInmem(1)}
		defer c.close()
		datadriven.RunTest(t, path, c.run)
	})
}

// scriptWait bounds every wait of a script.
const scriptWait = 15 * time.Second

type scriptStore struct {
	id  uint64
	fs  *engine.MemFS
	eng *engine.Engine
	st  *store.Store // nil while crashed
	reg *prometheus.Registry
	cfg store.Config
}

type scriptCluster struct {
	net    *transport.Inmem
	stores []*scriptStore // node i+1
	seq    int
}

func (c *scriptCluster) close() {
	for _, s := range c.stores {
		if s.st != nil {
			c.net.Disconnect(s.id)
			s.st.Stop()
			s.eng.Close()
		}
	}
}

func (c *scriptCluster) run(t *testing.T, d *datadriven.TestData) string {
	out, err := c.dispatch(t, d)
	if err != nil {
		return out + "error: " + err.Error() + "\n"
	}
	return out
}

func (c *scriptCluster) dispatch(t *testing.T, d *datadriven.TestData) (string, error) {
	switch d.Cmd {
	case "add-stores":
		return "", c.addStores(t, d)
	case "partition":
		c.net.Partition(scriptIDs(d.CmdArgs)...)
		return "", nil
	case "heal":
		c.net.Heal()
		return "", nil
	case "crash":
		return "", c.crash(c.argNode(t, d))
	case "restart":
		return "", c.restart(c.argNode(t, d))
	case "snapshots":
		return c.snapshots(c.argNode(t, d))
	}
	var p uint64
	d.ScanArgs(t, "p", &p)
	switch d.Cmd {
	case "bootstrap":
		return "", c.bootstrap(d, p)
	case "add-empty":
		return "", c.up(c.argNode(t, d)).st.AddEmptyReplica(p)
	case "campaign":
		return c.campaign(p, c.argNode(t, d))
	case "wait-leader":
		return c.waitLeader(d, p)
	case "propose":
		return c.proposeCmd(t, d, p)
	case "propose-many":
		return c.proposeMany(t, d, p)
	case "read":
		return c.read(t, d, p)
	case "add-learner", "promote", "remove", "transfer-leader":
		return c.membership(t, d, p)
	case "wait-applied":
		return "", c.waitApplied(p)
	case "wait-trimmed":
		var most int
		d.ScanArgs(t, "max", &most)
		return "", c.waitTrimmed(p, c.argNode(t, d), most)
	case "status":
		return c.status(p, true)
	case "data":
		return c.status(p, false)
	}
	return "", fmt.Errorf("unknown command %q", d.Cmd)
}

// scriptIDs returns the positional numbers of args, or the values of one
// list argument.
func scriptIDs(args []datadriven.CmdArg) []uint64 {
	var ids []uint64
	for _, a := range args {
		for _, v := range append([]string{a.Key}, a.Vals...) {
			if id, err := strconv.ParseUint(v, 10, 64); err == nil {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

func (c *scriptCluster) argNode(t *testing.T, d *datadriven.TestData) uint64 {
	var id uint64
	d.ScanArgs(t, "node", &id)
	if id == 0 || id > uint64(len(c.stores)) {
		t.Fatalf("%s: no node %d", d.Pos, id)
	}
	return id
}

// up returns the running store of node id (nil if crashed).
func (c *scriptCluster) up(id uint64) *scriptStore {
	if s := c.stores[id-1]; s.st != nil {
		return s
	}
	return nil
}

func (c *scriptCluster) addStores(t *testing.T, d *datadriven.TestData) error {
	var n int
	d.ScanArgs(t, "n", &n)
	cfg := store.DefaultConfig()
	// 20 ms ticks, elections after 0.4 to 0.8 s: fast scripts, and no
	// election the scripts do not ask for on a loaded machine.
	cfg.TickInterval = 20 * time.Millisecond
	cfg.Replica.ElectionTicks, cfg.Replica.HeartbeatTicks = 20, 2
	// Records are kept: a collection's floor follows the leader's clock,
	// and the digests would change from run to run.
	cfg.Replica.RecordWindow = 0
	d.MaybeScanArgs(t, "max-log", &cfg.Replica.MaxLogEntries)
	d.MaybeScanArgs(t, "step", &cfg.Replica.TruncateStep)
	for range n {
		s := &scriptStore{id: uint64(len(c.stores) + 1), fs: engine.NewCrashableMemFS(), cfg: cfg}
		s.cfg.NodeID = s.id
		c.stores = append(c.stores, s)
		if err := c.start(s); err != nil {
			return err
		}
	}
	return nil
}

func (c *scriptCluster) start(s *scriptStore) error {
	eng, err := engine.Open(engine.Options{Dir: "/data", FS: s.fs})
	if err != nil {
		return err
	}
	cfg := s.cfg
	cfg.Engine, s.reg = eng, prometheus.NewRegistry()
	cfg.Registerer = s.reg
	st, err := store.NewStore(cfg)
	if err != nil {
		return errors.Join(err, eng.Close())
	}
	st.Start(c.net.Connect(s.id, st))
	s.eng, s.st = eng, st
	return nil
}

// crash cuts the node off and keeps only what its disk had synced.
func (c *scriptCluster) crash(id uint64) error {
	s := c.up(id)
	if s == nil {
		return fmt.Errorf("node %d is down", id)
	}
	// Stop the store before taking the disk image: a round in flight would
	// otherwise sync and acknowledge entries after the image was taken,
	// and the restarted node would lack entries its peers counted.
	c.net.Disconnect(id)
	s.st.Stop()
	image := s.fs.CrashClone(0, nil)
	err := s.eng.Close()
	s.fs, s.st, s.eng = image, nil, nil
	return err
}

func (c *scriptCluster) restart(id uint64) error {
	s := c.stores[id-1]
	if s.st != nil {
		return fmt.Errorf("node %d is running", id)
	}
	return c.start(s)
}

func scriptTableSpan(p uint64) *partitapb.Span {
	lo, hi := engine.HashSpan(p, 0, 0)
	return &partitapb.Span{Start: lo, End: hi}
}

func (c *scriptCluster) bootstrap(d *datadriven.TestData, p uint64) error {
	arg, ok := d.Arg("nodes")
	if !ok {
		return errors.New("bootstrap needs nodes=(...)")
	}
	voters := scriptIDs([]datadriven.CmdArg{{Vals: arg.Vals}})
	for _, id := range voters {
		if err := c.up(id).st.Bootstrap(p, voters, scriptTableSpan(p)); err != nil {
			return err
		}
	}
	return nil
}

// eventually polls cond until it holds or the script's wait runs out.
func eventually(what string, cond func() bool) error {
	deadline := time.Now().Add(scriptWait)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
	return nil
}

// campaign elects id and waits until every live replica knows it.
func (c *scriptCluster) campaign(p, id uint64) (string, error) {
	if err := c.up(id).st.Campaign(p); err != nil {
		return "", err
	}
	err := eventually("the election", func() bool {
		for _, s := range c.stores {
			if s.st == nil {
				continue
			}
			if r := s.st.Replica(p); r != nil && r.Leader() != id {
				return false
			}
		}
		return true
	})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("n%d leads p%d at term %d\n", id, p, c.up(id).st.Replica(p).Status().Term), nil
}

// leader waits for a live leader of p among ids (all nodes when none).
func (c *scriptCluster) leader(p uint64, among []uint64) (*scriptStore, error) {
	var found *scriptStore
	err := eventually(fmt.Sprintf("a leader of p%d", p), func() bool {
		found = nil
		var term uint64
		for _, s := range c.stores {
			if s.st == nil || (len(among) > 0 && !slices.Contains(among, s.id)) {
				continue
			}
			r := s.st.Replica(p)
			if r == nil {
				continue
			}
			if st := r.Status(); st.RaftState == raft.StateLeader && st.Term > term {
				found, term = s, st.Term
			}
		}
		return found != nil
	})
	return found, err
}

func (c *scriptCluster) waitLeader(d *datadriven.TestData, p uint64) (string, error) {
	arg, ok := d.Arg("among")
	var among []uint64
	if ok {
		among = scriptIDs([]datadriven.CmdArg{{Vals: arg.Vals}})
	}
	s, err := c.leader(p, among)
	if err != nil {
		return "", err
	}
	if ok {
		return fmt.Sprintf("a leader among %v\n", among), nil
	}
	return fmt.Sprintf("n%d leads p%d at term %d\n", s.id, p, s.st.Replica(p).Status().Term), nil
}

func scriptArgs(d *datadriven.TestData) map[string]string {
	args := map[string]string{}
	for _, a := range d.CmdArgs {
		if len(a.Vals) == 1 {
			args[a.Key] = a.Vals[0]
		}
	}
	return args
}

func scriptCommand(id string, p uint64, del bool, k, v string) (*partitapb.Command, error) {
	key, err := engine.DataKey(nil, p, item.S(k), item.Value{})
	if err != nil {
		return nil, err
	}
	cmd := &partitapb.Command{Id: []byte(id)}
	if del {
		cmd.Op = &partitapb.Command_DeleteItem{DeleteItem: &partitapb.DeleteItem{Key: key}}
		return cmd, nil
	}
	it := item.EncodeItem(item.Item{"pk": item.S(k), "v": item.S(v)})
	cmd.Op = &partitapb.Command_PutItem{PutItem: &partitapb.PutItem{Key: key, Item: it}}
	return cmd, nil
}

func (c *scriptCluster) proposeCmd(t *testing.T, d *datadriven.TestData, p uint64) (string, error) {
	args := scriptArgs(d)
	timeout := scriptWait
	if v, ok := args["timeout"]; ok {
		var err error
		if timeout, err = time.ParseDuration(v); err != nil {
			return "", err
		}
	}
	c.seq++
	cmd, err := scriptCommand(fmt.Sprintf("s%d", c.seq), p, d.HasArg("delete"), args["k"], args["v"])
	if err != nil {
		return "", err
	}
	return c.propose(p, args["node"], cmd, timeout)
}

// propose proposes cmd on node (a number, or "leader": whichever store
// leads, retried until it applies) and describes the outcome.
func (c *scriptCluster) propose(p uint64, node string, cmd *partitapb.Command, timeout time.Duration) (string, error) {
	if node == "leader" {
		return c.proposeOnLeader(p, cmd)
	}
	id, err := strconv.ParseUint(node, 10, 64)
	if err != nil || c.up(id) == nil {
		return "", fmt.Errorf("no running node %q", node)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	res, err := c.up(id).st.Propose(ctx, p, cmd)
	return describeProposal(res, err), nil
}

func (c *scriptCluster) proposeOnLeader(p uint64, cmd *partitapb.Command) (string, error) {
	deadline := time.Now().Add(scriptWait)
	for time.Now().Before(deadline) {
		s, err := c.leader(p, nil)
		if err != nil {
			return "", err
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		res, err := s.st.Propose(ctx, p, cmd)
		cancel()
		var nl *replica.NotLeaderError
		if err == nil || !(errors.As(err, &nl) || errors.Is(err, replica.ErrAmbiguous) || errors.Is(err, context.DeadlineExceeded)) {
			return describeProposal(res, err), nil
		}
	}
	return "", errors.New("the proposal never applied")
}

// describeProposal names an outcome without its timing: an ambiguous
// outcome and a timeout are the same fact to the client.
func describeProposal(res *partitapb.Result, err error) string {
	var nl *replica.NotLeaderError
	switch {
	case errors.As(err, &nl):
		return fmt.Sprintf("not leader (leader hint %d)\n", nl.Leader)
	case errors.Is(err, replica.ErrAmbiguous) || errors.Is(err, context.DeadlineExceeded):
		return "outcome unknown\n"
	case err != nil:
		return "error: " + err.Error() + "\n"
	case res.GetError() != nil:
		return "rejected: " + res.GetError().GetMessage() + "\n"
	}
	return "ok\n"
}

func (c *scriptCluster) proposeMany(t *testing.T, d *datadriven.TestData, p uint64) (string, error) {
	var n int
	d.ScanArgs(t, "n", &n)
	node := scriptArgs(d)["node"]
	counts := map[string]int{}
	for i := range n {
		c.seq++
		cmd, err := scriptCommand(fmt.Sprintf("s%d", c.seq), p, false, fmt.Sprintf("k%d", i), strconv.Itoa(i))
		if err != nil {
			return "", err
		}
		res, err := c.propose(p, node, cmd, scriptWait)
		if err != nil {
			return "", err
		}
		counts[strings.TrimSpace(res)]++
	}
	var out strings.Builder
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		fmt.Fprintf(&out, "%d %s\n", counts[k], k)
	}
	return out.String(), nil
}

func (c *scriptCluster) read(t *testing.T, d *datadriven.TestData, p uint64) (string, error) {
	args := scriptArgs(d)
	key, err := engine.DataKey(nil, p, item.S(args["k"]), item.Value{})
	if err != nil {
		return "", err
	}
	if args["node"] != "leader" {
		s := c.up(c.argNode(t, d))
		if s == nil {
			return "", errors.New("the node is down")
		}
		ctx, cancel := context.WithTimeout(context.Background(), scriptWait)
		defer cancel()
		return describeRead(s.st.Get(ctx, p, key, !d.HasArg("stale")))
	}
	// Read on whoever leads, as a client would: a leader that loses its
	// leadership mid-read (elections right after a restart) answers "not
	// leader" or "outcome unknown", and the read goes to the next leader.
	deadline := time.Now().Add(scriptWait)
	for time.Now().Before(deadline) {
		s, err := c.leader(p, nil)
		if err != nil {
			return "", err
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		raw, err := s.st.Get(ctx, p, key, !d.HasArg("stale"))
		cancel()
		var nl *replica.NotLeaderError
		if errors.As(err, &nl) || errors.Is(err, replica.ErrAmbiguous) || errors.Is(err, context.DeadlineExceeded) {
			continue
		}
		return describeRead(raw, err)
	}
	return "", errors.New("no leader answered the read")
}

func describeRead(raw []byte, err error) (string, error) {
	var nl *replica.NotLeaderError
	switch {
	case errors.As(err, &nl):
		return fmt.Sprintf("not leader (leader hint %d)\n", nl.Leader), nil
	case err != nil:
		return "", err
	case raw == nil:
		return "absent\n", nil
	}
	return describeStoredItem(raw) + "\n", nil
}

func describeStoredItem(raw []byte) string {
	it, err := item.DecodeItem(raw)
	if err != nil {
		return "?"
	}
	return it["pk"].S + "=" + it["v"].S
}

// membership runs a membership command on the leader. Removing the leader
// moves leadership first; the removal is then retried on the new leader,
// and the output says how many terms it cost.
func (c *scriptCluster) membership(t *testing.T, d *datadriven.TestData, p uint64) (string, error) {
	s, err := c.leader(p, nil)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), scriptWait)
	defer cancel()
	if d.Cmd == "transfer-leader" {
		var to uint64
		if d.HasArg("to") {
			d.ScanArgs(t, "to", &to)
		}
		if err := s.st.TransferLeadershipTo(ctx, p, to); err != nil {
			return "", err
		}
		if l := s.st.Replica(p).Leader(); to != 0 {
			return fmt.Sprintf("n%d leads p%d", l, p), nil
		}
		return "", nil
	}
	node := c.argNode(t, d)
	switch d.Cmd {
	case "add-learner":
		return "", s.st.AddLearner(ctx, p, node)
	case "promote":
		return "", s.st.PromoteLearner(ctx, p, node)
	}
	term := s.st.Replica(p).Status().Term
	err = s.st.RemoveReplica(ctx, p, node)
	if !errors.Is(err, store.ErrLeadershipMoved) {
		return "", err
	}
	if s, err = c.leader(p, otherThan(c, node)); err != nil {
		return "", err
	}
	if err := s.st.RemoveReplica(ctx, p, node); err != nil {
		return "", err
	}
	after := s.st.Replica(p).Status().Term
	return fmt.Sprintf("leadership moved first: term +%d\n", after-term), nil
}

func otherThan(c *scriptCluster, id uint64) []uint64 {
	var ids []uint64
	for _, s := range c.stores {
		if s.id != id {
			ids = append(ids, s.id)
		}
	}
	return ids
}

// waitApplied waits until the leader applied its commit index and every
// live replica of a member applied as much.
func (c *scriptCluster) waitApplied(p uint64) error {
	return eventually(fmt.Sprintf("p%d to apply everywhere", p), func() bool {
		l, err := c.leader(p, nil)
		if err != nil {
			return false
		}
		lr := l.st.Replica(p)
		st, cs := lr.Status(), lr.ConfState()
		if lr.Applied() < st.Commit {
			return false
		}
		for _, id := range append(slices.Clone(cs.Voters), cs.Learners...) {
			s := c.up(id)
			if s == nil {
				continue
			}
			if r := s.st.Replica(p); r == nil || r.Applied() < st.Commit {
				return false
			}
		}
		return true
	})
}

// waitTrimmed waits until node's replica of p keeps at most most entries
// of its log: trimmed, whatever held it for a while (a follower crashed a
// moment ago is still recently active for an election timeout, and the
// leader keeps its log for it until then).
func (c *scriptCluster) waitTrimmed(p, node uint64, most int) error {
	return eventually(fmt.Sprintf("n%d's log of p%d trimmed to %d entries", node, p, most), func() bool {
		s := c.up(node)
		if s == nil {
			return false
		}
		r := s.st.Replica(p)
		return r != nil && r.TopologyStatus().LogEntries <= uint64(most)
	})
}

func (c *scriptCluster) status(p uint64, full bool) (string, error) {
	var out strings.Builder
	for _, s := range c.stores {
		if s.st == nil {
			fmt.Fprintf(&out, "n%d: down\n", s.id)
			continue
		}
		r := s.st.Replica(p)
		if r == nil {
			fmt.Fprintf(&out, "n%d: no replica\n", s.id)
			continue
		}
		if full {
			st, cs := r.Status(), r.ConfState()
			fmt.Fprintf(&out, "n%d: %s term=%d applied=%d voters=%v learners=%v\n", s.id,
				strings.ToLower(strings.TrimPrefix(st.RaftState.String(), "State")), st.Term, r.Applied(),
				cs.Voters, cs.Learners)
		}
		items, digest, err := scriptData(s.eng, p)
		if err != nil {
			return "", err
		}
		shown := "[" + strings.Join(items, " ") + "]"
		if len(items) > 8 { // long lists say no more than their digest
			shown = fmt.Sprintf("%d items", len(items))
		}
		fmt.Fprintf(&out, "n%d: data=%s digest=%08x\n", s.id, shown, digest)
	}
	return out.String(), nil
}

// scriptData returns the items of partition p (all of table p) as pk=v,
// sorted, and a digest of its replicated state: items, statistics and
// applied command ids.
func scriptData(eng *engine.Engine, p uint64) ([]string, uint32, error) {
	h := fnv.New32a()
	var items []string
	lo, hi := engine.HashSpan(p, 0, 0)
	local := engine.LocalKey(p, engine.ReplicatedLocal)
	localEnd := engine.LocalKey(p, string(rune(engine.ReplicatedLocal[0]+1)))
	for i, span := range [][2][]byte{{local, localEnd}, {lo, hi}} {
		it, err := eng.NewIter(span[0], span[1])
		if err != nil {
			return nil, 0, err
		}
		for ok := it.First(); ok; ok = it.Next() {
			h.Write(it.Key())
			h.Write(it.Value())
			if i == 1 {
				items = append(items, describeStoredItem(it.Value()))
			}
		}
		if err := errors.Join(it.Error(), it.Close()); err != nil {
			return nil, 0, err
		}
	}
	slices.Sort(items)
	return items, h.Sum32(), nil
}

// snapshotCounted bounds the wait for a snapshot's count: the store
// counts a snapshot received once its handler returns, after stepping it,
// so the replica may have applied it (and the script moved on) a moment
// before (CI: "installed no snapshot" right after catching up by one).
const snapshotCounted = 2 * time.Second

// snapshots says whether node id installed a snapshot since it started.
func (c *scriptCluster) snapshots(id uint64) (string, error) {
	s := c.up(id)
	if s == nil {
		return "", fmt.Errorf("node %d is down", id)
	}
	for deadline := time.Now().Add(snapshotCounted); ; time.Sleep(10 * time.Millisecond) {
		installed, err := snapshotsReceived(s.reg)
		if err != nil {
			return "", err
		}
		if installed {
			return fmt.Sprintf("n%d installed a snapshot\n", id), nil
		}
		if time.Now().After(deadline) {
			return fmt.Sprintf("n%d installed no snapshot\n", id), nil
		}
	}
}

// snapshotsReceived says whether reg counts a snapshot received whole.
func snapshotsReceived(reg *prometheus.Registry) (bool, error) {
	mfs, err := reg.Gather()
	if err != nil {
		return false, err
	}
	for _, mf := range mfs {
		if mf.GetName() != "partita_raft_snapshots_received_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetValue() == "ok" && m.GetCounter().GetValue() > 0 {
					return true, nil
				}
			}
		}
	}
	return false, nil
}
