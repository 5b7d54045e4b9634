package engine

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
)

// probeDB opens an engine holding n 1 KB values under keys key(0..n-1),
// every other one deleted when withDeletes, compacted into the bottom
// level; then one more key written to the memtable alone.
func probeDB(tb testing.TB, n int, withDeletes bool) *Engine {
	tb.Helper()
	eng, err := Open(Options{Dir: tb.TempDir()})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { eng.Close() })
	val := bytes.Repeat([]byte("v"), 1024)
	for i := 0; i < n; {
		b := eng.NewIndexedBatch()
		for j := 0; j < 1000 && i < n; j, i = j+1, i+1 {
			if err := b.Set(probeKey(i), val); err != nil {
				tb.Fatal(err)
			}
		}
		if err := eng.CommitNoSync(b); err != nil {
			tb.Fatal(err)
		}
	}
	if withDeletes {
		b := eng.NewIndexedBatch()
		for i := 0; i < n; i += 2 {
			if err := b.Delete(probeKey(i)); err != nil {
				tb.Fatal(err)
			}
		}
		if err := eng.Commit(b); err != nil {
			tb.Fatal(err)
		}
	}
	if err := eng.db.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := eng.db.Compact(context.Background(), []byte{0}, []byte{0xff}, true); err != nil {
		tb.Fatal(err)
	}
	b := eng.NewIndexedBatch()
	if err := b.Set(probeKey(n), []byte("memtable")); err != nil {
		tb.Fatal(err)
	}
	if err := eng.Commit(b); err != nil {
		tb.Fatal(err)
	}
	return eng
}

// probeKey spreads keys over the key space, as item keys' hashes do.
func probeKey(i int) []byte {
	k := make([]byte, 0, 16)
	k = binary.BigEndian.AppendUint64(k, uint64(i)*0x9E3779B97F4A7C15)
	return fmt.Appendf(k, "%d", i)
}

// Probe answers as Get does: present, absent, deleted, in the memtable,
// in the bottom level, through an indexed batch with writes of its own.
func TestProbeAgreesWithGet(t *testing.T) {
	const n = 2000
	eng := probeDB(t, n, true)
	batch := eng.NewIndexedBatch()
	defer batch.Close()
	if err := batch.Set(probeKey(1), []byte("batch")); err != nil {
		t.Fatal(err)
	}
	if err := batch.Delete(probeKey(3)); err != nil {
		t.Fatal(err)
	}
	for _, r := range []Reader{eng, batch} {
		for i := 0; i <= n+10; i++ {
			k := probeKey(i)
			want, wantErr := Get(r, k)
			got, gotErr := Probe(r, k)
			if !errors.Is(gotErr, ErrNotFound) && gotErr != nil || !errors.Is(wantErr, ErrNotFound) && wantErr != nil {
				t.Fatalf("key %d: errors %v, %v", i, gotErr, wantErr)
			}
			if errors.Is(gotErr, ErrNotFound) != errors.Is(wantErr, ErrNotFound) || !bytes.Equal(got, want) {
				t.Fatalf("key %d (%T): Probe %q, %v; Get %q, %v", i, r, trim(got), gotErr, trim(want), wantErr)
			}
		}
		// A key that extends a present one is not that key.
		if _, err := Probe(r, append(probeKey(5), 'x')); !errors.Is(err, ErrNotFound) {
			t.Fatalf("a longer key than a present one: %v", err)
		}
	}
	if v, _ := Probe(batch, probeKey(1)); string(v) != "batch" {
		t.Fatalf("the batch's own write: %q", v)
	}
}

// ProbeFirst answers with the first present key in the order given, as
// Probes one after the other would: through the engine and a batch, past
// deleted keys, from the memtable and the bottom level.
func TestProbeFirst(t *testing.T) {
	eng := probeDB(t, 100, true)
	batch := eng.NewIndexedBatch()
	defer batch.Close()
	if err := batch.Set(probeKey(500), []byte("batch")); err != nil {
		t.Fatal(err)
	}
	absent, other := probeKey(900), probeKey(901)
	for _, c := range []struct {
		r    Reader
		keys [][]byte
		at   int
	}{
		{eng, [][]byte{absent, probeKey(8), probeKey(7), probeKey(9)}, 2}, // 8 is deleted
		{eng, [][]byte{probeKey(9), probeKey(7)}, 0},
		{eng, [][]byte{absent, other, probeKey(8)}, -1},
		{eng, [][]byte{absent, probeKey(100)}, 1}, // in the memtable
		{eng, [][]byte{append(probeKey(5), 'x'), probeKey(5)}, 1},
		{batch, [][]byte{absent, probeKey(500)}, 1},
		{eng, [][]byte{absent, probeKey(500)}, -1},
	} {
		at, v, err := ProbeFirst(c.r, c.keys...)
		if c.at < 0 {
			if !errors.Is(err, ErrNotFound) {
				t.Fatalf("%q: %d %q %v, want not found", c.keys, at, trim(v), err)
			}
			continue
		}
		want, werr := Probe(c.r, c.keys[c.at])
		if err != nil || werr != nil || at != c.at || !bytes.Equal(v, want) {
			t.Fatalf("%q: %d %q %v, want %d %q %v", c.keys, at, trim(v), err, c.at, trim(want), werr)
		}
	}
}

func trim(v []byte) []byte { return v[:min(len(v), 16)] }

// BenchmarkPointRead compares Get and Probe on a bottom level of 100,000
// 1 KB values, for keys that are absent (the old item of an insert) and
// present (the old item of an update). Run with -benchtime and -count;
// compare CPU per op within one run.
func BenchmarkPointRead(b *testing.B) {
	const n = 100_000
	eng := probeDB(b, n, false)
	for _, c := range []struct {
		name   string
		read   func(Reader, []byte) ([]byte, error)
		offset int // keys from n+1 are absent
	}{
		{"get/absent", Get, n + 1},
		{"probe/absent", Probe, n + 1},
		{"get/present", Get, 0},
		{"probe/present", Probe, 0},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				_, _ = c.read(eng, probeKey(c.offset+i%n))
				i++
			}
		})
	}
}
