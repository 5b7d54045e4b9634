package replica

import (
	"fmt"
	"log/slog"
)

// raftLogger routes etcd raft's log lines to slog. Its panics name the
// partition and the node: a test's nodes often log nowhere, and a panic's
// text is then all that is left of it.
type raftLogger struct {
	log             *slog.Logger
	partition, node uint64
}

func (l raftLogger) Debug(v ...any)                 { l.log.Debug(fmt.Sprint(v...)) }
func (l raftLogger) Debugf(format string, v ...any) { l.log.Debug(fmt.Sprintf(format, v...)) }
func (l raftLogger) Info(v ...any)                  { l.log.Debug(fmt.Sprint(v...)) }
func (l raftLogger) Infof(format string, v ...any)  { l.log.Debug(fmt.Sprintf(format, v...)) }
func (l raftLogger) Warning(v ...any)               { l.log.Warn(fmt.Sprint(v...)) }
func (l raftLogger) Warningf(format string, v ...any) {
	l.log.Warn(fmt.Sprintf(format, v...))
}
func (l raftLogger) Error(v ...any)                 { l.log.Error(fmt.Sprint(v...)) }
func (l raftLogger) Errorf(format string, v ...any) { l.log.Error(fmt.Sprintf(format, v...)) }
func (l raftLogger) Fatal(v ...any)                 { l.Panic(v...) }
func (l raftLogger) Fatalf(format string, v ...any) { l.Panicf(format, v...) }
func (l raftLogger) Panic(v ...any)                 { l.panic(fmt.Sprint(v...)) }
func (l raftLogger) Panicf(format string, v ...any) {
	l.panic(fmt.Sprintf(format, v...))
}

func (l raftLogger) panic(msg string) {
	l.log.Error(msg)
	panic(fmt.Sprintf("raft: partition %d on node %d: %s", l.partition, l.node, msg))
}
