package replica_test

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/replica"
	"github.com/partitadb/partita/transport"
)

// TestScripts runs the scripts under testdata: a few replicas of one
// partition on real engines (crash-simulating in-memory filesystems), with
// every processing round and every message delivery cranked by hand, so the
// output is deterministic. `go test ./replica -run TestScripts -rewrite`
// regenerates the expected output.
//
// Commands (node ids are positional arguments):
//
//	add-nodes n=3 [empty] [max-log=N step=N max-bytes=N] [lazy-commit]  new nodes; voters of a new group unless empty
//	lazy-commit on|off                   turn the lazy-commit nodes' switch, as raft.lazy-commit does
//	campaign 1                           1 starts an election
//	tick [1 2] [n=10]                    advance the logical clocks
//	propose 1 put k=a v=1 | delete k=a [count=N] [evaluated]   propose a command on 1 (N times); evaluated: as its leader's Effects
//	propose 1 split right=2              split the partition near the top of its
//	                                     hash range (the scripts' keys stay left)
//	add-learner 1 4 | promote 1 4 | remove 1 3   conf changes proposed on 1
//	transfer-leader 1 to=2
//	process-ready 1 [crash-before-sync]  one round of 1; optionally crash after
//	                                     sending early messages, before the fsync
//	deliver-msgs [2] [drop]              deliver (or drop) the messages in flight to 2
//	stabilize [1 2]                      rounds and deliveries until quiescent (among
//	                                     1 and 2 only: messages to others wait)
//	isolate 3 | heal                     drop every message to or from 3
//	crash 2 | restart 2                  unsynced writes are lost
//	status [1 2]                         raft state, membership and data
//	advance 10s                          move the wall clock (contact times)
//	followers 1                          a leader's view of its followers
//	log-bounds [bytes=N] [entries=N] [table=T]  the replicas' run-time log bounds (0: their config's), or table T's
//	log [1 2]                            log entries and bytes, the bytes as the
//	                                     replica counts them and as stored
//
// Messages print as `from->to Type term=T` with type-specific fields; a
// log position is term/index, like etcd raft's.
func TestScripts(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		e := &scriptEnv{}
		defer e.close(t)
		datadriven.RunTest(t, path, e.run)
	})
}

// scriptPartition is the partition the scripts replicate; it owns all of
// table scriptTable.
const (
	scriptPartition = 1
	scriptTable     = 1
)

type scriptNode struct {
	id   uint64
	fs   *engine.MemFS
	eng  *engine.Engine
	r    *replica.Replica // nil while crashed
	cfg  replica.Config
	seen string // the raft state last printed
}

// envelope is a message in flight; a MsgSnap carries its data.
type envelope struct {
	m    raftpb.Message
	data []transport.KV
}

type proposal struct {
	node uint64
	what string
	ch   <-chan replica.Outcome
}

type scriptEnv struct {
	nodes    []*scriptNode // node i+1
	inflight []envelope
	pending  []proposal
	isolated map[uint64]bool
	seq      int
	// now is the scripts' wall clock: it moves only with `advance`.
	now time.Time
	// bounds are every replica's run-time log bounds (`log-bounds`).
	bounds replica.LogBounds
	// lazy is the lazy commit switch of the nodes added with lazy-commit
	// (`lazy-commit on|off` turns it).
	lazy atomic.Bool
}

// clock is the replicas' wall clock.
func (e *scriptEnv) clock() time.Time { return e.now }

func (e *scriptEnv) close(t *testing.T) {
	for _, n := range e.nodes {
		if n.r != nil {
			n.r.Halt() // no fill of its record filter left reading the engine
			if err := n.eng.Close(); err != nil {
				t.Error(err)
			}
		}
	}
}

func (e *scriptEnv) run(t *testing.T, d *datadriven.TestData) string {
	var out strings.Builder
	err := e.dispatch(t, d, &out)
	if err != nil {
		fmt.Fprintf(&out, "error: %v\n", err)
	}
	return out.String()
}

