package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"syscall"
	"time"
)

// process is a server started by the comparison.
type process struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// startProcess starts bin with args, its stderr going to logPath, and
// waits up to a minute for a stdout line matching ready; it returns the
// process and the line's submatches.
func startProcess(ctx context.Context, logPath string, ready *regexp.Regexp, bin string, args ...string) (*process, []string, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	if err != nil {
		logf.Close()
		return nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, nil, err
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	lines := make(chan []string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		found := false
		for sc.Scan() {
			fmt.Fprintln(logf, sc.Text())
			if m := ready.FindStringSubmatch(sc.Text()); m != nil && !found {
				found = true
				lines <- m
			}
		}
		_ = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	select {
	case m := <-lines:
		return p, m, nil
	case <-p.done:
		return nil, nil, fmt.Errorf("compare: %s exited before it was ready (log: %s)", bin, logPath)
	case <-time.After(time.Minute):
	case <-ctx.Done():
	}
	_ = p.stop()
	return nil, nil, fmt.Errorf("compare: %s not ready (log: %s)", bin, logPath)
}

func (p *process) pid() int { return p.cmd.Process.Pid }

// stop asks the process to end, and kills it after ten seconds.
func (p *process) stop() error {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return nil
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		return errors.New("compare: process killed after SIGTERM timed out")
	}
}

// freePorts returns n loopback ports that were free a moment ago.
func freePorts(n int) ([]int, error) {
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func loopback(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }

// runTool runs a build or helper command in dir, returning its error with
// its output.
func runTool(ctx context.Context, dir string, env []string, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("compare: %s %v: %w\n%s", name, args, err, lastBytes(out, 2000))
	}
	return string(out), nil
}

func lastBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
