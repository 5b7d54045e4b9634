package main

import (
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// logFlags are the logging flags shared by every server command.
type logFlags struct {
	format string
	level  string
}

func (f *logFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.format, "log-format", "text", "log format: text or json")
	cmd.Flags().StringVar(&f.level, "log-level", "info", "log level: debug, info, warn or error")
}

// logger builds the process logger writing to w, and the level variable
// that changes its level at run time. Repeated warnings and errors are
// rate-limited (see rateLimitedHandler).
func (f *logFlags) logger(w io.Writer) (*slog.Logger, *slog.LevelVar, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.level)); err != nil {
		return nil, nil, fmt.Errorf("--log-level %q: %w", f.level, err)
	}
	lv := &slog.LevelVar{}
	lv.Set(level)
	opts := &slog.HandlerOptions{Level: lv}
	var h slog.Handler
	switch strings.ToLower(f.format) {
	case "text":
		h = slog.NewTextHandler(w, opts)
	case "json":
		h = slog.NewJSONHandler(w, opts)
	default:
		return nil, nil, fmt.Errorf("--log-format %q: want text or json", f.format)
	}
	return slog.New(newRateLimitedHandler(h, time.Now)), lv, nil
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "partita",
		Short:         "Partita: a partitioned, replicated database serving the DynamoDB API",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newDevCmd(), newStartCmd(), newBenchCmd(), newCtlCmd(), newDoctorCmd(), newCertCmd())
	return root
}

// serverGCPercent is the garbage collector's target of a server process
// unless GOGC says otherwise. Go's default (100) collects whenever the heap
// doubles; a server's live heap is small next to its allocation rate (every
// request allocates its decoded item, its command and its response), so the
// default spends about a tenth of the CPU marking. At 400, 64-client
// PutItem on three nodes did 10-40% more writes with less CPU per write
// (docs/performance.md), for a heap that may grow to five times the live
// one (a few hundred MiB).
const serverGCPercent = 400

// tuneGC applies serverGCPercent when the GOGC environment variable
// (getenv's answer) is unset, and reports the percent in force (-1: GOGC
// decides).
func tuneGC(getenv func(string) string) int {
	if getenv("GOGC") != "" {
		return -1
	}
	debug.SetGCPercent(serverGCPercent)
	return serverGCPercent
}
