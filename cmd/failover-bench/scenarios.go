package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/switchyard-db/switchyard/internal/loadgen"
	"github.com/switchyard-db/switchyard/internal/testtopo"
)

const (
	warmup     = time.Second     // load before the event
	decide     = time.Second     // the "platform" deciding to promote
	replicaOff = 2 * time.Second // a killed replica stays down this long
	after      = 2 * time.Second // load after the event is over
	resumeWait = 20 * time.Second
)

// runScenario runs one scenario on a fresh topology and proxy.
func runScenario(ctx context.Context, o options, plog *slog.Logger, name string, i int) *result {
	r := &result{Scenario: name, Run: i}
	start := time.Now()
	label := fmt.Sprintf("%s#%d", name, i)
	r.LoadAvg = loadAvg()
	logf("%s: starting (load average %s)", label, r.LoadAvg)
	e, err := setup(ctx, o, plog, label)
	defer func() {
		e.close()
		r.Took = time.Since(start)
	}()
	if err != nil {
		r.Err = err
		return r
	}
	switch name {
	case "killed":
		err = e.killed(r)
	case "frozen":
		err = e.frozen(r)
	case "switchover":
		err = e.switchover(r)
	case "replica":
		err = e.replica(r)
	case "return":
		err = e.returning(r)
	default:
		err = fmt.Errorf("unknown scenario %q", name)
	}
	if !r.t0.IsZero() {
		r.Timeline = e.watch.timeline(r.t0)
	}
	r.Err = err
	return r
}

// loadAvg is the machine's 1, 5 and 15 minute load averages.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// load is a running loadgen with a sampler of its last successful write.
type load struct {
	*loadgen.Load
	table   string
	started time.Time

	mu      sync.Mutex
	writes  []time.Time // distinct last-write times, sampled every 1 ms
	done    chan struct{}
	stopped bool
}

func (e *env) load(table string) (*load, error) {
	l, err := e.startLoad(table)
	if err != nil {
		return nil, fmt.Errorf("starting the load: %w", err)
	}
	ld := &load{Load: l, table: table, started: time.Now(), done: make(chan struct{})}
	go ld.sample()
	e.defer_(func() { ld.stop(nil) })
	return ld, nil
}

func (l *load) sample() {
	var last time.Time
	for {
		select {
		case <-l.done:
			return
		default:
		}
		now := time.Now()
		lw := now.Add(-l.SinceLastWrite())
		if lw.Sub(last) > 100*time.Microsecond {
			l.mu.Lock()
			l.writes = append(l.writes, lw)
			l.mu.Unlock()
			last = lw
		}
		time.Sleep(time.Millisecond)
	}
}

// firstWriteAfter returns the first successful write after t, waiting up
// to timeout for one (loadgen.WaitWrites), to within the 1 ms sampling.
func (l *load) firstWriteAfter(t time.Time, timeout time.Duration) (time.Time, bool) {
	if _, ok := l.WaitWrites(t, timeout); !ok {
		return time.Time{}, false
	}
	time.Sleep(3 * time.Millisecond) // let the sampler see it
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, w := range l.writes {
		if w.After(t) {
			return w, true
		}
	}
	return time.Time{}, false
}

// maxGapSince is the longest time between two successful writes from t
// on (to within the 1 ms sampling). loadgen's own MaxWriteGap also counts
// the load's start-up (opening the idle connections before the first write).
func (l *load) maxGapSince(t time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	var max time.Duration
	var prev time.Time
	for _, w := range l.writes {
		if w.Before(t) {
			prev = w
			continue
		}
		if !prev.IsZero() && w.Sub(prev) > max {
			max = w.Sub(prev)
		}
		prev = w
	}
	return max
}

// stop ends the load once; check is the connection for the data check.
func (l *load) stop(check *sql.DB) (loadgen.Report, bool) {
	l.mu.Lock()
	if l.stopped {
		l.mu.Unlock()
		return loadgen.Report{}, false
	}
	l.stopped = true
	l.mu.Unlock()
	close(l.done)
	if check == nil {
		return l.Stop(), true
	}
	return l.Stop(check), true
}

