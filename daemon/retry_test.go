package daemon

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestBackoffDelay(t *testing.T) {
	b := Backoff{Initial: time.Second, Max: 10 * time.Second, Multiplier: 2}
	want := []time.Duration{time.Second, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second}
	for n, w := range want {
		if got := b.Delay(n); got != w {
			t.Errorf("Delay(%d) = %v, want %v", n, got, w)
		}
	}
	if got := b.Delay(math.MaxInt); got != 10*time.Second {
		t.Errorf("Delay(MaxInt) = %v, want the cap", got)
	}
	if got := (Backoff{}).Delay(1); got != time.Second {
		t.Errorf("default Delay(1) = %v, want 1s", got)
	}
	if got := (Backoff{}).Delay(100); got != time.Minute {
		t.Errorf("default Delay(100) = %v, want 1m", got)
	}
	if got := (Backoff{Initial: time.Second, Multiplier: 1}).Delay(50); got != time.Second {
		t.Errorf("constant backoff Delay(50) = %v, want 1s", got)
	}
	if got := (Backoff{Initial: 2 * time.Minute}).Delay(1); got != 2*time.Minute {
		t.Errorf("Initial above the default Max: Delay(1) = %v, want 2m", got)
	}
}

func TestBackoffValidate(t *testing.T) {
	for _, b := range []Backoff{
		{Initial: -1},
		{Max: -1},
		{MaxRetries: -1},
		{Multiplier: 0.5},
		{Multiplier: math.NaN()},
		{Multiplier: math.Inf(1)},
		{Initial: time.Minute, Max: time.Second},
	} {
		if b.Validate() == nil {
			t.Errorf("Validate(%+v) = nil, want an error", b)
		}
	}
	if err := DefaultBackoff().Validate(); err != nil {
		t.Errorf("DefaultBackoff invalid: %v", err)
	}
}

// flaky fails its first n cycles.
func flaky(n int64, calls *atomic.Int64) func(context.Context, *Cycle) error {
	return func(context.Context, *Cycle) error {
		if calls.Add(1) <= n {
			return errors.New("boom")
		}
		return nil
	}
}

func TestRetryBackoffIsCapped(t *testing.T) {
	h := newHarness(t)
	var calls atomic.Int64
	h.register(JobSpec{
		Name: "flaky", Kind: Periodic, Interval: time.Hour, RunAtStart: true,
		Backoff: Backoff{Initial: time.Second, Max: 4 * time.Second, Multiplier: 2},
		Run:     flaky(5, &calls),
	})
	h.start()

	waits := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second, 4 * time.Second}
	for i, w := range waits {
		r := h.next()
		if r.Outcome != OutcomeFailure || r.Attempt != i+1 || r.Err != "boom" {
			t.Fatalf("cycle %d = %+v, want failed attempt %d", i+1, r, i+1)
		}
		wantReason := ReasonRetry
		if i == 0 {
			wantReason = ReasonSchedule
		}
		if r.Reason != wantReason {
			t.Fatalf("cycle %d reason %q, want %q", i+1, r.Reason, wantReason)
		}
		h.block(1)
		if info := h.info("flaky"); info.State != StateBackoff || info.ConsecutiveFailures != i+1 {
			t.Fatalf("after failure %d: state %v consecutive %d", i+1, info.State, info.ConsecutiveFailures)
		}
		h.step(w)
	}
	if r := h.next(); r.Outcome != OutcomeSuccess || r.Attempt != 6 {
		t.Fatalf("6th cycle = %+v, want success on attempt 6", r)
	}
	h.step(time.Hour) // back on schedule
	if r := h.next(); r.Attempt != 1 || r.Reason != ReasonSchedule {
		t.Fatalf("cycle after recovery = %+v", r)
	}
	info := h.info("flaky")
	if info.Failures != 5 || info.Retries != 5 || info.Runs != 7 || info.ConsecutiveFailures != 0 {
		t.Fatalf("counters = %+v", info)
	}
	if info.LastOutcome != OutcomeSuccess || info.LastError != "" {
		t.Fatalf("last outcome %q error %q", info.LastOutcome, info.LastError)
	}
}

