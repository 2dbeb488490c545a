package monitor

import (
	"sync"

	"github.com/switchyard-db/switchyard/internal/topology"
)

// fleetState is the monitor's part in a fleet of proxies: one elected
// leader decides each slice's primary and publishes it; the others follow
// the publications and never promote a node on their own (they still stop
// writing to a primary that is down or read-only). Outside a fleet, or
// while etcd is unreachable (degraded mode), the monitor decides alone.
type fleetState struct {
	mu        sync.Mutex
	follower  bool
	published map[[2]string]string // {namespace, slice} -> primary address
	onDecide  func(ns, slice, addr string)
}

// SetFollower switches between following the fleet leader's decisions
// (true) and deciding failovers locally (false: the leader, a single
// proxy, or degraded mode).
func (m *Monitor) SetFollower(on bool) {
	m.fleet.mu.Lock()
	changed := m.fleet.follower != on
	m.fleet.follower = on
	m.fleet.mu.Unlock()
	if changed {
		m.log.Info("failover decisions", "follow_leader", on)
	}
}

// OnDecide sets what is called when this monitor (not following) makes a
// node a slice's primary: the leader publishes it.
func (m *Monitor) OnDecide(fn func(ns, slice, addr string)) {
	m.fleet.mu.Lock()
	m.fleet.onDecide = fn
	m.fleet.mu.Unlock()
}

// mayPromote reports whether the monitor may make w the primary of s.
func (m *Monitor) mayPromote(s *topology.Slice, w *topology.Node) bool {
	m.fleet.mu.Lock()
	defer m.fleet.mu.Unlock()
	if !m.fleet.follower {
		return true
	}
	return m.fleet.published[[2]string{s.Namespace.Name, s.Name}] == w.Addr
}

// decided reports a primary this monitor chose (nil: writes held, a
// planned switchover).
func (m *Monitor) decided(s *topology.Slice, n *topology.Node) {
	m.fleet.mu.Lock()
	fn, follower := m.fleet.onDecide, m.fleet.follower
	m.fleet.mu.Unlock()
	if fn != nil && !follower {
		fn(s.Namespace.Name, s.Name, addrOf(n))
	}
}

// Published records the leader's decision for a slice; a follower makes
// that node the primary at once (when it is a node of the slice), or holds
// writes when addr is empty (the leader runs a planned switchover).
func (m *Monitor) Published(ns, slice, addr string) {
	m.fleet.mu.Lock()
	if m.fleet.published == nil {
		m.fleet.published = map[[2]string]string{}
	}
	m.fleet.published[[2]string{ns, slice}] = addr
	follower := m.fleet.follower
	m.fleet.mu.Unlock()
	if !follower {
		return
	}
	if addr == "" {
		if s := m.findSlice(ns, slice); s != nil && s.Primary() != nil {
			s.SetPrimary(nil, "the fleet leader holds writes (planned switchover)")
			m.log.Warn("slice holds writes: the fleet leader runs a planned switchover", "namespace", ns, "slice", slice)
		}
		return
	}
	s, n := m.find(ns, slice, addr)
	if n == nil {
		return
	}
	sm := m.sliceMon(s)
	if sm == nil {
		return
	}
	sm.switching.Lock()
	defer sm.switching.Unlock()
	if cur := s.Primary(); cur != n {
		if cur != nil {
			cur.KillConnections()
		}
		m.mu.Lock()
		sm.gen.Add(1)
		m.mu.Unlock()
		s.SetPrimary(n, "")
		m.log.Warn("slice follows the primary the fleet leader published", "namespace", ns, "slice", slice, "old", addrOf(cur), "new", addr)
	}
}

// Primaries returns every slice's current primary ({namespace, slice} ->
// address; slices without one are left out).
func (m *Monitor) Primaries() map[[2]string]string {
	out := map[[2]string]string{}
	m.mu.Lock()
	defer m.mu.Unlock()
	for s := range m.slices {
		if p := s.Primary(); p != nil {
			out[[2]string{s.Namespace.Name, s.Name}] = p.Addr
		}
	}
	return out
}

// find returns the monitored slice ns/slice and its node addr.
func (m *Monitor) find(ns, slice, addr string) (*topology.Slice, *topology.Node) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for n, nm := range m.nodes {
		if nm.ns == ns && n.Slice.Name == slice && n.Addr == addr {
			return n.Slice, n
		}
	}
	return nil, nil
}

// findSlice returns the monitored slice ns/slice, or nil.
func (m *Monitor) findSlice(ns, slice string) *topology.Slice {
	m.mu.Lock()
	defer m.mu.Unlock()
	for s := range m.slices {
		if s.Namespace.Name == ns && s.Name == slice {
			return s
		}
	}
	return nil
}
