package store

import (
	"testing"
	"time"

	"github.com/partitadb/partita/replica"
)

// TestTransferTarget: leadership goes to the live voter with the most of
// the log. A follower raft no longer counts as recently active, because a
// quorum check has just cleared the flag, is live while it answered
// within the election timeout: right after each check every follower is
// in that state, and a leader removal then found no live voter.
func TestTransferTarget(t *testing.T) {
	now := time.Unix(1000, 0)
	const timeout = time.Second
	f := func(node, match uint64, active bool, ago time.Duration) replica.FollowerStatus {
		return replica.FollowerStatus{Node: node, Match: match, RecentActive: active, Heard: true, LastContact: now.Add(-ago)}
	}
	learner := f(5, 99, true, 0)
	learner.Learner = true
	unheard := f(6, 98, false, 0)
	unheard.Heard = false
	for _, tc := range []struct {
		name      string
		followers []replica.FollowerStatus
		want      uint64
	}{
		{"the most of the log", []replica.FollowerStatus{f(2, 10, true, 0), f(3, 12, true, 0)}, 3},
		{"just after a quorum check", []replica.FollowerStatus{f(2, 10, false, 50*time.Millisecond), f(3, 12, false, 80*time.Millisecond)}, 3},
		{"silent for an election timeout", []replica.FollowerStatus{f(2, 10, false, 50*time.Millisecond), f(3, 12, false, 2*time.Second)}, 2},
		{"no live voter", []replica.FollowerStatus{f(2, 10, false, 2*time.Second), learner, unheard}, 0},
		{"learners never", []replica.FollowerStatus{f(2, 10, true, 0), learner}, 2},
		{"a follower at match 0", []replica.FollowerStatus{f(2, 0, true, 0)}, 2},
	} {
		if got := transferTarget(tc.followers, now, timeout, nil); got != tc.want {
			t.Errorf("%s: target %d, want %d", tc.name, got, tc.want)
		}
	}
	// Voters to avoid (decommissioning) take leadership only when no
	// other live voter can.
	leaving := func(node uint64) bool { return node == 3 || node == 4 }
	for _, tc := range []struct {
		name      string
		followers []replica.FollowerStatus
		want      uint64
	}{
		{"another voter, though behind", []replica.FollowerStatus{f(2, 10, true, 0), f(3, 12, true, 0)}, 2},
		{"another voter, listed last", []replica.FollowerStatus{f(3, 12, true, 0), f(4, 14, true, 0), f(2, 10, true, 0)}, 2},
		{"only leaving voters live", []replica.FollowerStatus{f(2, 10, false, 2*time.Second), f(3, 12, true, 0), f(4, 14, true, 0)}, 4},
		{"the most of the log among the others", []replica.FollowerStatus{f(2, 10, true, 0), f(5, 11, true, 0), f(3, 12, true, 0)}, 5},
	} {
		if got := transferTarget(tc.followers, now, timeout, leaving); got != tc.want {
			t.Errorf("avoiding 3 and 4, %s: target %d, want %d", tc.name, got, tc.want)
		}
	}
}