func TestMaxRetriesFallsBackToSchedule(t *testing.T) {
	h := newHarness(t)
	var calls atomic.Int64
	h.register(JobSpec{
		Name: "give-up", Kind: Periodic, Interval: time.Minute, RunAtStart: true,
		Backoff: Backoff{Initial: time.Second, MaxRetries: 2},
		Run:     flaky(100, &calls),
	})
	h.start()
	h.next()
	h.step(time.Second)
	h.next()
	h.step(2 * time.Second)
	if r := h.next(); r.Attempt != 3 {
		t.Fatalf("second retry = %+v", r)
	}
	h.step(time.Minute) // retries exhausted: the regular interval
	if r := h.next(); r.Attempt != 1 || r.Reason != ReasonSchedule {
		t.Fatalf("cycle after giving up = %+v, want a fresh scheduled attempt", r)
	}
	h.step(time.Second) // and it is retried again
	if r := h.next(); r.Attempt != 2 || r.Reason != ReasonRetry {
		t.Fatalf("retry after giving up = %+v", r)
	}
	if info := h.info("give-up"); info.ConsecutiveFailures != 5 {
		t.Fatalf("consecutive failures = %d, want 5", info.ConsecutiveFailures)
	}
}

func TestRunNowCutsBackoffShort(t *testing.T) {
	h := newHarness(t)
	var calls atomic.Int64
	h.register(JobSpec{
		Name: "flaky", Kind: Triggered, Backoff: Backoff{Initial: time.Hour},
		Run: flaky(1, &calls),
	})
	h.start()
	if err := h.m.Trigger("flaky"); err != nil {
		t.Fatal(err)
	}
	if r := h.next(); r.Outcome != OutcomeFailure || r.Reason != ReasonTrigger {
		t.Fatalf("first cycle = %+v", r)
	}
	h.block(1)
	if err := h.m.RunNow("flaky"); err != nil {
		t.Fatal(err)
	}
	r := h.next()
	if r.Outcome != OutcomeSuccess || r.Attempt != 2 || r.Reason != ReasonRunNow || !r.Start.Equal(t0) {
		t.Fatalf("run-now during backoff = %+v", r)
	}
}

func TestTimeline(t *testing.T) {
	h := newHarness(t, withTimeline(3))
	var calls atomic.Int64
	h.register(JobSpec{Name: "j", Kind: Periodic, Interval: time.Minute, RunAtStart: true,
		Backoff: Backoff{Initial: time.Second}, Run: flaky(2, &calls)})
	h.start()
	h.next()
	h.step(time.Second)
	h.next()
	h.step(2 * time.Second)
	h.next()
	h.step(time.Minute)
	h.next()
	h.step(time.Minute)
	h.next()
	tl, err := h.m.Timeline("j")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range tl {
		got = append(got, string(r.Outcome)+"@"+r.Start.Sub(t0).String())
	}
	want := "success@3s success@1m3s success@2m3s"
	if strings.Join(got, " ") != want {
		t.Fatalf("timeline = %v, want %v", got, want)
	}
	if tl[0].Attempt != 3 || tl[0].Reason != ReasonRetry {
		t.Fatalf("oldest kept record = %+v, want the successful retry", tl[0])
	}
}

func TestTimelineRing(t *testing.T) {
	tl := newTimeline(2)
	if got := tl.records(); len(got) != 0 {
		t.Fatalf("empty timeline has %d records", len(got))
	}
	for i := 1; i <= 5; i++ {
		tl.add(CycleRecord{Attempt: i})
		got := tl.records()
		if last := got[len(got)-1].Attempt; last != i || len(got) != min(i, 2) {
			t.Fatalf("after %d adds: %+v", i, got)
		}
	}
	none := newTimeline(0)
	none.add(CycleRecord{Attempt: 1})
	if len(none.records()) != 0 {
		t.Fatal("size-0 timeline kept a record")
	}
}
