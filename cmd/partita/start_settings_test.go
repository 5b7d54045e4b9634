package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/partitadb/partita/settings"
)

// TestStartSettingFlags: the settings read at start come from their flags,
// PARTITA_<FLAG> and the --config file, each with its source, on both
// `partita start` and `partita dev`; a flag not given sets nothing, so the
// node keeps its components' defaults.
func TestStartSettingFlags(t *testing.T) {
	file := filepath.Join(t.TempDir(), "partita.yaml")
	if err := os.WriteFile(file, []byte("raft-election-ticks: 20\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PARTITA_MEMTABLE_SIZE", "32MiB")
	cmd := newStartCmd()
	if err := cmd.Flags().Parse([]string{"--store-workers", "4"}); err != nil {
		t.Fatal(err)
	}
	sources, err := applyDefaults(cmd.Flags(), file)
	if err != nil {
		t.Fatal(err)
	}
	got := staticSettings(cmd.Flags(), sources)
	want := map[string]settings.Static{
		"store.workers":         {Text: "4", From: settings.FromFlag},
		"storage.memtable-size": {Text: "32MiB", From: settings.FromEnv},
		"raft.election-ticks":   {Text: "20", From: settings.FromFile},
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s: %+v, want %+v", name, got[name], w)
		}
	}
	if s, ok := got["raft.heartbeat-ticks"]; ok {
		t.Errorf("raft.heartbeat-ticks set to %+v without its flag", s)
	}

	dev := newDevCmd()
	if err := dev.Flags().Parse([]string{"--memtable-size", "64MiB"}); err != nil {
		t.Fatal(err)
	}
	if s := staticSettings(dev.Flags(), nil)["storage.memtable-size"]; s.Text != "64MiB" {
		t.Errorf("partita dev --memtable-size 64MiB: %+v", s)
	}
}