func (e *scriptEnv) dispatch(t *testing.T, d *datadriven.TestData, out *strings.Builder) error {
	ids := nodeArgs(d)
	switch d.Cmd {
	case "add-nodes":
		return e.addNodes(t, d)
	case "campaign":
		return e.each(ids, func(n *scriptNode) error { return n.r.Campaign() })
	case "tick":
		return e.tick(d, ids)
	case "propose":
		return e.propose(d, ids)
	case "lazy-commit":
		if len(d.CmdArgs) != 1 || d.CmdArgs[0].Key != "on" && d.CmdArgs[0].Key != "off" {
			return errors.New("lazy-commit takes on or off")
		}
		e.lazy.Store(d.CmdArgs[0].Key == "on")
		return nil
	case "add-learner", "promote", "remove":
		return e.confChange(d.Cmd, ids)
	case "transfer-leader":
		var to uint64
		d.ScanArgs(t, "to", &to)
		return e.each(ids, func(n *scriptNode) error { n.r.TransferLeader(to); return nil })
	case "process-ready":
		return e.each(ids, func(n *scriptNode) error {
			_, err := e.processReady(n, out, d.HasArg("crash-before-sync"))
			return err
		})
	case "deliver-msgs":
		e.deliver(ids, d.HasArg("drop"), out)
		return nil
	case "stabilize":
		return e.stabilize(ids, out)
	case "isolate":
		for _, id := range ids {
			e.isolated[id] = true
		}
		return nil
	case "heal":
		clear(e.isolated)
		return nil
	case "crash":
		return e.each(ids, func(n *scriptNode) error { return e.crash(n, out) })
	case "restart":
		return e.restart(ids)
	case "status":
		return e.status(ids, out)
	case "advance":
		d, err := time.ParseDuration(d.CmdArgs[0].Key)
		if err != nil {
			return err
		}
		e.now = e.now.Add(d)
		return nil
	case "followers":
		return e.each(ids, func(n *scriptNode) error { return followers(n, e.now, out) })
	case "log":
		return e.each(ids, func(n *scriptNode) error { return printLog(n, out) })
	case "log-bounds":
		var bytes, entries, table uint64
		d.MaybeScanArgs(t, "bytes", &bytes)
		d.MaybeScanArgs(t, "entries", &entries)
		if d.MaybeScanArgs(t, "table", &table); table != 0 {
			e.bounds.SetTables(map[uint64]replica.TableLogBounds{table: {Bytes: bytes, Entries: entries}})
			return nil
		}
		e.bounds.Set(bytes, entries)
		return nil
	}
	return fmt.Errorf("unknown command %q", d.Cmd)
}

// nodeArgs returns the positional numeric arguments.
func nodeArgs(d *datadriven.TestData) []uint64 {
	var ids []uint64
	for _, a := range d.CmdArgs {
		if id, err := strconv.ParseUint(a.Key, 10, 64); err == nil && len(a.Vals) == 0 {
			ids = append(ids, id)
		}
	}
	return ids
}

func (e *scriptEnv) node(id uint64) (*scriptNode, error) {
	if id == 0 || id > uint64(len(e.nodes)) {
		return nil, fmt.Errorf("no node %d", id)
	}
	n := e.nodes[id-1]
	if n.r == nil {
		return nil, fmt.Errorf("node %d is down", id)
	}
	return n, nil
}

// each runs f on the running nodes ids (every running node when none).
func (e *scriptEnv) each(ids []uint64, f func(*scriptNode) error) error {
	if len(ids) == 0 {
		for _, n := range e.nodes {
			if n.r != nil {
				ids = append(ids, n.id)
			}
		}
	}
	for _, id := range ids {
		n, err := e.node(id)
		if err != nil {
			return err
		}
		if err := f(n); err != nil {
			return err
		}
	}
	return nil
}

