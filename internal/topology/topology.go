// Package topology is the proxy's runtime view of its backends: namespaces,
// slices, and the nodes of each slice with their connection pools. The
// primary of a slice is held in an atomic pointer so that a topology change
// (failover) never needs a restart.
package topology

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchyard-db/switchyard/internal/backend"
	"github.com/switchyard-db/switchyard/internal/config"
	"github.com/switchyard-db/switchyard/internal/gtid"
	"github.com/switchyard-db/switchyard/internal/shard"
)

// Role is a node's role in its slice.
type Role uint8

// Roles.
const (
	RolePrimary Role = iota
	RoleReplica
)

func (r Role) String() string {
	if r == RolePrimary {
		return "primary"
	}
	return "replica"
}

// Node is one backend server.
type Node struct {
	Addr   string
	Weight int
	Slice  *Slice
	role   atomic.Uint32
	// down is set by the monitor when the node stopped answering.
	down atomic.Bool
	// lagging is set when a replica is too far behind to serve reads.
	lagging atomic.Bool
	// poke asks the monitor for an immediate check.
	poke chan struct{}
	// gtid is the node's GTID position as last seen by the monitor.
	gtid atomic.Pointer[string]
	// stmts counts statements run on the node (a metric), when set.
	stmts Counter

	// ps holds the node's connection pools; a reload that keeps the node
	// hands the same set to the node's successor.
	ps *poolSet
}

// poolSet is the pools of one backend address with one set of options.
type poolSet struct {
	addr  string
	opts  backend.PoolOptions
	mu    sync.Mutex
	pools [2]*backend.Pool // [0] plain, [1] CLIENT_FOUND_ROWS
}

// Role returns the node's current role.
func (n *Node) Role() Role { return Role(n.role.Load()) }

// Suspect asks the monitor to check the node now (after a connection
// failure), without waiting for the next interval.
func (n *Node) Suspect() {
	select {
	case n.poke <- struct{}{}:
	default:
	}
}

// Poked is the channel Suspect signals on.
func (n *Node) Poked() <-chan struct{} { return n.poke }

// Counter is the part of a metric counter the topology uses.
type Counter interface{ Inc() }

// SetStatementCounter attaches the node's statement counter.
func (n *Node) SetStatementCounter(c Counter) { n.stmts = c }

// HasStatementCounter reports whether SetStatementCounter was called.
func (n *Node) HasStatementCounter() bool { return n.stmts != nil }

// CountStatement counts one statement run on the node.
func (n *Node) CountStatement() {
	if n.stmts != nil {
		n.stmts.Inc()
	}
}

// SetGTID records the node's GTID position (from the monitor).
func (n *Node) SetGTID(pos string) { n.gtid.Store(&pos) }

// NoteReached records that the node has applied at least pos (a GTID wait
// on it succeeded), so later reads needing pos or less need no wait.
func (n *Node) NoteReached(pos string) {
	for {
		cur := n.gtid.Load()
		var have string
		if cur != nil {
			have = *cur
		}
		merged := gtid.Merge(have, pos)
		if merged == have {
			return
		}
		if n.gtid.CompareAndSwap(cur, &merged) {
			return
		}
	}
}

// GTID returns the node's last known GTID position ("" when unknown).
func (n *Node) GTID() string {
	if p := n.gtid.Load(); p != nil {
		return *p
	}
	return ""
}

// Down reports whether the monitor considers the node unreachable.
func (n *Node) Down() bool { return n.down.Load() }

// Lagging reports whether the node is excluded from reads for lag.
func (n *Node) Lagging() bool { return n.lagging.Load() }

// KillConnections closes every backend connection to the node at once.
func (n *Node) KillConnections() int {
	k := 0
	for _, p := range n.Pools() {
		k += p.KillAll()
	}
	return k
}

// Pool returns the node's pool for connections with or without
// CLIENT_FOUND_ROWS, creating it on first use.
func (n *Node) Pool(foundRows bool) *backend.Pool {
	i := 0
	if foundRows {
		i = 1
	}
	ps := n.ps
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.pools[i] == nil {
		o := ps.opts
		o.Dial.FoundRows = foundRows
		if foundRows {
			o.MinIdle = 0
		}
		ps.pools[i] = backend.NewPool(ps.addr, o)
	}
	return ps.pools[i]
}

// Pools returns the pools created so far.
func (n *Node) Pools() []*backend.Pool { return n.ps.list() }

func (ps *poolSet) list() []*backend.Pool {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	var out []*backend.Pool
	for _, p := range ps.pools {
		if p != nil {
			out = append(out, p)
		}
	}
	return out
}

func (ps *poolSet) close() {
	for _, p := range ps.list() {
		p.Close()
	}
}

func (n *Node) close() { n.ps.close() }

// Slice is a primary with its replicas.
type Slice struct {
	Name      string
	Namespace *Namespace
	Nodes     []*Node
	primary   atomic.Pointer[Node]    // nil while no writable primary is confirmed
	replicas  atomic.Pointer[[]*Node] // readable replicas, expanded by weight
	rr        atomic.Uint64

	mu      sync.Mutex
	changed chan struct{} // closed and replaced whenever the primary changes
	problem string        // why there is no primary (for errors)
}