// finishLoad stops the load and checks every acknowledged write on primary.
func (e *env) finishLoad(l *load, primary testtopo.Node, r *result) error {
	d, err := e.open(primary, dbName)
	if err != nil {
		return err
	}
	defer d.Close()
	rep, ok := l.stop(d)
	if ok {
		r.Report, r.HasReport = rep, true
		r.Gap = l.maxGapSince(l.started.Add(warmup / 2))
	}
	return nil
}

// killAndPromote is the unplanned failover: the primary gets sig, and after
// the platform's pause replica 1 is promoted and replica 2 repointed.
func (e *env) killAndPromote(l *load, r *result, sig syscall.Signal) error {
	name := "SIGKILL"
	if sig == syscall.SIGSTOP {
		name = "SIGSTOP"
	}
	t0 := time.Now()
	pid, err := e.signal(e.prim, sig)
	if err != nil {
		return err
	}
	r.t0 = t0
	e.watch.mark(t0, "%s primary %s (pid %d) at %s", name, e.prim.Addr, pid, t0.UTC().Format("15:04:05.000000"))
	if sig == syscall.SIGKILL {
		if err := e.afterKill(e.prim); err != nil {
			return err
		}
		e.watch.mark(time.Now(), "its port refuses connections")
	} else {
		e.defer_(func() { syscall.Kill(pid, syscall.SIGCONT) })
	}
	time.Sleep(time.Until(t0.Add(decide)))
	promoted, err := e.promote(e.r1)
	if err != nil {
		return fmt.Errorf("promoting replica 1: %w", err)
	}
	e.watch.mark(promoted, "replica 1 %s promoted (SET GLOBAL read_only=OFF returned)", e.r1.Addr)
	ro, err := e.repoint(e.r2, e.r1, "slave_pos")
	if err != nil {
		return fmt.Errorf("repointing replica 2: %w", err)
	}
	e.watch.mark(ro, "replica 2 repointed at replica 1")
	if w, ok := l.firstWriteAfter(promoted, resumeWait); ok {
		r.Resume, r.HasResume = w.Sub(promoted), true
		e.watch.mark(w, "first successful write after the promotion")
	} else {
		r.note("no successful write within %v of the promotion", resumeWait)
	}
	det, ok := e.watch.waitFor(t0, 5*time.Second, notPrimary(e.prim.Addr))
	if down, ok2 := e.watch.first(t0, nodeEvent("down", e.prim.Addr)); ok2 && (!ok || down.Before(det)) {
		det, ok = down, true
	}
	if ok {
		r.Detection, r.HasDetection = det.Sub(t0), true
	} else {
		r.note("the proxy never dropped the old primary")
	}
	if f, ok := e.watch.waitFor(t0, 5*time.Second, isPrimary(e.r1.Addr)); ok {
		r.note("proxy followed the new primary %v after the promotion", ms(f.Sub(promoted)))
	} else {
		r.note("the proxy did not follow the new primary within 5s")
	}
	return nil
}

func (e *env) killed(r *result) error {
	l, err := e.load("events")
	if err != nil {
		return err
	}
	time.Sleep(warmup)
	if err := e.killAndPromote(l, r, syscall.SIGKILL); err != nil {
		return err
	}
	time.Sleep(after)
	if err := e.finishLoad(l, e.r1, r); err != nil {
		return err
	}
	return e.syncCheck(l.table, e.r1, []testtopo.Node{e.r2}, r)
}

func (e *env) frozen(r *result) error {
	l, err := e.load("events")
	if err != nil {
		return err
	}
	time.Sleep(warmup)
	if err := e.killAndPromote(l, r, syscall.SIGSTOP); err != nil {
		return err
	}
	time.Sleep(after)
	if err := e.finishLoad(l, e.r1, r); err != nil {
		return err
	}
	// Thaw the old primary and demote it, so that the data check covers it
	// and the teardown can stop it.
	if _, err := e.signal(e.prim, syscall.SIGCONT); err != nil {
		return err
	}
	thawed := time.Now()
	e.watch.mark(thawed, "SIGCONT old primary (load stopped) at %s", thawed.UTC().Format("15:04:05.000000"))
	ro, err := e.repoint(e.prim, e.r1, "current_pos")
	if !ro.IsZero() {
		e.watch.mark(ro, "old primary read_only=ON")
	}
	if err != nil {
		return fmt.Errorf("demoting the old primary: %w", err)
	}
	if err := e.syncCheck(l.table, e.r1, []testtopo.Node{e.r2, e.prim}, r); err != nil {
		return err
	}
	r.note("old primary after demotion: %s", e.slaveStatus(e.prim))
	return nil
}

