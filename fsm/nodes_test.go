package fsm_test

import (
	"testing"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
)

// metaCmd applies op to the meta partition at time at.
func metaCmd(t *testing.T, eng *engine.Engine, at int64, cmd *partitapb.Command) *partitapb.Result {
	t.Helper()
	cmd.UnixNanos = at
	return apply(t, eng, directory.MetaPartition, cmd)
}

func putNodeCmd(n *partitapb.Node) *partitapb.Command {
	return &partitapb.Command{Op: &partitapb.Command_PutNode{PutNode: &partitapb.PutNode{Node: n}}}
}

func markCmd(node uint64, on bool, by, reason string) *partitapb.Command {
	return &partitapb.Command{Op: &partitapb.Command_SetNodeDecommissioning{SetNodeDecommissioning: &partitapb.SetNodeDecommissioning{
		Node: node, Decommissioning: on, By: by, Reason: reason}}}
}

func removeNodeCmd(node uint64, ifDecommissioning bool) *partitapb.Command {
	return &partitapb.Command{Op: &partitapb.Command_RemoveNode{RemoveNode: &partitapb.RemoveNode{
		Id: node, IfDecommissioning: ifDecommissioning}}}
}

// storedNode reads node id's record as the meta partition holds it.
func storedNode(t *testing.T, eng *engine.Engine, id uint64) *partitapb.Node {
	t.Helper()
	n, err := directory.ReadNode(eng.Reader(), id)
	if err != nil {
		t.Fatalf("read node %d: %v", id, err)
	}
	return n
}

// TestDecommissionMark: SetNodeDecommissioning marks a node with the
// command's time, author and reason; marking it again keeps the first
// mark; clearing it clears all three; an unknown node is refused.
func TestDecommissionMark(t *testing.T) {
	eng := openEngine(t)
	id := metaCmd(t, eng, 100, putNodeCmd(&partitapb.Node{PeerAddr: "a:7000"})).GetNode().GetId()

	res := metaCmd(t, eng, 200, markCmd(id, true, "token:ops", "disk replacement"))
	if n := res.GetNode(); res.GetError() != nil || n.GetDecommissioningUnixNanos() != 200 || n.GetDecommissionBy() != "token:ops" ||
		n.GetDecommissionReason() != "disk replacement" {
		t.Fatalf("mark: %v", res)
	}
	if n := storedNode(t, eng, id); n.GetDecommissioningUnixNanos() != 200 || n.GetPeerAddr() != "a:7000" || n.GetJoinedUnixNanos() != 100 {
		t.Fatalf("stored record after the mark: %v", n)
	}

	res = metaCmd(t, eng, 300, markCmd(id, true, "cert:alice", "again"))
	if n := res.GetNode(); res.GetError() != nil || n.GetDecommissioningUnixNanos() != 200 || n.GetDecommissionBy() != "token:ops" {
		t.Fatalf("a second mark changed the first: %v", res)
	}

	res = metaCmd(t, eng, 400, markCmd(id, false, "token:ops", ""))
	if n := res.GetNode(); res.GetError() != nil || n.GetDecommissioningUnixNanos() != 0 || n.GetDecommissionBy() != "" ||
		n.GetDecommissionReason() != "" {
		t.Fatalf("clear: %v", res)
	}
	if n := storedNode(t, eng, id); n.GetDecommissioningUnixNanos() != 0 {
		t.Fatalf("stored record after the clear: %v", n)
	}

	if res := metaCmd(t, eng, 500, markCmd(id+1, true, "", "")); res.GetError().GetCode() != partitapb.Error_VALIDATION {
		t.Fatalf("an unknown node marked: %v", res)
	}
}

// TestHeartbeatKeepsTheMark: the node's own PutNode (its heartbeat, which
// knows nothing of the mark) updates its addresses and heartbeat and
// keeps the mark; a PutNode that carries another mark does not change it
// either; a PutNode after the record was removed is refused, mark or not.
func TestHeartbeatKeepsTheMark(t *testing.T) {
	eng := openEngine(t)
	id := metaCmd(t, eng, 100, putNodeCmd(&partitapb.Node{PeerAddr: "a:7000"})).GetNode().GetId()
	metaCmd(t, eng, 200, markCmd(id, true, "token:ops", "retire"))

	beat := metaCmd(t, eng, 300, putNodeCmd(&partitapb.Node{Id: id, PeerAddr: "a2:7000", Zone: "z"})).GetNode()
	if beat.GetHeartbeatUnixNanos() != 300 || beat.GetPeerAddr() != "a2:7000" || beat.GetDecommissioningUnixNanos() != 200 ||
		beat.GetDecommissionBy() != "token:ops" || beat.GetDecommissionReason() != "retire" {
		t.Fatalf("heartbeat record %v", beat)
	}
	if n := storedNode(t, eng, id); n.GetDecommissioningUnixNanos() != 200 || n.GetHeartbeatUnixNanos() != 300 {
		t.Fatalf("stored record after the heartbeat: %v", n)
	}
	metaCmd(t, eng, 400, putNodeCmd(&partitapb.Node{Id: id, PeerAddr: "a2:7000", DecommissioningUnixNanos: 1}))
	if n := storedNode(t, eng, id); n.GetDecommissioningUnixNanos() != 200 {
		t.Fatalf("a heartbeat set the mark: %v", n)
	}

	// Recommissioned, the heartbeat keeps the record unmarked.
	metaCmd(t, eng, 500, markCmd(id, false, "", ""))
	metaCmd(t, eng, 600, putNodeCmd(&partitapb.Node{Id: id, PeerAddr: "a2:7000", DecommissioningUnixNanos: 1}))
	if n := storedNode(t, eng, id); n.GetDecommissioningUnixNanos() != 0 {
		t.Fatalf("a heartbeat marked the node: %v", n)
	}

	metaCmd(t, eng, 700, markCmd(id, true, "", ""))
	if res := metaCmd(t, eng, 800, removeNodeCmd(id, true)); res.GetError() != nil || res.GetNode().GetId() != id {
		t.Fatalf("remove: %v", res)
	}
	if res := metaCmd(t, eng, 900, putNodeCmd(&partitapb.Node{Id: id, PeerAddr: "a2:7000"})); res.GetError().GetCode() != partitapb.Error_VALIDATION {
		t.Fatalf("a removed node's heartbeat accepted: %v", res)
	}
	if nodes, err := directory.ReadNodes(eng.Reader()); err != nil || len(nodes) != 0 {
		t.Fatalf("nodes after the removal: %v %v", nodes, err)
	}
}

