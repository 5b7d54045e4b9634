package main

import (
	"os"
	"path/filepath"
	"strings"
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
	if err := cmd.Flags().Parse([]string{"--store-workers", "4", "--config", file}); err != nil {
		t.Fatal(err)
	}
	sources, err := applyDefaults(cmd.Flags())
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

// TestConfigSources: `partita start` and `partita dev` read PARTITA_<FLAG>
// and the --config file alike, the file named by the flag or by
// PARTITA_CONFIG; a list in the file gives a list flag its items; a key
// that is no flag is refused; --dead-after 0 keeps the setting's default
// (30s) instead of being refused as below its 5s minimum.
func TestConfigSources(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "partita.yaml")
	if err := os.WriteFile(file, []byte("port: 8123\nauth-regions: [us-west-2, eu-west-1]\ndead-after: 0s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PARTITA_CONFIG", file)
	t.Setenv("PARTITA_DATA_DIR", dir)
	dev := newDevCmd()
	if err := dev.Flags().Parse(nil); err != nil {
		t.Fatal(err)
	}
	sources, err := applyDefaults(dev.Flags())
	if err != nil {
		t.Fatal(err)
	}
	for flag, want := range map[string]string{"port": "8123", "data-dir": dir, "auth-regions": "[us-west-2,eu-west-1]", "config": file} {
		if got := dev.Flags().Lookup(flag).Value.String(); got != want {
			t.Errorf("partita dev --%s: %q, want %q", flag, got, want)
		}
	}
	if sources["port"] != settings.FromFile || sources["data-dir"] != settings.FromEnv || sources["config"] != settings.FromEnv {
		t.Errorf("sources %v", sources)
	}
	if s, ok := staticSettings(dev.Flags(), sources)["doctor.dead-after"]; ok {
		t.Errorf("dead-after 0 gave the setting %+v", s)
	}

	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("prot: 8123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PARTITA_CONFIG", bad)
	start := newStartCmd()
	if err := start.Flags().Parse(nil); err != nil {
		t.Fatal(err)
	}
	if _, err := applyDefaults(start.Flags()); err == nil || !strings.Contains(err.Error(), `"prot" is not a flag`) {
		t.Errorf("a file with an unknown key: %v", err)
	}
}