func (e *env) switchover(r *result) error {
	l, err := e.load("events")
	if err != nil {
		return err
	}
	time.Sleep(warmup)
	url := fmt.Sprintf("http://%s/api/switchover?namespace=%s&slice=s0&target=%s", e.proxy.AdminAddr(), nsName, e.r1.Addr)
	req, _ := http.NewRequestWithContext(e.ctx, http.MethodPost, url, nil)
	req.SetBasicAuth(adminU, adminP)
	t0 := time.Now()
	r.t0 = t0
	e.watch.mark(t0, "POST /api/switchover target=%s", e.r1.Addr)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	done := time.Now()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("switchover: %d %s", resp.StatusCode, body)
	}
	var res struct {
		WritesHeld int64  `json:"writes_held_ns"`
		Aborted    int    `json:"aborted_connections"`
		GTID       string `json:"gtid"`
	}
	_ = json.Unmarshal(body, &res)
	e.watch.mark(done, "switchover answered 200 (writes held %v, aborted %d, gtid %s)", ms(time.Duration(res.WritesHeld)), res.Aborted, res.GTID)
	r.note("switchover call %v, writes held %v (its own figure), %d statements aborted", ms(done.Sub(t0)), ms(time.Duration(res.WritesHeld)), res.Aborted)
	held, _ := e.watch.first(t0, notPrimary(e.prim.Addr))
	released, ok := e.watch.waitFor(t0, 5*time.Second, isPrimary(e.r1.Addr))
	if !ok {
		return fmt.Errorf("the proxy did not take %s as primary", e.r1.Addr)
	}
	if !held.IsZero() {
		r.note("the proxy held writes from +%v to +%v after the call", ms(held.Sub(t0)), ms(released.Sub(t0)))
	}
	if w, ok := l.firstWriteAfter(released, resumeWait); ok {
		r.Resume, r.HasResume = w.Sub(released), true
		e.watch.mark(w, "first successful write after the release")
	} else {
		r.note("no successful write within %v of the release", resumeWait)
	}
	time.Sleep(after)
	if err := e.finishLoad(l, e.r1, r); err != nil {
		return err
	}
	if err := e.syncCheck(l.table, e.r1, []testtopo.Node{e.r2, e.prim}, r); err != nil {
		return err
	}
	ro, _ := e.queryString(e.prim, "SELECT @@read_only")
	r.note("old primary read_only=%s, %s", ro, e.slaveStatus(e.prim))
	return nil
}

func (e *env) replica(r *result) error {
	l, err := e.load("events")
	if err != nil {
		return err
	}
	time.Sleep(warmup)
	t0 := time.Now()
	pid, err := e.signal(e.r1, syscall.SIGKILL)
	if err != nil {
		return err
	}
	r.t0 = t0
	e.watch.mark(t0, "SIGKILL replica 1 %s (pid %d)", e.r1.Addr, pid)
	if err := e.afterKill(e.r1); err != nil {
		return err
	}
	time.Sleep(time.Until(t0.Add(replicaOff)))
	restart := time.Now()
	e.watch.mark(restart, "topology.sh up (restarts replica 1)")
	type served struct {
		at  time.Time
		err error
	}
	ch := make(chan served, 1)
	go func() {
		at, err := e.readsFrom(e.r1, 60*time.Second)
		if err == nil {
			r.note("%s", e.behind(e.r1, e.prim))
		}
		ch <- served{at, err}
	}()
	out, err := e.script("up", "--dir", e.dir)
	if err != nil {
		return fmt.Errorf("topology.sh up: %v\n%s", err, out)
	}
	ready := time.Now()
	e.watch.mark(ready, "topology.sh up returned")
	s := <-ch
	if s.err != nil {
		return s.err
	}
	e.watch.mark(s.at, "a read through the proxy was served by replica 1")
	if det, ok := e.watch.first(t0, nodeEvent("down", e.r1.Addr)); ok {
		r.Detection, r.HasDetection = det.Sub(t0), true
	} else {
		r.note("the proxy never marked replica 1 down")
	}
	msg := fmt.Sprintf("reads from replica 1 again %v after the restart began (topology.sh up took %v)", ms(s.at.Sub(restart)), ms(ready.Sub(restart)))
	if upAt, ok := e.watch.first(restart, nodeEvent("up", e.r1.Addr)); ok {
		msg += fmt.Sprintf("; marked up at +%v", ms(upAt.Sub(restart)))
	}
	r.note("%s", msg)
	time.Sleep(after)
	if err := e.finishLoad(l, e.prim, r); err != nil {
		return err
	}
	return e.syncCheck(l.table, e.prim, []testtopo.Node{e.r1, e.r2}, r)
}

