package governance

import (
	"sync"
	"time"

	"github.com/switchyard-db/switchyard/internal/config"
	"github.com/switchyard-db/switchyard/internal/protocol"
)

// maxBuckets bounds the budgets kept (per-fingerprint rules create one per
// statement shape); idle full buckets are dropped first.
const maxBuckets = 100000

// Limiter holds the rate and concurrency budgets of limit rules, shared by
// every session of the proxy. A budget is a token bucket (max_qps, burst)
// and a count of running statements (max_concurrency). It is safe for
// concurrent use.
type Limiter struct {
	mu      sync.Mutex
	buckets map[string]*bucket
	now     func() time.Time
	// Observe, when set, is told of statements that had to queue and of
	// statements refused after queue_timeout.
	Observe func(namespace, rule string, queued, rejected bool)
}

type bucket struct {
	tokens  float64
	last    time.Time
	running int
	changed chan struct{} // closed when a statement finishes
}

// NewLimiter returns an empty limiter.
func NewLimiter() *Limiter { return &Limiter{buckets: map[string]*bucket{}, now: time.Now} }

// Acquire takes a turn of every rule in lim for one statement of user,
// waiting up to each rule's queue_timeout. release gives the turns back
// when the statement ends.
func (l *Limiter) Acquire(ns, user string, lim *Limits) (release func(), err *protocol.Error) {
	if l == nil || lim == nil || len(lim.Rate) == 0 {
		return func() {}, nil
	}
	var held []*bucket
	release = func() {
		l.mu.Lock()
		for _, b := range held {
			if b.running > 0 {
				b.running--
			}
			close(b.changed)
			b.changed = make(chan struct{})
		}
		held = nil
		l.mu.Unlock()
	}
	for _, r := range lim.Rate {
		key := ns + "\x00" + r.Name
		switch r.Per {
		case "user":
			key += "\x00" + user
		case "fingerprint":
			key += "\x00" + lim.Fingerprint
		}
		b, e := l.take(ns, key, user, r)
		if e != nil {
			release()
			return nil, e
		}
		held = append(held, b)
	}
	return release, nil
}

// take waits for a turn of one rule's budget.
func (l *Limiter) take(ns, key, user string, r *config.SQLRule) (*bucket, *protocol.Error) {
	deadline := l.now().Add(r.QueueTimeout)
	burst := float64(max(r.Burst, 1))
	queued := false
	l.mu.Lock()
	for {
		b := l.buckets[key]
		now := l.now()
		if b == nil {
			if len(l.buckets) >= maxBuckets {
				l.evict(now)
			}
			b = &bucket{tokens: burst, last: now, changed: make(chan struct{})}
			l.buckets[key] = b
		}
		if r.MaxQPS > 0 {
			b.tokens = min(burst, b.tokens+now.Sub(b.last).Seconds()*r.MaxQPS)
			b.last = now
		}
		qpsOK := r.MaxQPS == 0 || b.tokens >= 1
		concOK := r.MaxConcurrency == 0 || b.running < r.MaxConcurrency
		if qpsOK && concOK {
			if r.MaxQPS > 0 {
				b.tokens--
			}
			b.running++
			l.mu.Unlock()
			if queued && l.Observe != nil {
				l.Observe(ns, r.Name, true, false)
			}
			return b, nil
		}
		wait := deadline.Sub(now)
		if wait <= 0 {
			l.mu.Unlock()
			if l.Observe != nil {
				l.Observe(ns, r.Name, queued, true)
			}
			resource, value := "max_concurrency", float64(r.MaxConcurrency)
			if !qpsOK {
				resource, value = "max_qps", r.MaxQPS
			}
			return nil, protocol.NewError(1226, "42000", "User '%s' has exceeded the '%s' resource of SQL rule '%s' (current value: %g); the statement waited %s", user, resource, r.Name, value, r.QueueTimeout)
		}
		if !qpsOK {
			wait = min(wait, time.Duration((1-b.tokens)/r.MaxQPS*float64(time.Second))+time.Millisecond)
		}
		queued = true
		ch := b.changed
		l.mu.Unlock()
		t := time.NewTimer(wait)
		select {
		case <-ch:
		case <-t.C:
		}
		t.Stop()
		l.mu.Lock()
	}
}

// evict drops idle buckets; called with l.mu held.
func (l *Limiter) evict(now time.Time) {
	for k, b := range l.buckets {
		if b.running == 0 && now.Sub(b.last) > time.Minute {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) < maxBuckets {
		return
	}
	for k, b := range l.buckets {
		if b.running == 0 {
			delete(l.buckets, k)
		}
	}
}
