// Command ingest measures the topology ingester on a bucket of snapshot
// blobs: it generates Nodes x Intervals realistic snapshots (Replicas
// replicas each, the publisher's key layout) into a bucket, or ingests a
// bucket generated before, and reports blobs/s and the process's peak
// RSS. Run the two phases as separate processes, so that the ingest's
// peak RSS is its own:
//
//	go run ./bench/ingest -bucket 'file:///tmp/topo?metadata=skip' -generate
//	go run ./bench/ingest -bucket 'file:///tmp/topo?metadata=skip'
//	rm -rf /tmp/topo
//
// The figures of the run on the project's machine are in docs/topology.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"gocloud.dev/blob"
	_ "gocloud.dev/blob/fileblob"
	_ "gocloud.dev/blob/s3blob"
	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/topology/history"
	"github.com/partitadb/partita/topology/ingest"
)

type config struct {
	bucket                     string
	nodes, intervals, replicas int
	interval                   time.Duration
	generate                   bool
	readers, writers           int
}

// start is the first snapshot's time: fixed, so generate and ingest agree.
var start = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

func main() {
	var c config
	flag.StringVar(&c.bucket, "bucket", "", "bucket URL (file:///tmp/topo?metadata=skip, s3://...)")
	flag.IntVar(&c.nodes, "nodes", 1000, "nodes")
	flag.IntVar(&c.intervals, "intervals", 1000, "snapshots per node")
	flag.IntVar(&c.replicas, "replicas", 50, "replicas per snapshot")
	flag.DurationVar(&c.interval, "interval", 5*time.Second, "snapshot interval")
	flag.BoolVar(&c.generate, "generate", false, "generate the blobs instead of ingesting them")
	flag.IntVar(&c.readers, "readers", 0, "blobs read at once (0: the ingester's default)")
	flag.IntVar(&c.writers, "writers", 8, "blobs written at once when generating")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the run here")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	if c.bucket == "" {
		log.Fatal("-bucket is required")
	}
	var err error
	if c.generate {
		err = generate(context.Background(), c)
	} else {
		err = ingestAll(context.Background(), c)
	}
	if err != nil {
		pprof.StopCPUProfile()
		log.Fatal(err)
	}
}

func (c config) synthetic() ingest.Synthetic {
	return ingest.Synthetic{Nodes: c.nodes, Replicas: c.replicas, Interval: c.interval, Start: start}
}

// generate writes every snapshot. A file:// bucket is written straight to
// its directory (the layout the file driver reads), the fastest way to
// make a million files; any other bucket goes through the blob API.
func generate(ctx context.Context, c config) error {
	g := c.synthetic()
	var write func(key string, data []byte) error
	if u, err := url.Parse(c.bucket); err == nil && u.Scheme == "file" {
		write = func(key string, data []byte) error {
			path := filepath.Join(u.Path, filepath.FromSlash(key))
			if err := os.WriteFile(path, data, 0o644); err == nil || !os.IsNotExist(err) {
				return err
			}
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return err
			}
			return os.WriteFile(path, data, 0o644)
		}
	} else {
		b, err := blob.OpenBucket(ctx, c.bucket)
		if err != nil {
			return err
		}
		defer b.Close()
		write = func(key string, data []byte) error { return b.WriteAll(ctx, key, data, nil) }
	}
	began := time.Now()
	var written, bytes atomic.Int64
	jobs := make(chan uint64)
	errs := make(chan error, c.writers)
	var wg sync.WaitGroup
	for range c.writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for node := range jobs {
				for seq := uint64(1); seq <= uint64(c.intervals); seq++ {
					s := g.Snapshot(node, seq)
					data, err := proto.Marshal(s)
					if err != nil {
						errs <- err
						return
					}
					key := history.Name{Node: node, Taken: time.Unix(0, s.UnixNanos), Started: start, Seq: seq}.Key()
					if err := write(key, data); err != nil {
						errs <- err
						return
					}
					bytes.Add(int64(len(data)))
					if n := written.Add(1); n%100_000 == 0 {
						log.Printf("generated %d blobs", n)
					}
				}
			}
		}()
	}
	for node := uint64(1); node <= uint64(c.nodes); node++ {
		jobs <- node
	}
	close(jobs)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	fmt.Printf("generated %d blobs, %d bytes (%.0f per blob) in %s\n", written.Load(), bytes.Load(),
		float64(bytes.Load())/float64(written.Load()), time.Since(began).Round(time.Millisecond))
	return nil
}

// ingestAll reads the whole bucket into one ingester and builds a view.
func ingestAll(ctx context.Context, c config) error {
	b, err := blob.OpenBucket(ctx, c.bucket)
	if err != nil {
		return err
	}
	defer b.Close()
	end := start.Add(time.Duration(c.intervals) * c.interval)
	cfg := ingest.DefaultConfig()
	cfg.Interval, cfg.Now = c.interval, func() time.Time { return end }
	cfg.MaxAge, cfg.Forget = end.Sub(start)+time.Hour, end.Sub(start)+time.Hour
	in, err := ingest.New(cfg)
	if err != nil {
		return err
	}
	r := ingest.BucketReader{Bucket: b, Ingester: in, Readers: c.readers}
	began := time.Now()
	var cpu0 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &cpu0)
	st, err := r.Load(ctx, start, end)
	if err != nil {
		return err
	}
	took := time.Since(began)
	vb := time.Now()
	v := in.View()
	viewTook := time.Since(vb)
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	cpu := time.Duration(ru.Utime.Nano()+ru.Stime.Nano()-cpu0.Utime.Nano()-cpu0.Stime.Nano()) * time.Nanosecond
	fmt.Printf("listed %d, read %d blobs (%d bytes), kept %d, skipped %d, unreadable %d, not read %d\n",
		st.Listed, st.Read, st.Bytes, st.Added, st.Skipped, st.Errors, st.Known)
	fmt.Printf("ingest: %s, %.0f blobs/s, CPU %s (%.1f cores of %d), peak RSS %d MiB\n", took.Round(time.Millisecond),
		float64(st.Read)/took.Seconds(), cpu.Round(time.Millisecond), cpu.Seconds()/took.Seconds(), runtime.NumCPU(), ru.Maxrss/1024)
	fmt.Printf("view: %d nodes, %d partitions, built in %s\n", len(v.Nodes), len(v.Partitions), viewTook.Round(time.Millisecond))
	return nil
}