// returning: after an unplanned failover (the "killed" scenario, with its
// own load), the old primary comes back as it would after a crash and
// restart: writable. The operator demotes it at once.
func (e *env) returning(r *result) error {
	prep := &result{Scenario: "return (first: killed)", Run: r.Run}
	l1, err := e.load("events")
	if err != nil {
		return err
	}
	time.Sleep(warmup)
	if err := e.killAndPromote(l1, prep, syscall.SIGKILL); err != nil {
		return err
	}
	time.Sleep(after)
	if err := e.finishLoad(l1, e.r1, prep); err != nil {
		return err
	}
	if err := e.syncCheck(l1.table, e.r1, []testtopo.Node{e.r2}, prep); err != nil {
		return err
	}
	r.Prep = prep

	l2, err := e.load("events_return")
	if err != nil {
		return err
	}
	time.Sleep(warmup)
	t0 := time.Now()
	r.t0 = t0
	e.watch.mark(t0, "restarting the old primary %s (same command line as topology.sh used)", e.prim.Addr)
	type served struct {
		at  time.Time
		err error
	}
	ch := make(chan served, 1)
	go func() {
		at, err := e.readsFrom(e.prim, 90*time.Second)
		if err == nil {
			r.note("%s", e.behind(e.prim, e.r1))
		}
		ch <- served{at, err}
	}()
	if err := e.restartWithArgv(e.prim, e.primArgv); err != nil {
		return err
	}
	up, err := e.waitUp(e.prim, 90*time.Second)
	if err != nil {
		return err
	}
	e.watch.mark(up, "old primary answers (writable)")
	ro, err := e.repoint(e.prim, e.r1, "current_pos")
	if !ro.IsZero() {
		e.watch.mark(ro, "old primary read_only=ON")
	}
	if err != nil {
		return fmt.Errorf("demoting the old primary: %w", err)
	}
	e.watch.mark(time.Now(), "old primary repointed at the new primary")
	s := <-ch
	if s.err != nil {
		return s.err
	}
	e.watch.mark(s.at, "a read through the proxy was served by the old primary")
	if det, ok := e.watch.first(t0, nodeEvent("up", e.prim.Addr)); ok {
		r.Detection, r.HasDetection = det.Sub(up), true
	} else {
		r.note("the proxy never marked the old primary up")
	}
	r.note("old primary writable for %v after it first answered; reads from it %v after the restart began (%v after it answered)",
		ms(ro.Sub(up)), ms(s.at.Sub(t0)), ms(s.at.Sub(up)))
	if held, ok := e.watch.first(t0, notPrimary(e.r1.Addr)); ok {
		back, ok := e.watch.waitFor(held, 10*time.Second, isPrimary(e.r1.Addr))
		if !ok {
			return fmt.Errorf("the proxy did not take %s back as primary", e.r1.Addr)
		}
		r.note("the proxy saw two writable nodes and held writes for %v", ms(back.Sub(held)))
		if w, ok := l2.firstWriteAfter(back, resumeWait); ok {
			r.Resume, r.HasResume = w.Sub(back), true
			e.watch.mark(w, "first successful write after the split brain")
		}
	} else {
		r.note("the proxy never saw two writable nodes")
	}
	time.Sleep(after)
	if err := e.finishLoad(l2, e.r1, r); err != nil {
		return err
	}
	if err := e.syncCheck(l2.table, e.r1, []testtopo.Node{e.r2, e.prim}, r); err != nil {
		return err
	}
	r.note("old primary after demotion: %s", e.slaveStatus(e.prim))
	return nil
}