func scriptSpan() *partitapb.Span {
	lo, hi := engine.HashSpan(scriptTable, 0, 0)
	return &partitapb.Span{Start: lo, End: hi}
}

func (e *scriptEnv) addNodes(t *testing.T, d *datadriven.TestData) error {
	var count int
	d.ScanArgs(t, "n", &count)
	cfg := replica.DefaultConfig()
	if e.now.IsZero() {
		e.now = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	cfg.Now = e.clock
	d.MaybeScanArgs(t, "max-log", &cfg.MaxLogEntries)
	d.MaybeScanArgs(t, "step", &cfg.TruncateStep)
	d.MaybeScanArgs(t, "max-bytes", &cfg.MaxLogBytes)
	// Off unless asked for: the other scripts show every commit update.
	cfg.LazyCommit = nil
	if d.HasArg("lazy-commit") {
		cfg.LazyCommit = &e.lazy
		e.lazy.Store(true)
	}
	cfg.LogBounds = &e.bounds
	if e.isolated == nil {
		e.isolated = make(map[uint64]bool)
	}
	first := uint64(len(e.nodes)) + 1
	var voters []uint64
	for i := range uint64(count) {
		voters = append(voters, first+i)
	}
	for _, id := range voters {
		n := &scriptNode{id: id, fs: engine.NewCrashableMemFS(), cfg: cfg}
		n.cfg.Partition, n.cfg.ID = scriptPartition, id
		e.nodes = append(e.nodes, n)
		if err := n.open(); err != nil {
			return err
		}
		if d.HasArg("empty") {
			continue
		}
		b := n.eng.NewIndexedBatch()
		if err := replica.Bootstrap(b, scriptPartition, voters, []*partitapb.Span{scriptSpan()}); err != nil {
			b.Close()
			return err
		}
		if err := n.eng.Commit(b); err != nil {
			return err
		}
		if err := n.reopenReplica(); err != nil {
			return err
		}
	}
	return nil
}

// open opens the node's engine and replica from its filesystem.
func (n *scriptNode) open() error {
	eng, err := engine.Open(engine.Options{Dir: "/data", FS: n.fs})
	if err != nil {
		return err
	}
	n.eng = eng
	if err := n.reopenReplica(); err != nil {
		n.eng = nil
		return errors.Join(err, eng.Close())
	}
	return nil
}

func (n *scriptNode) reopenReplica() error {
	n.cfg.Engine = n.eng
	r, err := replica.Open(n.cfg)
	if err != nil {
		return err
	}
	n.r = r
	return nil
}

func (e *scriptEnv) tick(d *datadriven.TestData, ids []uint64) error {
	times := 1
	if a, ok := d.Arg("n"); ok {
		var err error
		if len(a.Vals) != 1 {
			return errors.New("tick: n takes one value")
		}
		if times, err = strconv.Atoi(a.Vals[0]); err != nil {
			return err
		}
	}
	return e.each(ids, func(n *scriptNode) error {
		for range times {
			n.r.Tick()
		}
		return nil
	})
}

// propose proposes `put k=K v=V` or `delete k=K` on one node.
func (e *scriptEnv) propose(d *datadriven.TestData, ids []uint64) error {
	if len(ids) != 1 {
		return errors.New("propose takes one node")
	}
	n, err := e.node(ids[0])
	if err != nil {
		return err
	}
	args := map[string]string{}
	for _, a := range d.CmdArgs {
		if len(a.Vals) == 1 {
			args[a.Key] = a.Vals[0]
		}
	}
	count := 1
	if c, err := strconv.Atoi(args["count"]); err == nil && c > 0 {
		count = c
	}
	for range count {
		e.seq++
		var cmd *partitapb.Command
		if d.HasArg("split") {
			cmd, err = e.splitCommand(fmt.Sprintf("c%d", e.seq), args["right"])
		} else {
			cmd, err = scriptCommand(fmt.Sprintf("c%d", e.seq), d.HasArg("delete"), args["k"], args["v"])
		}
		if err != nil {
			return err
		}
		var ch <-chan replica.Outcome
		if d.HasArg("evaluated") {
			ch, err = n.r.ProposeEvaluated(context.Background(), cmd)
		} else {
			ch, err = n.r.Propose(cmd)
		}
		if err != nil {
			return err
		}
		e.pending = append(e.pending, proposal{node: n.id, what: describeCommand(cmd), ch: ch})
	}
	return nil
}

// scriptCommand is a put of item {pk: k, v: v}, or a delete of k.
func scriptCommand(id string, del bool, k, v string) (*partitapb.Command, error) {
	key, err := engine.DataKey(nil, scriptTable, item.S(k), item.Value{})
	if err != nil {
		return nil, err
	}
	cmd := &partitapb.Command{Id: []byte(id), FirstAttempt: true}
	if del {
		cmd.Op = &partitapb.Command_DeleteItem{DeleteItem: &partitapb.DeleteItem{Key: key}}
		return cmd, nil
	}
	it := item.EncodeItem(item.Item{"pk": item.S(k), "v": item.S(v)})
	cmd.Op = &partitapb.Command_PutItem{PutItem: &partitapb.PutItem{Key: key, Item: it}}
	return cmd, nil
}

// scriptSplitHash is where scripts split: near the top of the hash space,
// so the scripts' few keys stay in the left half.
const scriptSplitHash = 0xffff_ff00_0000_0000

// splitCommand splits the partition (at range generation 1, its voters
// those of the nodes added first) at scriptSplitHash; right is the right
// half's partition id.
func (e *scriptEnv) splitCommand(id, right string) (*partitapb.Command, error) {
	rp, err := strconv.ParseUint(right, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("split: right=%q: %w", right, err)
	}
	var voters []uint64
	for _, n := range e.nodes {
		voters = append(voters, n.id)
	}
	return &partitapb.Command{Id: []byte(id), FirstAttempt: true, Op: &partitapb.Command_SplitRange{SplitRange: &partitapb.SplitRange{
		TableId: scriptTable, SplitHash: scriptSplitHash, RightPartition: rp, ExpectedGeneration: 1, Voters: voters,
	}}}, nil
}

func describeCommand(cmd *partitapb.Command) string {
	switch op := cmd.GetOp().(type) {
	case *partitapb.Command_SplitRange:
		return fmt.Sprintf("%s split right=%d", cmd.GetId(), op.SplitRange.GetRightPartition())
	case *partitapb.Command_PutItem:
		it, err := item.DecodeItem(op.PutItem.GetItem())
		if err != nil {
			return "put ?"
		}
		return fmt.Sprintf("%s put %s=%s", cmd.GetId(), it["pk"].S, it["v"].S)
	case *partitapb.Command_DeleteItem:
		return fmt.Sprintf("%s delete", cmd.GetId())
	}
	return fmt.Sprintf("%s %T", cmd.GetId(), cmd.GetOp())
}

// confChange proposes, on the first node, a change of the second.
func (e *scriptEnv) confChange(cmd string, ids []uint64) error {
	if len(ids) != 2 {
		return fmt.Errorf("%s takes a leader and a node", cmd)
	}
	n, err := e.node(ids[0])
	if err != nil {
		return err
	}
	typ := map[string]raftpb.ConfChangeType{
		"add-learner": raftpb.ConfChangeAddLearnerNode,
		"promote":     raftpb.ConfChangeAddNode,
		"remove":      raftpb.ConfChangeRemoveNode,
	}[cmd]
	return n.r.ProposeConfChange(raftpb.ConfChangeV2{Changes: []raftpb.ConfChangeSingle{{Type: typ, NodeID: ids[1]}}})
}

// processReady runs one processing round of n as the store does: collect,
// send the early messages, commit (synced if the round must be), finish.
// With crashBeforeSync the node crashes after sending the early messages,
// its batch written but not synced. It reports whether n had a Ready.
func (e *scriptEnv) processReady(n *scriptNode, out *strings.Builder, crashBeforeSync bool) (bool, error) {
	r := n.r
	r.Lock()
	defer r.Unlock()
	b := n.eng.NewIndexedBatch()
	before := r.Applied()
	rd, ok, err := r.Collect(b)
	if err != nil || !ok {
		b.Close()
		return false, err
	}
	// The engine holds the round's applies (or snapshot) only once b is
	// committed; the applied index, which releases reads, must wait too.
	if got := r.Applied(); got != before {
		b.Close()
		return true, fmt.Errorf("node %d: applied index moved from %d to %d before its batch committed", n.id, before, got)
	}
	fmt.Fprintf(out, "> %d handling Ready\n", n.id)
	e.printState(n, out)
	e.send(rd.Early, out)
	commit := n.eng.CommitNoSync
	if rd.MustSync && !crashBeforeSync {
		commit = n.eng.Commit
	}
	if err := commit(b); err != nil {
		return true, err
	}
	if crashBeforeSync {
		return true, e.crash(n, out)
	}
	var snapErr error
	if _, err := r.Finish(rd, func(ms []raftpb.Message) { e.send(ms, out) }, func(m raftpb.Message, src *replica.SnapshotSource) {
		snapErr = errors.Join(snapErr, e.sendSnapshot(m, src, out))
	}); err != nil {
		return true, err
	}
	switch after := r.Applied(); {
	case after == before+1:
		fmt.Fprintf(out, "  %d applied %d\n", n.id, after)
	case after > before:
		fmt.Fprintf(out, "  %d applied %d..%d\n", n.id, before+1, after)
	}
	e.answer(n.id, out)
	return true, snapErr
}

func (e *scriptEnv) send(ms []raftpb.Message, out *strings.Builder) {
	for _, m := range ms {
		fmt.Fprintf(out, "  %s\n", describeMessage(m))
		e.inflight = append(e.inflight, envelope{m: m})
	}
}

// sendSnapshot reads a snapshot's data at once (as streaming it would) and
// puts it in flight with its MsgSnap.
func (e *scriptEnv) sendSnapshot(m raftpb.Message, src *replica.SnapshotSource, out *strings.Builder) error {
	defer src.Close()
	rd, err := src.Reader()
	if err != nil {
		return err
	}
	var kvs []transport.KV
	for kv, ok := rd.Next(); ok; kv, ok = rd.Next() {
		kvs = append(kvs, kv)
	}
	if err := rd.Err(); err != nil {
		return err
	}
	fmt.Fprintf(out, "  %s\n", describeMessage(m))
	e.inflight = append(e.inflight, envelope{m: m, data: kvs})
	return nil
}

// printState prints n's raft role, term and leader when they changed.
func (e *scriptEnv) printState(n *scriptNode, out *strings.Builder) {
	st := n.r.Status()
	s := fmt.Sprintf("%s term=%d lead=%d", roleName(st.RaftState.String()), st.Term, st.Lead)
	if s != n.seen {
		fmt.Fprintf(out, "  %d is %s\n", n.id, s)
		n.seen = s
	}
}

func roleName(state string) string {
	return strings.ToLower(strings.TrimPrefix(state, "State"))
}

// answer prints the outcomes of n's proposals that arrived.
func (e *scriptEnv) answer(id uint64, out *strings.Builder) {
	e.pending = slices.DeleteFunc(e.pending, func(p proposal) bool {
		if p.node != id {
			return false
		}
		select {
		case o := <-p.ch:
			fmt.Fprintf(out, "  %d answered %s: %s\n", id, p.what, describeOutcome(o))
			return true
		default:
			return false
		}
	})
}

func describeOutcome(o replica.Outcome) string {
	switch {
	case o.Err != nil:
		return o.Err.Error()
	case o.Result.GetError() != nil:
		return "rejected: " + o.Result.GetError().GetMessage()
	}
	return "ok"
}

// deliver delivers (or drops) the messages in flight to ids (to every
// node when none). Messages to a node that is down or isolated are lost.
func (e *scriptEnv) deliver(ids []uint64, drop bool, out *strings.Builder) int {
	var keep []envelope
	delivered := 0
	for _, env := range e.inflight {
		if len(ids) > 0 && !slices.Contains(ids, env.m.To) {
			keep = append(keep, env)
			continue
		}
		delivered++
		if err := e.deliverOne(env, drop); err != nil {
			fmt.Fprintf(out, "  dropped %s: %v\n", describeMessage(env.m), err)
		}
	}
	e.inflight = keep
	return delivered
}

func (e *scriptEnv) deliverOne(env envelope, drop bool) error {
	m := env.m
	err := func() error {
		switch {
		case drop:
			return errors.New("by the script")
		case e.isolated[m.From] || e.isolated[m.To]:
			return errors.New("isolated")
		}
		n, err := e.node(m.To)
		if err != nil {
			return err
		}
		if m.Type == raftpb.MsgSnap {
			_, err = n.r.StageSnapshot(m, &kvReader{kvs: env.data})
		} else {
			_, err = n.r.Step(m)
		}
		return err
	}()
	if m.Type == raftpb.MsgSnap {
		if from, ferr := e.node(m.From); ferr == nil {
			from.r.ReportSnapshot(m.To, err == nil)
		}
	}
	return err
}

type kvReader struct{ kvs []transport.KV }

func (r *kvReader) Next() (transport.KV, bool) {
	if len(r.kvs) == 0 {
		return transport.KV{}, false
	}
	kv := r.kvs[0]
	r.kvs = r.kvs[1:]
	return kv, true
}

func (r *kvReader) Err() error { return nil }

// stabilize processes the Readys of nodes ids (every node when none) and
// delivers the messages to them until nothing is left to do; messages to
// other nodes stay in flight.
func (e *scriptEnv) stabilize(ids []uint64, out *strings.Builder) error {
	for range 1000 {
		busy := false
		for _, n := range e.nodes {
			if n.r == nil || (len(ids) > 0 && !slices.Contains(ids, n.id)) {
				continue
			}
			ok, err := e.processReady(n, out, false)
			if err != nil {
				return err
			}
			busy = busy || ok
		}
		if e.deliver(ids, false, out) > 0 {
			busy = true
		}
		if !busy {
			return nil
		}
	}
	return errors.New("did not stabilize")
}

// crash stops n abruptly: its disk keeps only what was synced. The
// messages it sent stay in flight; its proposals are never answered.
func (e *scriptEnv) crash(n *scriptNode, out *strings.Builder) error {
	image := n.fs.CrashClone(0, nil)
	e.pending = slices.DeleteFunc(e.pending, func(p proposal) bool {
		if p.node == n.id {
			fmt.Fprintf(out, "  %d crashed: %s never answered\n", n.id, p.what)
		}
		return p.node == n.id
	})
	if n.r != nil {
		n.r.Halt()
	}
	n.r, n.seen = nil, ""
	err := n.eng.Close()
	n.fs, n.eng = image, nil
	return err
}

// restart reopens crashed nodes from what their disks kept.
func (e *scriptEnv) restart(ids []uint64) error {
	for _, id := range ids {
		if id == 0 || id > uint64(len(e.nodes)) {
			return fmt.Errorf("no node %d", id)
		}
		n := e.nodes[id-1]
		if n.r != nil {
			return fmt.Errorf("node %d is running", id)
		}
		if err := n.open(); err != nil {
			return err
		}
	}
	return nil
}

func (e *scriptEnv) status(ids []uint64, out *strings.Builder) error {
	if len(ids) == 0 {
		for _, n := range e.nodes {
			ids = append(ids, n.id)
		}
	}
	for _, id := range ids {
		if id == 0 || id > uint64(len(e.nodes)) {
			return fmt.Errorf("no node %d", id)
		}
		n := e.nodes[id-1]
		if n.r == nil {
			fmt.Fprintf(out, "%d: down\n", id)
			continue
		}
		if err := printStatus(n, out); err != nil {
			return err
		}
	}
	return nil
}

func printStatus(n *scriptNode, out *strings.Builder) error {
	st, stats, cs := n.r.Status(), n.r.Stats(), n.r.ConfState()
	fmt.Fprintf(out, "%d: %s term=%d lead=%d commit=%d applied=%d log=%d voters=%v learners=%v\n",
		n.id, roleName(st.RaftState.String()), st.Term, st.Lead, st.Commit, n.r.Applied(),
		stats.LogEntries, ids(cs.Voters), ids(cs.Learners))
	if len(st.Progress) > 0 {
		var prs []string
		for _, id := range slices.Sorted(maps.Keys(st.Progress)) {
			pr := st.Progress[id]
			prs = append(prs, fmt.Sprintf("%d:%s match=%d", id, strings.ToLower(strings.TrimPrefix(pr.State.String(), "State")), pr.Match))
		}
		fmt.Fprintf(out, "   progress %s\n", strings.Join(prs, " "))
	}
	data, digest, err := partitionData(n.eng)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "   data=[%s] digest=%08x\n", strings.Join(data, " "), digest)
	return nil
}

