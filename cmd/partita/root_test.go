package main

import (
	"runtime/debug"
	"testing"
)

func TestTuneGC(t *testing.T) {
	prev := debug.SetGCPercent(100)
	defer debug.SetGCPercent(prev)
	if got := tuneGC(func(string) string { return "50" }); got != -1 {
		t.Fatalf("with GOGC set: %d, want -1 (GOGC decides)", got)
	}
	if cur := debug.SetGCPercent(100); cur != 100 {
		t.Fatalf("with GOGC set the percent moved to %d", cur)
	}
	if got := tuneGC(func(string) string { return "" }); got != serverGCPercent {
		t.Fatalf("without GOGC: %d, want %d", got, serverGCPercent)
	}
	if cur := debug.SetGCPercent(100); cur != serverGCPercent {
		t.Fatalf("without GOGC the percent is %d, want %d", cur, serverGCPercent)
	}
}
