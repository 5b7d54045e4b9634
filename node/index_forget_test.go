package node

import (
	"testing"
	"time"
)

// TestIndexJobsForgetGonePartitions: the index jobs' per-partition
// memory (backfill positions, rebuild marks, sweep marks) keeps only the
// partitions this node hosts.
func TestIndexJobsForgetGonePartitions(t *testing.T) {
	t.Parallel()
	n := startDev(t, nil)
	hosted := n.store.Replicas()
	if len(hosted) == 0 {
		t.Fatal("the node hosts no replica")
	}
	here, gone := hosted[0].Partition(), uint64(1<<40)
	j := &indexJob{n: n, resume: map[backfillKey][]byte{{partition: here}: []byte("a"), {partition: gone}: []byte("b")},
		rebuilding: map[uint64]time.Time{here: time.Now(), gone: time.Now()}}
	j.forgetGone()
	if _, ok := j.resume[backfillKey{partition: gone}]; ok || len(j.resume) != 1 {
		t.Errorf("backfill positions %v: want only partition %d's", j.resume, here)
	}
	if _, ok := j.rebuilding[gone]; ok || len(j.rebuilding) != 1 {
		t.Errorf("rebuild marks %v: want only partition %d's", j.rebuilding, here)
	}
	s := &indexSweepJob{n: n, swept: map[uint64]uint64{here: 3, gone: 4}}
	s.forgetGone()
	if _, ok := s.swept[gone]; ok || len(s.swept) != 1 {
		t.Errorf("sweep marks %v: want only partition %d's", s.swept, here)
	}
}
