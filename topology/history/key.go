// Package history names topology snapshots in a bucket: the key layout the
// publisher writes and every reader (the ingester, `partita doctor replay`)
// lists. Keys are partitioned by hour, then by node, so that listing one
// hour, or one node within it, is one prefix.
//
//	topology/v1/2026/12/03/16/node-0000000003/<taken>-<started>-<seq>.pb
//
// taken and started are Unix nanoseconds (the snapshot's time and its
// process's start), seq the process's snapshot sequence number, all
// zero-padded so that a node's keys list in time order.
package history

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Root is the prefix of every topology key.
const Root = "topology/v1/"

// ErrNotAKey is returned by ParseKey for a name outside the layout.
var ErrNotAKey = errors.New("history: not a topology snapshot key")

// Name identifies one snapshot blob.
type Name struct {
	Node    uint64
	Taken   time.Time // the snapshot's time
	Started time.Time // its process's start
	Seq     uint64
}

// Key is n's blob key.
func (n Name) Key() string {
	return fmt.Sprintf("%snode-%010d/%019d-%019d-%010d.pb",
		HourPrefix(n.Taken), n.Node, n.Taken.UnixNano(), n.Started.UnixNano(), n.Seq)
}

// HourPrefix is the prefix of the keys of snapshots taken in t's hour (UTC).
func HourPrefix(t time.Time) string {
	return Root + t.UTC().Format("2006/01/02/15") + "/"
}

// NodePrefix is the prefix of node's snapshots taken in t's hour.
func NodePrefix(t time.Time, node uint64) string {
	return fmt.Sprintf("%snode-%010d/", HourPrefix(t), node)
}

// ParseKey reads a key written by Name.Key.
func ParseKey(key string) (Name, error) {
	rest, ok := strings.CutPrefix(key, Root)
	if !ok {
		return Name{}, ErrNotAKey
	}
	// YYYY/MM/DD/HH/node-N/taken-started-seq.pb
	parts := strings.Split(rest, "/")
	if len(parts) != 6 {
		return Name{}, ErrNotAKey
	}
	hour, err := time.Parse("2006/01/02/15", strings.Join(parts[:4], "/"))
	if err != nil {
		return Name{}, ErrNotAKey
	}
	var n Name
	var taken, started int64
	if _, err := fmt.Sscanf(parts[4], "node-%d", &n.Node); err != nil {
		return Name{}, ErrNotAKey
	}
	base, ok := strings.CutSuffix(parts[5], ".pb")
	if !ok {
		return Name{}, ErrNotAKey
	}
	f := strings.Split(base, "-")
	if len(f) != 3 {
		return Name{}, ErrNotAKey
	}
	if _, err := fmt.Sscanf(strings.Join(f, " "), "%d %d %d", &taken, &started, &n.Seq); err != nil {
		return Name{}, ErrNotAKey
	}
	n.Taken, n.Started = time.Unix(0, taken).UTC(), time.Unix(0, started).UTC()
	if !n.Taken.Truncate(time.Hour).Equal(hour) || n.Key() != key {
		return Name{}, ErrNotAKey // not in its hour, or not spelled as written
	}
	return n, nil
}

// TimelineRoot is the prefix of the Doctor's timeline entries, published
// beside the snapshots when they end (protobuf partitapb.DoctorOp):
//
//	doctor-timeline/v1/2026/12/03/16/<id>-<state>.pb
//
// partitioned by the hour the entry was last updated, like the snapshots,
// so that the same retention applies.
const TimelineRoot = "doctor-timeline/v1/"

// TimelineKey is the key of timeline entry id in state, updated at t.
func TimelineKey(t time.Time, id uint64, state string) string {
	return fmt.Sprintf("%s%s/%020d-%s.pb", TimelineRoot, t.UTC().Format("2006/01/02/15"), id, state)
}

// Roots are the prefixes of everything published to a topology bucket,
// each laid out by hour under it.
func Roots() []string { return []string{Root, TimelineRoot} }
