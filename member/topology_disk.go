package member

import (
	"cmp"
	"slices"
	"syscall"
)

// diskUsage returns the capacity and the used bytes of dir's file system
// (0, 0 when it cannot be read).
func diskUsage(dir string) (capacity, used uint64) {
	var fs syscall.Statfs_t
	if err := syscall.Statfs(dir, &fs); err != nil {
		return 0, 0
	}
	bs := uint64(fs.Bsize)
	return fs.Blocks * bs, (fs.Blocks - fs.Bfree) * bs
}

func sortReadings(rs []ReplicaReading) {
	slices.SortFunc(rs, func(a, b ReplicaReading) int { return cmp.Compare(a.Partition, b.Partition) })
}
