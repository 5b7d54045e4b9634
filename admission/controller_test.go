package admission

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestConcurrentAdmissionsSpendEachTokenOnce: admissions racing on one
// partition never admit more than the bucket holds.
func TestConcurrentAdmissionsSpendEachTokenOnce(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	var fetches atomic.Int64
	c, err := New(Config{
		Limits: func(uint64) (Limits, bool) {
			fetches.Add(1)
			return Limits{Table: "t", TableID: 1, Provisioned: true, WriteUnits: 100, Share: 1, Created: now}, true
		},
		PartitionWriteUnits: 1000, BurstSeconds: 300, RefreshInterval: time.Second,
		Now: func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	var admitted atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 1000 {
				if tk, err := c.Admit(7, Write); err == nil {
					admitted.Add(1)
					tk.Charge(1)
				}
			}
		}()
	}
	wg.Wait()
	if got := admitted.Load(); got != 100 {
		t.Errorf("8,000 racing writes on a 100 WCU table admitted %d, want 100", got)
	}
	if got := fetches.Load(); got > 8 {
		t.Errorf("limits fetched %d times within one refresh interval, want at most one per racing goroutine", got)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	ok := DefaultConfig()
	ok.Limits = func(uint64) (Limits, bool) { return Limits{}, false }
	for name, mutate := range map[string]func(*Config){
		"no limits":      func(c *Config) { c.Limits = nil },
		"no clock":       func(c *Config) { c.Now = nil },
		"negative limit": func(c *Config) { c.PartitionWriteUnits = -1 },
		"no burst":       func(c *Config) { c.BurstSeconds = 0 },
	} {
		cfg := ok
		mutate(&cfg)
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := New(ok); err != nil {
		t.Fatal(err)
	}
}
