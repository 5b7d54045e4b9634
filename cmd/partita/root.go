package main

import (
	"fmt"
	"io"
	"log/slog"
	"strings"

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
// that changes its level at run time.
func (f *logFlags) logger(w io.Writer) (*slog.Logger, *slog.LevelVar, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.level)); err != nil {
		return nil, nil, fmt.Errorf("--log-level %q: %w", f.level, err)
	}
	lv := &slog.LevelVar{}
	lv.Set(level)
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(f.format) {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), lv, nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), lv, nil
	default:
		return nil, nil, fmt.Errorf("--log-format %q: want text or json", f.format)
	}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "partita",
		Short:         "Partita: a partitioned, replicated database serving the DynamoDB API",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newDevCmd(), newStartCmd(), newBenchCmd(), newCtlCmd())
	return root
}
