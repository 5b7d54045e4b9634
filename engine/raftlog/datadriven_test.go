package raftlog

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"github.com/cockroachdb/pebble/v2/vfs"
	"go.etcd.io/raft/v3/raftpb"
)

// TestDataDriven runs the scripts in testdata/ against a log on a
// crashable in-memory filesystem. Commands:
//
//	open [segment-bytes=N]   open the log (a new filesystem the first time)
//	batch [sync]             write one batch of the operations below, one a line:
//	  append p=P lo=L hi=H term=T [size=N]   entries [L, H] of term T
//	  hardstate p=P term=T vote=V commit=C
//	  truncate p=P index=I term=T
//	  reset p=P index=I term=T
//	  remove p=P
//	sync                     Sync
//	state                    every partition's state
//	entries p=P lo=L hi=H [max=N]
//	term p=P i=I
//	close                    Close
//	reopen                   Close, then open the same files
//	crash [unsynced=U seed=S]  open what a crash now leaves (CrashClone), the
//	                         old log abandoned
//	segments                 the segment files: number, size, live bytes
//	corrupt seg=N off=O      flip a byte of a segment file
//	garbage seg=N bytes=B    append B bytes of junk to a segment file
//	metrics                  the metrics that do not depend on timing
func TestDataDriven(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		var d ddLog
		defer d.close()
		datadriven.RunTest(t, path, func(t *testing.T, td *datadriven.TestData) string {
			out, err := d.run(t, td)
			if err != nil {
				return "error: " + err.Error() + "\n"
			}
			return out
		})
	})
}

// ddLog is the state of one script.
type ddLog struct {
	fs           *vfs.MemFS
	l            *Log
	segmentBytes int64
}

func (d *ddLog) close() {
	if d.l != nil {
		d.l.Close()
		d.l = nil
	}
}

func (d *ddLog) open() error {
	l, err := Open(Options{FS: d.fs, Dir: testDir, SegmentBytes: d.segmentBytes})
	if err != nil {
		return err
	}
	d.l = l
	return nil
}

func (d *ddLog) run(t *testing.T, td *datadriven.TestData) (string, error) {
	if d.l == nil && td.Cmd != "open" && td.Cmd != "segments" && td.Cmd != "corrupt" && td.Cmd != "garbage" {
		return "", errors.New("log not open")
	}
	switch td.Cmd {
	case "open":
		if d.fs == nil {
			d.fs = vfs.NewCrashableMem()
		}
		d.segmentBytes = int64(intArg(t, td, "segment-bytes", 0))
		if err := d.open(); err != nil {
			return "", err
		}
		return describe(d.l), nil
	case "batch":
		var b Batch
		for _, line := range strings.Split(td.Input, "\n") {
			if err := addOp(&b, line); err != nil {
				t.Fatalf("%s: %v", td.Pos, err)
			}
		}
		if err := d.l.Write(&b, td.HasArg("sync")); err != nil {
			return "", err
		}
		return "ok\n", nil
	case "sync":
		return "ok\n", d.l.Sync()
	case "state":
		return describe(d.l), nil
	case "entries":
		ents, err := d.l.Entries(intArg(t, td, "p", -1), intArg(t, td, "lo", -1), intArg(t, td, "hi", -1), intArg(t, td, "max", 0))
		if err != nil {
			return "", err
		}
		var sb strings.Builder
		for _, e := range ents {
			fmt.Fprintf(&sb, "%d/%d %s (%d bytes)\n", e.Index, e.Term, strings.TrimRight(string(e.Data), "."), e.Size())
		}
		if len(ents) == 0 {
			sb.WriteString("none\n")
		}
		return sb.String(), nil
	case "term":
		term, err := d.l.Term(intArg(t, td, "p", -1), intArg(t, td, "i", -1))
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%d\n", term), nil
	case "close":
		err := d.l.Close()
		d.l = nil
		return "ok\n", err
	case "reopen":
		d.close()
		if err := d.open(); err != nil {
			return "", err
		}
		return describe(d.l), nil
	case "crash":
		var rng *rand.Rand
		unsynced := int(intArg(t, td, "unsynced", 0))
		if unsynced > 0 {
			rng = rand.New(rand.NewPCG(intArg(t, td, "seed", 1), 0))
		}
		clone := d.fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: unsynced, RNG: rng})
		d.close()
		d.fs = clone
		if err := d.open(); err != nil {
			return "", err
		}
		return describe(d.l), nil
	case "segments":
		return d.segments(t), nil
	case "corrupt", "garbage":
		return "ok\n", d.damage(t, td)
	case "metrics":
		m := d.l.Metrics()
		return fmt.Sprintf("segments=%d disk=%d live=%d partitions=%d rewritten=%d\n",
			m.Segments, m.DiskBytes, m.LiveBytes, m.Partitions, m.RewrittenBytes), nil
	}
	t.Fatalf("%s: unknown command %q", td.Pos, td.Cmd)
	return "", nil
}

