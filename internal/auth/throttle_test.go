package auth

import (
	"testing"
	"time"

	"github.com/switchyard-db/switchyard/internal/config"
)

func TestThrottle(t *testing.T) {
	now := time.Unix(1000, 0)
	th := NewThrottle(config.LoginThrottle{DelayAfter: 2, Delay: time.Second, BlockAfter: 4, CoolDown: time.Minute})
	th.now = func() time.Time { return now }
	steps := []struct {
		host, user string
		wantDelay  time.Duration
	}{
		{"h1", "u", 0}, {"h1", "u", 0}, {"h1", "u", time.Second}, {"h1", "u", time.Second},
	}
	for i, s := range steps {
		if e := th.Blocked(s.host, s.user); e != nil {
			t.Fatalf("step %d blocked early: %v", i, e)
		}
		if d := th.Fail(s.host, s.user); d != s.wantDelay {
			t.Fatalf("step %d: delay %v, want %v", i, d, s.wantDelay)
		}
	}
	// Four failures: the address and the user are blocked.
	if e := th.Blocked("h1", "other"); e == nil || e.Code != 1129 {
		t.Fatalf("host not blocked: %v", e)
	}
	if e := th.Blocked("h2", "u"); e == nil || e.Code != 4151 {
		t.Fatalf("user not blocked: %v", e)
	}
	if e := th.Blocked("h2", "v"); e != nil {
		t.Fatalf("unrelated login blocked: %v", e)
	}
	// A success does not lift a block.
	th.Success("h1", "u")
	if e := th.Blocked("h1", "u"); e == nil {
		t.Fatal("success lifted the block")
	}
	// The cool-down ends the block and the count starts again.
	now = now.Add(time.Minute + time.Second)
	if e := th.Blocked("h1", "u"); e != nil {
		t.Fatalf("still blocked after the cool-down: %v", e)
	}
	if d := th.Fail("h1", "u"); d != 0 {
		t.Fatalf("count did not restart: delay %v", d)
	}
	// A good login forgets earlier failures.
	th.Fail("h1", "u")
	th.Success("h1", "u")
	if d := th.Fail("h1", "u"); d != 0 {
		t.Fatalf("success did not reset: delay %v", d)
	}
	// Disabled.
	off := NewThrottle(config.LoginThrottle{})
	for i := 0; i < 100; i++ {
		if off.Fail("h", "u") != 0 || off.Blocked("h", "u") != nil {
			t.Fatal("disabled throttle acted")
		}
	}
}

func TestLogLimiter(t *testing.T) {
	l := NewLogLimiter(2)
	got := 0
	for i := 0; i < 10; i++ {
		if ok, _ := l.Allow(); ok {
			got++
		}
	}
	if got != 2 {
		t.Fatalf("%d lines let through in one second, want 2", got)
	}
}
