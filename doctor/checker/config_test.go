package checker_test

import (
	"errors"
	"testing"
	"time"

	"github.com/partitadb/partita/doctor/checker"
)

func TestConfigValidate(t *testing.T) {
	if err := checker.DefaultConfig(epoch).Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for name, change := range map[string]func(*checker.Config){
		"no time":              func(c *checker.Config) { c.Now = time.Time{} },
		"no replicas":          func(c *checker.Config) { c.ReplicationFactor = 0 },
		"zero dead-after":      func(c *checker.Config) { c.DeadAfter = 0 },
		"contact above down":   func(c *checker.Config) { c.ContactTimeout = time.Minute },
		"tolerance would flap": func(c *checker.Config) { c.BalanceTolerance = 0 },
		"sick factor 1":        func(c *checker.Config) { c.SickFactor = 1 },
		"no vantage":           func(c *checker.Config) { c.SickVantages = 0 },
	} {
		c := checker.DefaultConfig(epoch)
		change(&c)
		if err := c.Validate(); !errors.Is(err, checker.ErrConfig) {
			t.Errorf("%s: Validate = %v, want ErrConfig", name, err)
		}
		if _, err := checker.Compute(checker.View{}, c); !errors.Is(err, checker.ErrConfig) {
			t.Errorf("%s: Compute = %v, want ErrConfig", name, err)
		}
	}
}
