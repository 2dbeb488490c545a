package backend_test

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard-db/switchyard/internal/backend"
	"github.com/switchyard-db/switchyard/internal/protocol"
)

func newPool(t *testing.T, s *fakeServer, o backend.PoolOptions) *backend.Pool {
	t.Helper()
	o.Dial = backend.DialOptions{User: "app", ConnectTimeout: 5 * time.Second}
	p := backend.NewPool(s.addr(), o)
	t.Cleanup(p.Close)
	return p
}

// checkStats verifies the gauges' invariants and returns the snapshot.
func checkStats(t testing.TB, p *backend.Pool) backend.PoolStats {
	t.Helper()
	st := p.Stats()
	if st.Open != st.Idle+st.InUse || st.Open < 0 || st.Idle < 0 || st.InUse < 0 || st.Open > st.MaxOpen {
		t.Errorf("inconsistent stats %+v", st)
	}
	return st
}

func get(t testing.TB, p *backend.Pool) *backend.Conn {
	t.Helper()
	c, err := p.Get(context.Background())
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	return c
}

func TestPoolMaxOpenConcurrent(t *testing.T) {
	s := newFakeServer(t)
	s.delay = 2 * time.Millisecond // slow logins widen the dial window
	s.start()
	p := newPool(t, s, backend.PoolOptions{MaxOpen: 3, WaitTimeout: 10 * time.Second})
	var inUse, peak atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, 20)
	for g := 0; g < 20; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				c, err := p.Get(context.Background())
				if err != nil {
					errc <- err
					return
				}
				n := inUse.Add(1)
				for {
					old := peak.Load()
					if n <= old || peak.CompareAndSwap(old, n) {
						break
					}
				}
				if err := c.Ping(); err != nil {
					errc <- err
				}
				st := p.Stats()
				if st.Open > 3 || st.Open != st.Idle+st.InUse {
					errc <- errors.New("bad stats under load")
				}
				inUse.Add(-1)
				p.Put(c)
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	if peak.Load() > 3 {
		t.Errorf("%d connections in use at once, MaxOpen 3", peak.Load())
	}
	if n := s.accepted.Load(); n > 3 {
		t.Errorf("server accepted %d connections, MaxOpen 3", n)
	}
	if n := s.peak.Load(); n > 3 {
		t.Errorf("server saw %d connections open at once, MaxOpen 3", n)
	}
	st := checkStats(t, p)
	if st.InUse != 0 || st.Open != int(s.accepted.Load()) || st.Dials != s.accepted.Load() || st.DialErrors != 0 {
		t.Errorf("final stats %+v, server accepted %d", st, s.accepted.Load())
	}
	if st.WaitCount == 0 {
		t.Error("20 goroutines on 3 connections never waited")
	}
}

