package auth

import (
	"sync"
	"time"

	"github.com/switchyard-db/switchyard/internal/config"
	"github.com/switchyard-db/switchyard/internal/protocol"
)

// maxThrottleEntries bounds the failure records kept per kind (addresses,
// user names); the stalest are dropped first.
const maxThrottleEntries = 100000

// Throttle counts failed logins per source address and per user name:
// after DelayAfter failures each further failure is answered late, after
// BlockAfter failures the address (or user) is refused for CoolDown even
// with the right password. It is safe for concurrent use.
type Throttle struct {
	mu    sync.Mutex
	cfg   config.LoginThrottle
	hosts map[string]*failures
	users map[string]*failures
	now   func() time.Time
}

type failures struct {
	n            int
	last         time.Time
	blockedUntil time.Time
}

// NewThrottle returns a throttle with the given settings.
func NewThrottle(cfg config.LoginThrottle) *Throttle {
	return &Throttle{cfg: cfg, hosts: map[string]*failures{}, users: map[string]*failures{}, now: time.Now}
}

// SetConfig replaces the settings (after a configuration reload).
func (t *Throttle) SetConfig(cfg config.LoginThrottle) {
	if t == nil {
		return
	}
	t.mu.Lock()
	t.cfg = cfg
	t.mu.Unlock()
}

// Blocked returns the error refusing a login from host as user while a
// block lasts, or nil.
func (t *Throttle) Blocked(host, user string) *protocol.Error {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.cfg.BlockAfter <= 0 {
		return nil
	}
	now := t.now()
	if f := t.hosts[host]; f != nil && now.Before(f.blockedUntil) {
		return protocol.NewError(1129, "HY000", "Host '%s' is blocked because of many failed logins; try again in %s", host, f.blockedUntil.Sub(now).Round(time.Second))
	}
	if f := t.users[user]; f != nil && now.Before(f.blockedUntil) {
		return protocol.NewError(4151, "HY000", "Access denied, this account is locked after many failed logins; try again in %s", f.blockedUntil.Sub(now).Round(time.Second))
	}
	return nil
}

// Fail records a failed login and returns how long to wait before
// answering it.
func (t *Throttle) Fail(host, user string) time.Duration {
	if t == nil {
		return 0
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.cfg.BlockAfter <= 0 && t.cfg.DelayAfter <= 0 {
		return 0
	}
	now := t.now()
	n := max(t.record(t.hosts, host, now), t.record(t.users, user, now))
	if t.cfg.DelayAfter > 0 && n > t.cfg.DelayAfter || t.cfg.DelayAfter == 0 && t.cfg.Delay > 0 {
		return t.cfg.Delay
	}
	return 0
}

// record counts one failure of key and returns the count.
func (t *Throttle) record(m map[string]*failures, key string, now time.Time) int {
	f := m[key]
	forget := t.cfg.CoolDown
	if forget <= 0 {
		forget = 5 * time.Minute
	}
	if f == nil || now.Sub(f.last) > forget && !now.Before(f.blockedUntil) {
		if len(m) >= maxThrottleEntries {
			t.evict(m, now, forget)
		}
		f = &failures{}
		m[key] = f
	}
	f.n++
	f.last = now
	n := f.n
	if t.cfg.BlockAfter > 0 && f.n >= t.cfg.BlockAfter {
		f.blockedUntil = now.Add(t.cfg.CoolDown)
		f.n = 0
	}
	return n
}

// evict drops expired records, or the oldest half when none expired.
func (t *Throttle) evict(m map[string]*failures, now time.Time, forget time.Duration) {
	for k, f := range m {
		if now.Sub(f.last) > forget && !now.Before(f.blockedUntil) {
			delete(m, k)
		}
	}
	if len(m) < maxThrottleEntries {
		return
	}
	var cut time.Time
	for _, f := range m {
		if cut.IsZero() || f.last.Before(cut) {
			cut = f.last
		}
	}
	cut = cut.Add(now.Sub(cut) / 2)
	for k, f := range m {
		if f.last.Before(cut) {
			delete(m, k)
		}
	}
}

// Success forgets the failures of host and user after a good login.
func (t *Throttle) Success(host, user string) {
	if t == nil {
		return
	}
	t.mu.Lock()
	if f := t.hosts[host]; f != nil && !t.now().Before(f.blockedUntil) {
		delete(t.hosts, host)
	}
	if f := t.users[user]; f != nil && !t.now().Before(f.blockedUntil) {
		delete(t.users, user)
	}
	t.mu.Unlock()
}

// LogLimiter lets at most a few log lines a second through and counts the
// rest, so that a flood of failed logins cannot flood the log.
type LogLimiter struct {
	mu         sync.Mutex
	perSecond  int
	window     time.Time
	used       int
	suppressed int
}

// NewLogLimiter allows perSecond lines a second.
func NewLogLimiter(perSecond int) *LogLimiter { return &LogLimiter{perSecond: perSecond} }

// Allow reports whether a line may be logged now, and how many lines were
// suppressed since the last one allowed.
func (l *LogLimiter) Allow() (ok bool, suppressed int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if now.Sub(l.window) >= time.Second {
		l.window, l.used = now, 0
	}
	if l.used >= l.perSecond {
		l.suppressed++
		return false, 0
	}
	l.used++
	suppressed, l.suppressed = l.suppressed, 0
	return true, suppressed
}