// TestRemoveNodeIfDecommissioning: the Doctor's removal (if_decommissioning)
// of an unmarked node is refused and the record stays; the operator's
// removal needs no mark.
func TestRemoveNodeIfDecommissioning(t *testing.T) {
	eng := openEngine(t)
	a := metaCmd(t, eng, 100, putNodeCmd(&partitapb.Node{PeerAddr: "a:7000"})).GetNode().GetId()
	b := metaCmd(t, eng, 100, putNodeCmd(&partitapb.Node{PeerAddr: "b:7000"})).GetNode().GetId()
	if res := metaCmd(t, eng, 200, removeNodeCmd(a, true)); res.GetError().GetCode() != partitapb.Error_VALIDATION {
		t.Fatalf("an unmarked node removed: %v", res)
	}
	storedNode(t, eng, a)
	if res := metaCmd(t, eng, 300, removeNodeCmd(b, false)); res.GetError() != nil {
		t.Fatalf("the operator's removal: %v", res)
	}
	if res := metaCmd(t, eng, 400, removeNodeCmd(b, false)); res.GetError().GetCode() != partitapb.Error_VALIDATION {
		t.Fatalf("a removed node removed again: %v", res)
	}
}

func drainCmd(node uint64, on bool, by string) *partitapb.Command {
	return &partitapb.Command{Op: &partitapb.Command_SetNodeDraining{SetNodeDraining: &partitapb.SetNodeDraining{
		Node: node, Draining: on, By: by}}}
}

// TestDrainMark: SetNodeDraining marks a node with the command's time and
// author, and a second mark keeps the first; the heartbeats of the process
// that was drained keep the mark (one that carries a mark of its own sets
// none); the first heartbeat of a new process (another start time) clears
// it, and so does an undrain; the decommissioning mark is untouched by
// either; an unknown node is refused.
func TestDrainMark(t *testing.T) {
	eng := openEngine(t)
	id := metaCmd(t, eng, 100, putNodeCmd(&partitapb.Node{PeerAddr: "a:7000", StartedUnixNanos: 50})).GetNode().GetId()
	metaCmd(t, eng, 150, markCmd(id, true, "token:ops", "retire"))

	res := metaCmd(t, eng, 200, drainCmd(id, true, "token:ops"))
	if n := res.GetNode(); res.GetError() != nil || n.GetDrainingUnixNanos() != 200 || n.GetDrainBy() != "token:ops" {
		t.Fatalf("drain: %v", res)
	}
	if res := metaCmd(t, eng, 250, drainCmd(id, true, "cert:alice")); res.GetNode().GetDrainingUnixNanos() != 200 ||
		res.GetNode().GetDrainBy() != "token:ops" {
		t.Fatalf("a second drain changed the first: %v", res)
	}

	metaCmd(t, eng, 300, putNodeCmd(&partitapb.Node{Id: id, PeerAddr: "a:7000", StartedUnixNanos: 50}))
	if n := storedNode(t, eng, id); n.GetDrainingUnixNanos() != 200 || n.GetDrainBy() != "token:ops" || n.GetHeartbeatUnixNanos() != 300 {
		t.Fatalf("the drained process's heartbeat dropped the mark: %v", n)
	}

	metaCmd(t, eng, 400, putNodeCmd(&partitapb.Node{Id: id, PeerAddr: "a:7000", StartedUnixNanos: 350}))
	if n := storedNode(t, eng, id); n.GetDrainingUnixNanos() != 0 || n.GetDrainBy() != "" || n.GetDecommissioningUnixNanos() != 150 {
		t.Fatalf("after a restart: %v", n)
	}
	metaCmd(t, eng, 450, putNodeCmd(&partitapb.Node{Id: id, PeerAddr: "a:7000", StartedUnixNanos: 350, DrainingUnixNanos: 1}))
	if n := storedNode(t, eng, id); n.GetDrainingUnixNanos() != 0 {
		t.Fatalf("a heartbeat drained the node: %v", n)
	}

	metaCmd(t, eng, 500, drainCmd(id, true, "token:ops"))
	res = metaCmd(t, eng, 600, drainCmd(id, false, "token:ops"))
	if n := res.GetNode(); res.GetError() != nil || n.GetDrainingUnixNanos() != 0 || n.GetDrainBy() != "" || n.GetDecommissioningUnixNanos() != 150 {
		t.Fatalf("undrain: %v", res)
	}
	if n := storedNode(t, eng, id); n.GetDrainingUnixNanos() != 0 {
		t.Fatalf("stored record after the undrain: %v", n)
	}

	if res := metaCmd(t, eng, 700, drainCmd(id+1, true, "")); res.GetError().GetCode() != partitapb.Error_VALIDATION {
		t.Fatalf("an unknown node drained: %v", res)
	}
}