func TestPoolWaitTimeout(t *testing.T) {
	s := newFakeServer(t).start()
	p := newPool(t, s, backend.PoolOptions{MaxOpen: 1, WaitTimeout: 50 * time.Millisecond})
	c1 := get(t, p)
	start := time.Now()
	c, err := p.Get(context.Background())
	if !errors.Is(err, backend.ErrPoolTimeout) || c != nil {
		t.Fatalf("Get = %v, %v; want ErrPoolTimeout", c, err)
	}
	if d := time.Since(start); d < 40*time.Millisecond {
		t.Errorf("timed out after %v, WaitTimeout 50ms", d)
	}
	st := checkStats(t, p)
	if st.Timeouts != 1 || st.WaitCount != 1 || st.WaitDuration < 40*time.Millisecond || st.Open != 1 || st.InUse != 1 {
		t.Errorf("stats %+v", st)
	}

	// A context that ends first wins over the wait timeout.
	p2 := newPool(t, s, backend.PoolOptions{MaxOpen: 1, WaitTimeout: 10 * time.Second})
	c2 := get(t, p2)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, err := p2.Get(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Get with an expiring context: %v", err)
	}
	p2.Put(c2)

	// After Put the connection is reused, not redialled.
	p.Put(c1)
	c3 := get(t, p)
	if c3 != c1 {
		t.Error("idle connection not reused")
	}
	p.Put(c3)
	if st := checkStats(t, p); st.Dials != 1 || st.Idle != 1 || st.InUse != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestPoolPutBrokenFreesSlot(t *testing.T) {
	s := newFakeServer(t).start()
	p := newPool(t, s, backend.PoolOptions{MaxOpen: 1, WaitTimeout: 5 * time.Second})
	c1 := get(t, p)
	type result struct {
		c   *backend.Conn
		err error
	}
	res := make(chan result, 1)
	go func() {
		c, err := p.Get(context.Background())
		res <- result{c, err}
	}()
	waitFor(t, "the second Get to wait", func() bool { return p.Stats().WaitCount == 1 })
	c1.MarkBroken()
	p.Put(c1)
	var r result
	select {
	case r = <-res:
	case <-time.After(5 * time.Second):
		t.Fatal("waiter not woken by the Put of a broken connection")
	}
	if r.err != nil || r.c == nil || r.c == c1 {
		t.Fatalf("waiter got %v, %v; want a new connection", r.c, r.err)
	}
	if s.accepted.Load() != 2 {
		t.Errorf("server accepted %d connections, want 2", s.accepted.Load())
	}
	if st := checkStats(t, p); st.Open != 1 || st.InUse != 1 {
		t.Errorf("stats %+v", st)
	}
	sc := s.conn(0)
	<-sc.done
	for _, cmd := range sc.commands() {
		if cmd == "COM_QUIT" {
			t.Error("a broken connection was sent COM_QUIT")
		}
	}
	p.Put(r.c)

	// Without waiters, a broken Put just frees the slot.
	c := get(t, p)
	c.MarkBroken()
	p.Put(c)
	if st := checkStats(t, p); st.Open != 0 {
		t.Errorf("stats after a broken Put: %+v", st)
	}
}

func TestPoolClose(t *testing.T) {
	s := newFakeServer(t).start()
	p := newPool(t, s, backend.PoolOptions{MaxOpen: 2})
	idle := get(t, p)
	busy := get(t, p)
	p.Put(idle)
	p.Close()
	p.Close() // idempotent
	if c, err := p.Get(context.Background()); !errors.Is(err, backend.ErrPoolClosed) {
		t.Errorf("Get after Close = %v, %v", c, err)
	}
	// The idle connection was closed with COM_QUIT.
	sc := s.conn(0)
	<-sc.done
	if cmds := sc.commands(); len(cmds) == 0 || cmds[len(cmds)-1] != "COM_QUIT" {
		t.Errorf("idle connection saw %q", cmds)
	}
	if st := checkStats(t, p); st.Open != 1 || st.InUse != 1 {
		t.Errorf("stats after Close with one in use: %+v", st)
	}
	// The busy one is closed when returned.
	p.Put(busy)
	<-s.conn(1).done
	if st := checkStats(t, p); st.Open != 0 {
		t.Errorf("stats after returning the last connection: %+v", st)
	}
}

// TestPoolCloseWakesWaiters: a Get waiting for a slot when the pool is
// closed must fail with ErrPoolClosed. Close closes the waiter channels; the
// waiter reads the zero value (nil, "a slot is free: dial") and dials a new
// connection for a slot that was never counted (pool.go, Get: `if c == nil
// { return p.dial(ctx) }`).
func TestPoolCloseWakesWaiters(t *testing.T) {
	s := newFakeServer(t).start()
	p := newPool(t, s, backend.PoolOptions{MaxOpen: 1, WaitTimeout: 5 * time.Second})
	c1 := get(t, p)
	type result struct {
		c   *backend.Conn
		err error
	}
	res := make(chan result, 1)
	go func() {
		c, err := p.Get(context.Background())
		res <- result{c, err}
	}()
	waitFor(t, "the second Get to wait", func() bool { return p.Stats().WaitCount == 1 })
	p.Close()
	var r result
	select {
	case r = <-res:
	case <-time.After(5 * time.Second):
		t.Fatal("waiter not woken by Close")
	}
	if !errors.Is(r.err, backend.ErrPoolClosed) {
		t.Errorf("BUG: Get waiting during Close returned (%v, %v), want ErrPoolClosed", r.c, r.err)
	}
	if r.c != nil {
		p.Put(r.c)
	}
	p.Put(c1)
	if st := p.Stats(); st.Open != 0 {
		t.Errorf("BUG: Open = %d after every connection was returned to the closed pool, want 0 (stats %+v)", st.Open, st)
	}
	if n := s.accepted.Load(); n != 1 {
		t.Errorf("BUG: the closed pool dialled %d connections, want 1", n)
	}
}

// fakeClock is the pools' clock in tests: time moves only by Advance.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// maintainPass runs one whole maintenance pass of a pool whose Tick is
// tick: the second send is taken only once the first pass is over.
func maintainPass(tick chan time.Time) {
	tick <- time.Time{}
	tick <- time.Time{}
}

func TestPoolIdleTimeout(t *testing.T) {
	s := newFakeServer(t).start()
	clock, tick := newFakeClock(), make(chan time.Time)
	p := newPool(t, s, backend.PoolOptions{MaxOpen: 4, IdleTimeout: 60 * time.Millisecond, Clock: clock, Tick: tick})
	cs := []*backend.Conn{get(t, p), get(t, p), get(t, p)}
	for _, c := range cs {
		p.Put(c)
	}
	clock.Advance(59 * time.Millisecond)
	maintainPass(tick)
	if st := checkStats(t, p); st.Idle != 3 {
		t.Fatalf("connections idle less than IdleTimeout were reaped: stats %+v", st)
	}
	clock.Advance(2 * time.Millisecond)
	maintainPass(tick)
	if st := checkStats(t, p); st.Open != 0 {
		t.Fatalf("idle connections not reaped: stats %+v", st)
	}
	for i := 0; i < 3; i++ {
		sc := s.conn(i)
		<-sc.done
		if cmds := sc.commands(); cmds[len(cmds)-1] != "COM_QUIT" {
			t.Errorf("reaped connection %d saw %q", i, cmds)
		}
	}
	// A connection in use is not reaped however long it is held.
	c := get(t, p)
	clock.Advance(time.Hour)
	maintainPass(tick)
	if err := c.Ping(); err != nil {
		t.Errorf("connection in use was closed: %v", err)
	}
	if st := checkStats(t, p); st.Open != 1 || st.InUse != 1 {
		t.Errorf("stats %+v", st)
	}
	p.Put(c)
}

func TestPoolMinIdle(t *testing.T) {
	s := newFakeServer(t).start()
	clock, tick := newFakeClock(), make(chan time.Time)
	p := newPool(t, s, backend.PoolOptions{MaxOpen: 3, MinIdle: 2, IdleTimeout: 40 * time.Millisecond, Clock: clock, Tick: tick})
	maintainPass(tick)
	if st := checkStats(t, p); st.Idle != 2 {
		t.Fatalf("MinIdle connections not opened: stats %+v", st)
	}
	a, b := get(t, p), get(t, p)
	// Replenishing stops at MaxOpen: only one more can be opened.
	maintainPass(tick)
	maintainPass(tick)
	if st := checkStats(t, p); st.Open != 3 || st.Idle != 1 || s.accepted.Load() != 3 {
		t.Errorf("stats %+v, accepted %d", st, s.accepted.Load())
	}
	p.Put(a)
	p.Put(b)
	// Idle reaping keeps MinIdle connections.
	clock.Advance(time.Second)
	maintainPass(tick)
	maintainPass(tick)
	if st := checkStats(t, p); st.Idle != 2 || st.Open != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestPoolMaxLifetime(t *testing.T) {
	s := newFakeServer(t).start()
	clock, tick := newFakeClock(), make(chan time.Time)
	p := newPool(t, s, backend.PoolOptions{MaxOpen: 2, MaxLifetime: 50 * time.Millisecond, Clock: clock, Tick: tick})
	c := get(t, p)
	clock.Advance(70 * time.Millisecond)
	p.Put(c) // expired: closed instead of kept
	if st := checkStats(t, p); st.Open != 0 || st.Idle != 0 {
		t.Errorf("expired connection kept: %+v", st)
	}
	// An idle connection that expires is replaced by Get.
	c = get(t, p)
	p.Put(c)
	clock.Advance(70 * time.Millisecond)
	c2 := get(t, p)
	if c2 == c {
		t.Error("Get returned an expired connection")
	}
	p.Put(c2)
	waitFor(t, "expired connections to be closed", func() bool { return s.open.Load() <= 1 })
	checkStats(t, p)
}

func TestPoolDirtyPut(t *testing.T) {
	s := newFakeServer(t)
	var failReset atomic.Bool
	s.command = func(sc *serverConn, p []byte) bool {
		if p[0] == protocol.ComResetConnection && failReset.Load() {
			sc.log("COM_RESET_CONNECTION (failed)")
			_ = sc.pc.WriteFlush(errPkt(1105, "HY000", "reset failed"))
			return true
		}
		return false
	}
	s.start()
	p := newPool(t, s, backend.PoolOptions{MaxOpen: 2})
	c := get(t, p)
	c.Dirty = true
	p.Put(c)
	if c.Dirty {
		t.Error("Dirty not cleared by the reset")
	}
	if c2 := get(t, p); c2 != c {
		t.Error("reset connection not reused")
	}
	cmds := s.conn(0).commands()
	if len(cmds) < 2 || cmds[len(cmds)-2] != "COM_RESET_CONNECTION" {
		t.Errorf("server saw %q, want COM_RESET_CONNECTION then the session SET", cmds)
	}
	// A failing reset closes the connection and frees its slot.
	failReset.Store(true)
	c.Dirty = true
	p.Put(c)
	if st := checkStats(t, p); st.Open != 0 {
		t.Errorf("stats after a failed reset %+v", st)
	}
	if !c.Broken() {
		t.Error("connection whose reset failed not marked broken")
	}
}

func TestPoolDialErrors(t *testing.T) {
	// A listener that is closed at once: connections are refused.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	p := backend.NewPool(addr, backend.PoolOptions{MaxOpen: 1, Dial: backend.DialOptions{ConnectTimeout: time.Second}})
	defer p.Close()
	for i := 0; i < 3; i++ {
		if _, err := p.Get(context.Background()); err == nil {
			t.Fatal("Get succeeded")
		}
	}
	st := checkStats(t, p)
	if st.Dials != 3 || st.DialErrors != 3 || st.Open != 0 {
		t.Errorf("stats %+v", st)
	}
	if p.Addr() != addr {
		t.Errorf("Addr = %q", p.Addr())
	}

	// Failed logins free their slot too.
	s := newFakeServer(t)
	s.auth = nil
	s.afterGreeting = func(sc *serverConn, _ []byte) { _ = sc.pc.WriteFlush(errPkt(1045, "28000", "denied")) }
	s.start()
	p2 := newPool(t, s, backend.PoolOptions{MaxOpen: 1, WaitTimeout: 50 * time.Millisecond})
	for i := 0; i < 2; i++ {
		_, err := p2.Get(context.Background())
		var pe *protocol.Error
		if !errors.As(err, &pe) || pe.Code != 1045 {
			t.Errorf("Get = %v, want 1045", err)
		}
	}
	if st := checkStats(t, p2); st.Open != 0 || st.Timeouts != 0 || st.DialErrors != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestPoolCloseIdle(t *testing.T) {
	s := newFakeServer(t).start()
	p := newPool(t, s, backend.PoolOptions{MaxOpen: 3})
	a, b, c := get(t, p), get(t, p), get(t, p)
	p.Put(a)
	p.Put(b)
	p.CloseIdle()
	if st := checkStats(t, p); st.Open != 1 || st.Idle != 0 || st.InUse != 1 {
		t.Errorf("stats %+v", st)
	}
	p.Put(c)
	if st := checkStats(t, p); st.Idle != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestPoolMaxPrepared(t *testing.T) {
	s := newFakeServer(t).start()
	p := newPool(t, s, backend.PoolOptions{MaxOpen: 1, MaxPrepared: 2})
	c := get(t, p)
	defer p.Put(c)
	for _, q := range []string{"q1", "q2", "q3"} {
		if _, err := c.Prepare(q); err != nil {
			t.Fatal(err)
		}
	}
	if c.NumStmts() != 2 {
		t.Errorf("NumStmts = %d with MaxPrepared 2", c.NumStmts())
	}
}

// TestPoolDropsConnectionClosedByServer: an idle connection the server
// closed (restart, crash, KILL) is not handed out again.
func TestPoolDropsConnectionClosedByServer(t *testing.T) {
	s := newFakeServer(t).start()
	p := backend.NewPool(s.addr(), backend.PoolOptions{Dial: backend.DialOptions{User: "u", Password: "p"}, MaxOpen: 2, WaitTimeout: time.Second})
	defer p.Close()
	c, err := p.Get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	p.Put(c)
	s.conn(0).nc.Close()
	time.Sleep(50 * time.Millisecond) // idle long enough to be checked
	c2, err := p.Get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Put(c2)
	if c2 == c {
		t.Fatal("the pool handed out a connection the server had closed")
	}
	if err := c2.Ping(); err != nil {
		t.Fatalf("fresh connection: %v", err)
	}
}
