package session

import (
	"strings"
	"sync/atomic"

	"github.com/switchyard-db/switchyard/internal/config"
	"github.com/switchyard-db/switchyard/internal/router"
	"github.com/switchyard-db/switchyard/internal/topology"
)

// Snapshot is one configuration with the topology built for it. Reloads
// publish a new one; sessions move to it at their next statement boundary
// outside a transaction.
type Snapshot struct {
	// Gen numbers snapshots from 1 in publication order.
	Gen      uint64
	Config   *config.Config
	Topology *topology.Topology
	// prev is the snapshot this one replaced (only while it is current), for
	// a login that authenticated against it.
	prev atomic.Pointer[Snapshot]
}

// Current returns the snapshot new sessions and statements use.
func (e *Env) Current() *Snapshot {
	if sn := e.snap.Load(); sn != nil {
		return sn
	}
	first := &Snapshot{Gen: 1, Config: e.Config, Topology: e.Topology}
	if e.snap.CompareAndSwap(nil, first) {
		return first
	}
	return e.snap.Load()
}

// Publish makes cfg and topo the current snapshot and returns its
// generation. Sessions that use an older one move at their next statement
// boundary; sessions of users cfg no longer has end when idle (outside a
// transaction).
func (e *Env) Publish(cfg *config.Config, topo *topology.Topology) uint64 {
	cur := e.Current()
	sn := &Snapshot{Gen: cur.Gen + 1, Config: cfg, Topology: topo}
	sn.prev.Store(cur)
	e.snap.Store(sn)
	cur.prev.Store(nil)
	// Plans name the old rules (and would keep them alive).
	e.plans.clear()
	e.xaMu.Lock()
	for key := range e.xas {
		name := strings.TrimSuffix(key, xaShadowSuffix)
		if cur.Topology.Namespaces[name] != topo.Namespaces[name] {
			// The namespace changed: the next use builds a coordinator
			// for its new slices.
			delete(e.xas, key)
		}
	}
	e.xaMu.Unlock()
	e.mu.Lock()
	for _, s := range e.sessions {
		who := s.who.Load()
		if who == nil {
			continue
		}
		ns, _, ok := cfg.UserNamespace(who.user)
		if ok && ns.Name == who.ns {
			continue
		}
		s.gone.Store(true)
		if s.hold.Load() == 0 {
			// Idle outside a transaction: end it now.
			s.closing.Store(true)
			s.cl.Conn.Close()
		}
	}
	e.mu.Unlock()
	return sn.Gen
}

// Holding counts the sessions that may still use a snapshot older than
// gen: they are running a statement or are inside a transaction (or
// pinned) on it. Pools a reload retired are closed once none remains.
func (e *Env) Holding(gen uint64) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	k := 0
	for _, s := range e.sessions {
		if h := s.hold.Load(); h != 0 && h < gen {
			k++
		}
	}
	return k
}

// movable reports whether the session holds nothing of its snapshot: no
// transaction, no pinned connection, no distributed transaction.
func (s *Session) movable() bool {
	return !s.pin.active() && !s.txn.held() && !s.distributed()
}

// parkIdle is called when the session waits for the client's next
// command: outside a transaction it holds no snapshot. It returns false
// when the session must end (its user was removed).
func (s *Session) parkIdle() bool {
	if !s.movable() {
		return true
	}
	s.hold.Store(0)
	return !s.gone.Load()
}

// namespaceFor returns the runtime namespace of a user who has just
// authenticated as a user of nc, and the generation it belongs to: from
// the current snapshot, or from the one it replaced when a reload removed
// the namespace meanwhile (the session then ends when idle).
func (e *Env) namespaceFor(nc *config.Namespace) (*topology.Namespace, uint64, bool) {
	sn := e.Current()
	if ns := sn.Topology.Namespaces[nc.Name]; ns != nil {
		return ns, sn.Gen, true
	}
	if p := sn.prev.Load(); p != nil {
		if ns := p.Topology.Namespaces[nc.Name]; ns != nil {
			return ns, p.Gen, false
		}
	}
	return nil, sn.Gen, false
}

// noteUser records who the session belongs to, for reloads (read by other
// goroutines).
func (s *Session) noteUser(u *config.User, ns string) {
	s.who.Store(&owner{user: u.Name, ns: ns})
}

// boundary is called before each command: outside a transaction the
// session moves to the current snapshot; a session whose user was removed
// ends there (false).
func (s *Session) boundary() bool {
	if !s.movable() {
		s.hold.Store(s.gen)
		return true
	}
	sn := s.env.Current()
	if sn.Gen != s.gen {
		s.moveTo(sn)
	}
	if s.gone.Load() {
		return false
	}
	s.hold.Store(s.gen)
	return true
}

// moveTo switches an idle session to snapshot sn.
func (s *Session) moveTo(sn *Snapshot) {
	nc, u, ok := sn.Config.UserNamespace(s.user.Name)
	ns := sn.Topology.Namespaces[s.ns.Name]
	if !ok || ns == nil || nc.Name != s.ns.Name {
		// The user was removed or now belongs to another namespace.
		s.gone.Store(true)
		return
	}
	ns = sameSide(ns, s.ns)
	s.gen = sn.Gen
	s.user = u
	// Access rules may have changed with the user or its namespace.
	s.gov = s.newPolicy(nc, u)
	if ns == s.ns {
		return
	}
	s.ns = ns
	s.gtidBySlice = remapSlices(s.gtidBySlice, ns)
	s.dirtySlices = remapSlices(s.dirtySlices, ns)
	for _, st := range s.stmts {
		if st.template == nil {
			continue
		}
		// The statement is re-placed with the new rules; without a
		// template it is routed at each execution.
		st.template = nil
		if ns.Rules != nil {
			st.template = router.PrepareTemplate(st.sql, ns.Rules, s.db)
		}
	}
}

// owner is a session's user and namespace, as reloads see them.
type owner struct{ user, ns string }

// remapSlices re-keys per-slice session state by slice name onto the
// slices of ns.
func remapSlices[V any](m map[*topology.Slice]V, ns *topology.Namespace) map[*topology.Slice]V {
	if m == nil {
		return nil
	}
	out := make(map[*topology.Slice]V, len(m))
	for sl, v := range m {
		// Production and shadow slices share names: each keeps to its side.
		side := ns
		if sl.Namespace != nil {
			side = ns.Side(sl.Namespace.IsShadow())
		}
		if side == nil {
			continue
		}
		if n := side.Slices[sl.Name]; n != nil {
			out[n] = v
		}
	}
	return out
}