func ids(xs []uint64) string {
	xs = slices.Sorted(slices.Values(xs))
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.FormatUint(x, 10)
	}
	return "(" + strings.Join(s, " ") + ")"
}

// partitionData returns the items of the partition as pk=v, and a digest
// of its replicated state: items, statistics and applied command ids, all
// of which every caught-up replica holds identically.
func partitionData(eng *engine.Engine) ([]string, uint32, error) {
	h := fnv.New32a()
	var items []string
	lo, hi := engine.HashSpan(scriptTable, 0, 0)
	local := engine.LocalKey(scriptPartition, engine.ReplicatedLocal)
	localEnd := engine.LocalKey(scriptPartition, string(rune(engine.ReplicatedLocal[0]+1)))
	for _, span := range [][2][]byte{{local, localEnd}, {lo, hi}} {
		it, err := eng.NewIter(span[0], span[1])
		if err != nil {
			return nil, 0, err
		}
		for ok := it.First(); ok; ok = it.Next() {
			h.Write(it.Key())
			h.Write(it.Value())
			if span[0][0] == lo[0] {
				items = append(items, describeItem(it.Value()))
			}
		}
		if err := errors.Join(it.Error(), it.Close()); err != nil {
			return nil, 0, err
		}
	}
	slices.Sort(items)
	return items, h.Sum32(), nil
}

