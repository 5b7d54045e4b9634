package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/partitadb/partita/bench/floor"
)

// server is a running DynamoDB endpoint (one or more processes) that the
// comparison drives with partita bench's runner.
type server struct {
	endpoints []string
	pids      []int
	adminURLs []string // Partita's admin endpoints (one a process), for profiles
	procs     []*process
	logs      []string // the processes' log files, for errorLines
}

func (s *server) stop() error {
	var errs []error
	for _, p := range s.procs {
		errs = append(errs, p.stop())
	}
	return errors.Join(errs...)
}

// errNotAvailable marks a system the comparison cannot run yet.
type errNotAvailable string

func (e errNotAvailable) Error() string { return string(e) }

// sdkSystem is a system measured with partita bench's runner. Adding a
// system is adding one entry to comparison.sdkSystems.
type sdkSystem struct {
	name      string
	valueSize int // of its puts and gets
	// morePutSizes are further value sizes its puts are measured at (the
	// floor's, to match the cluster's value size).
	morePutSizes []int
	start        func(ctx context.Context) (*server, error)
	// profile, if set, is a CPU profile of its processes under puts.
	profile *profileSpec
	// extras: also measure consistent reads with and without leases, and
	// writes contending on one key (measureExtras).
	extras bool
}

func (c *comparison) sdkSystems() []sdkSystem {
	return []sdkSystem{
		{name: systemFloor, valueSize: c.valueSize, morePutSizes: c.floorMorePutSizes(), start: c.startFloor},
		{name: systemPartitaDev, valueSize: c.valueSize, start: c.startPartitaDev, profile: &profileSpec{
			file: "partita-put", keepEnv: "PARTITA_COMPARE_PROFILE", top: &c.profileTop,
		}},
		{name: systemPartitaCluster, valueSize: c.clusterValueSize, start: c.startPartitaCluster, profile: &profileSpec{
			file: "partita-cluster-put", keepEnv: "PARTITA_COMPARE_CLUSTER_PROFILE", keepDir: true, top: &c.clusterProfileTop,
		}, extras: true},
	}
}

// floorMorePutSizes is the cluster's value size when the floor's puts must
// also be measured at it: every Partita row gets a floor figure of its own
// value size.
func (c *comparison) floorMorePutSizes() []int {
	if c.systems[systemFloor] && c.systems[systemPartitaCluster] && c.clusterValueSize != c.valueSize {
		return []int{c.clusterValueSize}
	}
	return nil
}

const (
	systemFloor          = "floor server"
	systemPartitaDev     = "Partita, 1 node (dev)"
	systemPartitaCluster = "Partita, 3 processes"
	systemEtcd           = "etcd, 3 members"
)

// floorFlag makes this program serve the floor instead of comparing:
// the comparison runs the floor in a process of its own, so that its CPU
// is measured apart from the client's.
const floorFlag = "serve-floor"

var floorReady = regexp.MustCompile(`^floor serving on (http://\S+)$`)

// serveFloor serves the floor handler on a free loopback port until the
// process is killed.
func serveFloor(valueSize int) error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Printf("floor serving on http://%s\n", l.Addr())
	return http.Serve(l, floor.NewHandler(valueSize))
}

func (c *comparison) startFloor(ctx context.Context) (*server, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	p, m, err := startProcess(ctx, filepath.Join(c.tmp, "floor.log"), floorReady,
		self, "-"+floorFlag, "-value-size", strconv.Itoa(c.valueSize))
	if err != nil {
		return nil, err
	}
	return &server{endpoints: []string{m[1]}, pids: []int{p.pid()}, procs: []*process{p}}, nil
}

var (
	partitaAPI   = regexp.MustCompile(`serving the DynamoDB API on (http://\S+)`)
	partitaAdmin = regexp.MustCompile(`admin endpoint (http://\S+)`)
)

// startPartitaDev runs `partita dev` on free ports with a fresh data
// directory, pprof on.
func (c *comparison) startPartitaDev(ctx context.Context) (*server, error) {
	log := filepath.Join(c.tmp, "partita-dev.log")
	// The admin line comes after the API line: once it is read, both are
	// in the log.
	p, m, err := startProcess(ctx, log, partitaAdmin, c.partitaBin, "dev",
		"--data-dir", filepath.Join(c.tmp, "partita-dev-data"), "--port", "0",
		"--admin-addr", "127.0.0.1:0", "--pprof", "--log-level", "warn")
	if err != nil {
		return nil, err
	}
	api := findInFile(log, partitaAPI)
	if api == "" {
		_ = p.stop()
		return nil, fmt.Errorf("compare: no API URL in %s", log)
	}
	return &server{endpoints: []string{api}, pids: []int{p.pid()}, adminURLs: []string{m[1]}, procs: []*process{p}}, nil
}

var partitaStart = regexp.MustCompile(`serving the DynamoDB API on (http://\S+), peers on (\S+)`)

// startPartitaCluster runs three `partita start` processes on loopback,
// joined into one cluster, pprof on, and returns their three endpoints
// (clients take them round-robin), pids and admin URLs.
func (c *comparison) startPartitaCluster(ctx context.Context) (*server, error) {
	// `partita start` prints its API and peer addresses but not its admin
	// endpoint's, so the admin ports are chosen here.
	adminPorts, err := freePorts(3)
	if err != nil {
		return nil, fmt.Errorf("compare: admin ports: %w", err)
	}
	srv := &server{}
	var peer string
	// Each start (one per round) is a fresh cluster: data and logs of its own.
	c.clusterStarts++
	name := fmt.Sprintf("partita-cluster-%d", c.clusterStarts)
	for i := 1; i <= 3; i++ {
		admin := loopback(adminPorts[i-1])
		args := []string{"start", "--data-dir", filepath.Join(c.tmp, fmt.Sprintf("%s-%d", name, i)),
			"--api-addr", "127.0.0.1:0", "--peer-addr", "127.0.0.1:0", "--admin-addr", admin, "--pprof", "--log-level", "warn", "--insecure",
			// The write path, not DynamoDB's per-partition limits (1,000
			// write units a second): off, as in partita dev.
			"--enforce-capacity=false"}
		if peer != "" {
			args = append(args, "--join", peer)
		}
		log := filepath.Join(c.tmp, fmt.Sprintf("%s-%d.log", name, i))
		p, m, err := startProcess(ctx, log, partitaStart, c.partitaBin, args...)
		if err != nil {
			_ = srv.stop()
			return nil, fmt.Errorf("compare: cluster process %d: %w", i, err)
		}
		if peer == "" {
			peer = m[2]
		}
		srv.endpoints, srv.pids, srv.procs = append(srv.endpoints, m[1]), append(srv.pids, p.pid()), append(srv.procs, p)
		srv.adminURLs = append(srv.adminURLs, "http://"+admin)
		srv.logs = append(srv.logs, log)
	}
	// Let the meta partition grow to three voters before the load starts.
	time.Sleep(3 * time.Second)
	return srv, nil
}

// errorLines returns the last n ERROR lines of the server's logs: what a
// failed run's error needs beside it, as the logs go with the scratch dir.
func (s *server) errorLines(n int) []string {
	var lines []string
	for _, path := range s.logs {
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(b), "\n") {
			if strings.Contains(l, "level=ERROR") {
				lines = append(lines, filepath.Base(path)+": "+l)
			}
		}
	}
	return lines[max(0, len(lines)-n):]
}

// findInFile returns re's first submatch in the file, or "".
func findInFile(path string, re *regexp.Regexp) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	if m := re.FindSubmatch(b); m != nil {
		return string(m[1])
	}
	return ""
}
