package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/switchyard-db/switchyard/internal/topology"
)

// tev is one entry of a run's timeline: something the proxy changed (seen
// by polling its topology every 5 ms) or something the tool did.
type tev struct {
	at   time.Time
	kind string // "primary", "down", "up", "mark"
	node string // the primary's address ("" for none), or the node
	text string
}

// watcher polls the slice's primary and each node's health every 5 ms.
type watcher struct {
	s    *topology.Slice
	done chan struct{}
	wg   sync.WaitGroup

	mu  sync.Mutex
	evs []tev
}

func newWatcher(s *topology.Slice) *watcher {
	w := &watcher{s: s, done: make(chan struct{})}
	w.wg.Add(1)
	go w.run()
	return w
}

func (w *watcher) stop() {
	select {
	case <-w.done:
		return
	default:
	}
	close(w.done)
	w.wg.Wait()
}

func (w *watcher) run() {
	defer w.wg.Done()
	prim := "?"
	down := map[*topology.Node]bool{}
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		now := time.Now()
		p := ""
		if n := w.s.Primary(); n != nil {
			p = n.Addr
		}
		if p != prim {
			text := "primary " + p
			if p == "" {
				text = "no primary: " + w.reason()
			}
			if prim != "?" || p == "" {
				w.add(tev{at: now, kind: "primary", node: p, text: text})
			}
			prim = p
		}
		for _, n := range w.s.Nodes {
			d := n.Down()
			if d != down[n] {
				kind := "up"
				if d {
					kind = "down"
				}
				w.add(tev{at: now, kind: kind, node: n.Addr, text: "node " + n.Addr + " marked " + kind})
				down[n] = d
			}
		}
		select {
		case <-w.done:
			return
		case <-t.C:
		}
	}
}

// reason asks the slice why it has no primary.
func (w *watcher) reason() string {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := w.s.WaitPrimary(ctx, time.Nanosecond)
	var np *topology.ErrNoPrimary
	if errors.As(err, &np) {
		return np.Reason
	}
	if err == nil {
		return "(back already)"
	}
	return err.Error()
}

func (w *watcher) add(e tev) {
	w.mu.Lock()
	w.evs = append(w.evs, e)
	w.mu.Unlock()
}

// mark records something the tool did.
func (w *watcher) mark(at time.Time, format string, args ...any) {
	w.add(tev{at: at, kind: "mark", text: fmt.Sprintf(format, args...)})
}

// first returns the first event at or after t that matches.
func (w *watcher) first(t time.Time, match func(tev) bool) (time.Time, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, e := range w.evs {
		if !e.at.Before(t) && match(e) {
			return e.at, true
		}
	}
	return time.Time{}, false
}

// waitFor waits up to timeout for a matching event at or after t.
func (w *watcher) waitFor(t time.Time, timeout time.Duration, match func(tev) bool) (time.Time, bool) {
	deadline := time.Now().Add(timeout)
	for {
		if at, ok := w.first(t, match); ok {
			return at, true
		}
		if time.Now().After(deadline) {
			return time.Time{}, false
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// timeline renders the events from t0 on, times relative to t0.
func (w *watcher) timeline(t0 time.Time) string {
	w.mu.Lock()
	evs := append([]tev(nil), w.evs...)
	w.mu.Unlock()
	// Marks are added after the fact: order by time.
	for i := 1; i < len(evs); i++ {
		for j := i; j > 0 && evs[j].at.Before(evs[j-1].at); j-- {
			evs[j], evs[j-1] = evs[j-1], evs[j]
		}
	}
	var b strings.Builder
	for _, e := range evs {
		if e.at.Before(t0.Add(-2 * time.Second)) {
			continue
		}
		who := "proxy"
		if e.kind == "mark" {
			who = "bench"
		}
		fmt.Fprintf(&b, "    %+8dms  %-5s %s\n", e.at.Sub(t0).Milliseconds(), who, e.text)
	}
	return b.String()
}

func isPrimary(addr string) func(tev) bool {
	return func(e tev) bool { return e.kind == "primary" && e.node == addr }
}

func notPrimary(addr string) func(tev) bool {
	return func(e tev) bool { return e.kind == "primary" && e.node != addr }
}

func nodeEvent(kind, addr string) func(tev) bool {
	return func(e tev) bool { return e.kind == kind && e.node == addr }
}