func describeItem(raw []byte) string {
	it, err := item.DecodeItem(raw)
	if err != nil {
		return "?"
	}
	return it["pk"].S + "=" + it["v"].S
}

// describeMessage is one line per message: from->to, type, term, then the
// fields that matter for its type.
func describeMessage(m raftpb.Message) string {
	s := fmt.Sprintf("%d->%d %s term=%d", m.From, m.To, m.Type, m.Term)
	switch m.Type {
	case raftpb.MsgApp:
		s += fmt.Sprintf(" log=%d/%d commit=%d", m.LogTerm, m.Index, m.Commit)
		if len(m.Entries) > 0 {
			s += " entries=[" + describeEntries(m.Entries) + "]"
		}
	case raftpb.MsgAppResp:
		s += fmt.Sprintf(" index=%d", m.Index)
		if m.Reject {
			s += fmt.Sprintf(" rejected hint=%d/%d", m.LogTerm, m.RejectHint)
		}
	case raftpb.MsgVote, raftpb.MsgPreVote:
		s += fmt.Sprintf(" log=%d/%d", m.LogTerm, m.Index)
	case raftpb.MsgVoteResp, raftpb.MsgPreVoteResp:
		s += map[bool]string{false: " granted", true: " rejected"}[m.Reject]
	case raftpb.MsgHeartbeat:
		s += fmt.Sprintf(" commit=%d", m.Commit)
	case raftpb.MsgSnap:
		md := m.Snapshot.Metadata
		s += fmt.Sprintf(" snap=%d/%d voters=%s learners=%s", md.Term, md.Index, ids(md.ConfState.Voters), ids(md.ConfState.Learners))
	}
	return s
}