func (d *ddLog) segments(t *testing.T) string {
	var sb strings.Builder
	for _, name := range segmentFiles(t, d.fs) {
		st, err := d.fs.Stat(d.fs.PathJoin(testDir, name))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&sb, "%s size=%d", name, st.Size())
		if d.l != nil {
			num, _ := parseSegmentName(name)
			d.l.mu.RLock()
			live, ok := d.l.idx.live[uint32(num)]
			d.l.mu.RUnlock()
			if ok {
				fmt.Fprintf(&sb, " live=%d", live)
			}
		}
		sb.WriteString("\n")
	}
	if sb.Len() == 0 {
		return "none\n"
	}
	return sb.String()
}

// damage changes a segment file behind the log's back.
func (d *ddLog) damage(t *testing.T, td *datadriven.TestData) error {
	path := d.fs.PathJoin(testDir, segmentName(intArg(t, td, "seg", -1)))
	if _, err := d.fs.Stat(path); err != nil {
		return err
	}
	f, err := d.fs.OpenReadWrite(path, vfs.WriteCategoryUnspecified)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if td.Cmd == "garbage" {
		junk := []byte(strings.Repeat("\x5a", int(intArg(t, td, "bytes", -1))))
		_, err = f.WriteAt(junk, st.Size())
	} else {
		off := int64(intArg(t, td, "off", -1))
		var b [1]byte
		if _, err := f.ReadAt(b[:], off); err != nil {
			return err
		}
		b[0] ^= 0xff
		_, err = f.WriteAt(b[:], off)
	}
	if err != nil {
		return err
	}
	return f.Sync()
}

// addOp adds the operation a batch line describes.
func addOp(b *Batch, line string) error {
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return nil
	}
	args := map[string]uint64{}
	for _, f := range fields[1:] {
		k, v, ok := strings.Cut(f, "=")
		n, err := strconv.ParseUint(v, 10, 64)
		if !ok || err != nil {
			return fmt.Errorf("bad argument %q", f)
		}
		args[k] = n
	}
	p := args["p"]
	switch fields[0] {
	case "append":
		b.Append(p, makeEnts(p, args["lo"], args["hi"], args["term"], int(args["size"])))
	case "hardstate":
		b.SetHardState(p, raftpb.HardState{Term: args["term"], Vote: args["vote"], Commit: args["commit"]})
	case "truncate":
		b.Truncate(p, args["index"], args["term"])
	case "reset":
		b.Reset(p, args["index"], args["term"])
	case "remove":
		b.Remove(p)
	default:
		return fmt.Errorf("unknown operation %q", fields[0])
	}
	return nil
}

// intArg returns the argument key of td, def if absent (a negative def:
// the argument is required).
func intArg(t *testing.T, td *datadriven.TestData, key string, def int64) uint64 {
	t.Helper()
	if !td.HasArg(key) {
		if def < 0 {
			t.Fatalf("%s: %s needs %s=", td.Pos, td.Cmd, key)
		}
		return uint64(def)
	}
	var v uint64
	td.ScanArgs(t, key, &v)
	return v
}