// Primary returns the slice's current primary, or nil while none is
// confirmed (during a failover).
func (s *Slice) Primary() *Node { return s.primary.Load() }

// ErrNoPrimary is returned by WaitPrimary when no writable primary appeared
// within the hold time.
type ErrNoPrimary struct {
	Slice, Reason string
	Waited        time.Duration
}

func (e *ErrNoPrimary) Error() string {
	return fmt.Sprintf("slice %s has no writable primary after waiting %v: %s", e.Slice, e.Waited.Round(time.Millisecond), e.Reason)
}

// WaitPrimary returns the slice's primary, waiting up to hold for one to
// be confirmed when there is none (a failover in progress).
func (s *Slice) WaitPrimary(ctx context.Context, hold time.Duration) (*Node, error) {
	if p := s.primary.Load(); p != nil {
		return p, nil
	}
	start := time.Now()
	t := time.NewTimer(hold)
	defer t.Stop()
	for {
		s.mu.Lock()
		ch := s.changed
		reason := s.problem
		s.mu.Unlock()
		if p := s.primary.Load(); p != nil {
			return p, nil
		}
		select {
		case <-ch:
		case <-t.C:
			return nil, &ErrNoPrimary{Slice: s.Name, Reason: reason, Waited: time.Since(start)}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Changed returns a channel closed at the slice's next primary change.
func (s *Slice) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

// SetPrimary makes n the slice's primary (nil: none, with the reason) and
// wakes statements waiting for one. Roles of the other nodes become
// replica.
func (s *Slice) SetPrimary(n *Node, reason string) {
	s.mu.Lock()
	old := s.primary.Load()
	if n != nil {
		for _, x := range s.Nodes {
			if x == n {
				x.role.Store(uint32(RolePrimary))
			} else {
				x.role.Store(uint32(RoleReplica))
			}
		}
	}
	s.primary.Store(n)
	s.problem = reason
	if old != n || n == nil {
		close(s.changed)
		s.changed = make(chan struct{})
	}
	s.mu.Unlock()
	s.rebuildReplicas()
}

// SetHealth records a node's reachability and lag state from the monitor
// and updates the set of readable replicas.
func (s *Slice) SetHealth(n *Node, down, lagging bool) {
	downChanged := n.down.Swap(down) != down
	lagChanged := n.lagging.Swap(lagging) != lagging
	if downChanged || lagChanged {
		s.rebuildReplicas()
	}
}

// PickReplica returns the next replica by weighted round robin, or nil when
// the slice has none.
func (s *Slice) PickReplica() *Node {
	rs := s.replicas.Load()
	if rs == nil || len(*rs) == 0 {
		return nil
	}
	i := s.rr.Add(1)
	return (*rs)[i%uint64(len(*rs))]
}

// ReplicaWhere returns a readable replica for which ok is true, starting
// the search at the round-robin position, or nil.
func (s *Slice) ReplicaWhere(ok func(*Node) bool) *Node {
	rs := s.replicas.Load()
	if rs == nil || len(*rs) == 0 {
		return nil
	}
	start := s.rr.Add(1)
	for i := 0; i < len(*rs); i++ {
		n := (*rs)[(start+uint64(i))%uint64(len(*rs))]
		if ok(n) {
			return n
		}
	}
	return nil
}

// Replicas returns the slice's replicas (each once).
func (s *Slice) Replicas() []*Node {
	var out []*Node
	for _, n := range s.Nodes {
		if n.Role() == RoleReplica {
			out = append(out, n)
		}
	}
	return out
}

// readable reports whether n may serve replica reads. With primary_reads
// "always" the primary is in the read rotation too.
func (s *Slice) readable(n *Node) bool {
	if n.Down() {
		return false
	}
	if n == s.primary.Load() {
		return s.Namespace.Config != nil && s.Namespace.Config.PrimaryReads == config.PrimaryReadsAlways
	}
	return n.Role() == RoleReplica && !n.Lagging()
}

func (s *Slice) rebuildReplicas() {
	var wrr []*Node
	// Interleave by weight so consecutive picks spread over nodes.
	maxW := 0
	for _, n := range s.Nodes {
		if s.readable(n) && n.Weight > maxW {
			maxW = n.Weight
		}
	}
	for round := 0; round < maxW; round++ {
		for _, n := range s.Nodes {
			if s.readable(n) && n.Weight > round {
				wrr = append(wrr, n)
			}
		}
	}
	s.replicas.Store(&wrr)
}

// Namespace is the runtime form of a configured namespace.
type Namespace struct {
	Name    string
	Config  *config.Namespace
	Slices  map[string]*Slice
	Default *Slice
	// Rules are the namespace's sharding rules; nil when it has none.
	Rules *shard.Rules
	// Shadow is the namespace's shadow side (see shadow.go); nil when it
	// has no shadow data sources, and on the shadow side itself.
	Shadow *Namespace
	// Production is set on a shadow side: the namespace it shadows.
	Production *Namespace
}

// Topology holds every namespace.
type Topology struct {
	Namespaces map[string]*Namespace
}

// New builds the runtime topology for cfg. Pools dial lazily.
func New(cfg *config.Config) (*Topology, error) {
	t := &Topology{Namespaces: map[string]*Namespace{}}
	for _, nc := range cfg.Namespaces {
		ns, err := newNamespace(nc, nil)
		if err != nil {
			return nil, err
		}
		t.Namespaces[ns.Name] = ns
	}
	return t, nil
}

// poolOptions are the pool options of every node of a namespace.
func poolOptions(nc *config.Namespace) backend.PoolOptions {
	return backend.PoolOptions{
		Dial: backend.DialOptions{
			User:           nc.Backend.User,
			Password:       nc.Backend.Password,
			ConnectTimeout: nc.Pool.ConnectTimeout,
		},
		MaxOpen:     nc.Pool.MaxOpen,
		MinIdle:     nc.Pool.MinIdle,
		IdleTimeout: nc.Pool.IdleTimeout,
		MaxLifetime: nc.Pool.MaxLifetime,
		WaitTimeout: nc.Pool.WaitTimeout,
		MaxPrepared: nc.Pool.MaxPrepared,
	}
}

// newNamespace builds the runtime form of nc. With old (the namespace of
// the same name in the running topology, during a reload), nodes whose
// address and pool options did not change keep their pools and runtime
// state (see Rebuild).
func newNamespace(nc *config.Namespace, old *Namespace) (*Namespace, error) {
	ns := &Namespace{Name: nc.Name, Config: nc, Slices: map[string]*Slice{}}
	opts := poolOptions(nc)
	for _, sc := range nc.Slices {
		s := &Slice{Name: sc.Name, Namespace: ns, changed: make(chan struct{})}
		var prev *Slice
		if old != nil && poolOptions(old.Config) == opts {
			prev = old.Slices[sc.Name]
		}
		newNode := func(addr string, weight int, role Role) *Node {
			n := &Node{Addr: addr, Weight: weight, Slice: s, poke: make(chan struct{}, 1)}
			n.role.Store(uint32(role))
			if o := prev.node(addr); o != nil {
				n.ps = o.ps
				n.stmts = o.stmts
				n.down.Store(o.Down())
				n.lagging.Store(o.Lagging())
				if g := o.gtid.Load(); g != nil {
					n.gtid.Store(g)
				}
			} else {
				n.ps = &poolSet{addr: addr, opts: opts}
			}
			return n
		}
		p := newNode(sc.Primary, 1, RolePrimary)
		s.Nodes = append(s.Nodes, p)
		s.primary.Store(p)
		for _, r := range sc.Replicas {
			s.Nodes = append(s.Nodes, newNode(r.Addr, r.Weight, RoleReplica))
		}
		if prev != nil {
			// The running primary wins over the configured one (the
			// monitor may have followed a failover since the file was
			// written) as long as it is still a node of the slice.
			prev.mu.Lock()
			cur, problem := prev.primary.Load(), prev.problem
			prev.mu.Unlock()
			switch {
			case cur == nil:
				for _, n := range s.Nodes {
					n.role.Store(uint32(prev.node(n.Addr).roleOr(n.Role())))
				}
				s.primary.Store(nil)
				s.problem = problem
			case s.node(cur.Addr) != nil:
				np := s.node(cur.Addr)
				for _, n := range s.Nodes {
					if n == np {
						n.role.Store(uint32(RolePrimary))
					} else {
						n.role.Store(uint32(RoleReplica))
					}
				}
				s.primary.Store(np)
			}
		}
		s.rebuildReplicas()
		ns.Slices[s.Name] = s
	}
	ns.Default = ns.Slices[nc.DefaultSlice]
	rules, err := shard.Build(nc)
	if err != nil {
		return nil, fmt.Errorf("namespace %s: %w", nc.Name, err)
	}
	if rules.HasRules() {
		ns.Rules = rules
	}
	if err := ns.buildShadow(old); err != nil {
		return nil, err
	}
	return ns, nil
}

// node returns the slice's node with the given address, or nil (also for a
// nil slice).
func (s *Slice) node(addr string) *Node {
	if s == nil {
		return nil
	}
	for _, n := range s.Nodes {
		if n.Addr == addr {
			return n
		}
	}
	return nil
}

// roleOr returns the node's role, or def for a nil node.
func (n *Node) roleOr(def Role) Role {
	if n == nil {
		return def
	}
	return n.Role()
}

// Close closes every pool.
func (t *Topology) Close() {
	t.EachNode(func(_ *Namespace, _ *Slice, n *Node) { n.close() })
}

// EachNode calls fn for every node, the nodes of shadow sides included
// (their ns is the shadow side, whose Name is the namespace's).
func (t *Topology) EachNode(fn func(ns *Namespace, s *Slice, n *Node)) {
	for _, ns := range t.Namespaces {
		for _, side := range []*Namespace{ns, ns.Shadow} {
			if side == nil {
				continue
			}
			for _, s := range side.Slices {
				for _, n := range s.Nodes {
					fn(side, s, n)
				}
			}
		}
	}
}