func describeEntries(ents []raftpb.Entry) string {
	parts := make([]string, len(ents))
	for i, ent := range ents {
		parts[i] = fmt.Sprintf("%d/%d %s", ent.Term, ent.Index, describeEntry(ent))
	}
	return strings.Join(parts, ", ")
}

func describeEntry(ent raftpb.Entry) string {
	switch ent.Type {
	case raftpb.EntryConfChangeV2:
		var cc raftpb.ConfChangeV2
		if err := cc.Unmarshal(ent.Data); err != nil {
			return "conf ?"
		}
		return "conf " + raftpb.ConfChangesToString(cc.Changes)
	case raftpb.EntryNormal:
		if len(ent.Data) == 0 {
			return "empty"
		}
		if fsm.IsEffects(ent.Data) {
			eff, err := fsm.DecodeEffects(ent.Data)
			if err != nil {
				return "effects ?"
			}
			if eff.GetDelete() {
				return fmt.Sprintf("%s effects delete", eff.GetId())
			}
			return fmt.Sprintf("%s effects put %s", eff.GetId(), describeItem(eff.GetValue()))
		}
		cmd := &partitapb.Command{}
		if err := proto.Unmarshal(ent.Data, cmd); err != nil {
			return "?"
		}
		return describeCommand(cmd)
	}
	return ent.Type.String()
}

