package engine

import (
	"math/rand/v2"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
)

// MemFS is an in-memory filesystem for an engine (Options.FS): tests and
// simulations open engines on it instead of a directory of the OS.
type MemFS struct{ fs *vfs.MemFS }

// NewMemFS returns an empty in-memory filesystem.
func NewMemFS() *MemFS { return &MemFS{fs: vfs.NewMem()} }

// NewCrashableMemFS returns an empty in-memory filesystem that remembers
// which of its data was synced, for CrashClone.
func NewCrashableMemFS() *MemFS { return &MemFS{fs: vfs.NewCrashableMem()} }

// CrashClone returns the filesystem a crash at this moment could leave:
// every synced byte, and of the rest each block or directory entry with a
// chance of unsyncedPercent (drawn from rng, which may be nil when
// unsyncedPercent is 0). fs must come from NewCrashableMemFS.
func (fs *MemFS) CrashClone(unsyncedPercent int, rng *rand.Rand) *MemFS {
	return &MemFS{fs: fs.fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: unsyncedPercent, RNG: rng})}
}

// vfs returns the filesystem Pebble opens; nil means the OS.
func (fs *MemFS) vfs() vfs.FS {
	if fs == nil {
		return nil
	}
	return fs.fs
}

// slowSyncs wraps fs (nil: the OS's) so that every fsync first waits
// delay(); nil delay leaves fs as it is.
func slowSyncs(fs vfs.FS, delay func() time.Duration) vfs.FS {
	if delay == nil {
		return fs
	}
	if fs == nil {
		fs = vfs.Default
	}
	return reusedWrapped{errorfs.Wrap(fs, errorfs.InjectorFunc(func(op errorfs.Op) error {
		switch op.Kind {
		case errorfs.OpFileSync, errorfs.OpFileSyncData, errorfs.OpFileSyncTo:
			if d := delay(); d > 0 {
				time.Sleep(d)
			}
		}
		return nil
	}))}
}

// reusedWrapped is an errorfs FS whose reused files are wrapped too:
// errorfs hands a file reused for writing back unwrapped, so once Pebble
// recycled its first WAL, every WAL sync skipped the injector and a slow
// disk (fault.fsync-delay, Config.FsyncDelay) was slow no more (a
// harmful rollout on processes passed every stage at p99 25 ms). A reuse
// is what the OS's ReuseForWrite does: a rename, then an open for
// writing, both through the wrapper.
type reusedWrapped struct{ *errorfs.FS }

func (fs reusedWrapped) ReuseForWrite(oldname, newname string, category vfs.DiskWriteCategory) (vfs.File, error) {
	if err := fs.Rename(oldname, newname); err != nil {
		return nil, err
	}
	return fs.OpenReadWrite(newname, category)
}