// followers prints a leader's view of its followers, as its topology
// status reports it: whether each answered since the leader's replica
// opened, and (when it has not) that its contact time is the open time.
func followers(n *scriptNode, now time.Time, out *strings.Builder) error {
	st := n.r.TopologyStatus()
	if len(st.Followers) == 0 {
		fmt.Fprintf(out, "n%d: no followers (not leading)\n", n.id)
	}
	for _, f := range st.Followers {
		fmt.Fprintf(out, "n%d: follower n%d match=%d heard=%t contact=%v ago ack-timed=%t\n",
			n.id, f.Node, f.Match, f.Heard, now.Sub(f.LastContact), f.AckLatency > 0)
	}
	return nil
}

// printLog prints n's log: its entries, the bytes the replica counts (what
// the byte bound and the metrics use) and the bytes stored under its log
// keys, which must agree.
func printLog(n *scriptNode, out *strings.Builder) error {
	stats := n.r.Stats()
	if l := n.eng.RaftLog(); l != nil {
		st, _ := l.State(scriptPartition)
		fmt.Fprintf(out, "%d: entries=%d bytes=%d stored=%d\n", n.id, stats.LogEntries, stats.LogBytes, st.Bytes)
		return nil
	}
	lo := engine.LocalKey(scriptPartition, "lg")
	hi := engine.LocalKey(scriptPartition, "lh")
	it, err := n.eng.NewIter(lo, hi)
	if err != nil {
		return err
	}
	var stored uint64
	for ok := it.First(); ok; ok = it.Next() {
		stored += uint64(len(it.Value()))
	}
	if err := errors.Join(it.Error(), it.Close()); err != nil {
		return err
	}
	fmt.Fprintf(out, "%d: entries=%d bytes=%d stored=%d\n", n.id, stats.LogEntries, stats.LogBytes, stored)
	return nil
}
