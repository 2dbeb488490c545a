// Package topology is the proxy's runtime view of its backends: namespaces,
// slices, and the nodes of each slice with their connection pools. The
// primary of a slice is held in an atomic pointer so that a topology change
// (failover) never needs a restart.
package topology

import (
	"sync"
	"sync/atomic"

	"github.com/switchyard-db/switchyard/internal/backend"
	"github.com/switchyard-db/switchyard/internal/config"
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

	opts  backend.PoolOptions
	mu    sync.Mutex
	pools [2]*backend.Pool // [0] plain, [1] CLIENT_FOUND_ROWS
}

// Role returns the node's current role.
func (n *Node) Role() Role { return Role(n.role.Load()) }

// Pool returns the node's pool for connections with or without
// CLIENT_FOUND_ROWS, creating it on first use.
func (n *Node) Pool(foundRows bool) *backend.Pool {
	i := 0
	if foundRows {
		i = 1
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.pools[i] == nil {
		o := n.opts
		o.Dial.FoundRows = foundRows
		if foundRows {
			o.MinIdle = 0
		}
		n.pools[i] = backend.NewPool(n.Addr, o)
	}
	return n.pools[i]
}

// Pools returns the pools created so far.
func (n *Node) Pools() []*backend.Pool {
	n.mu.Lock()
	defer n.mu.Unlock()
	var ps []*backend.Pool
	for _, p := range n.pools {
		if p != nil {
			ps = append(ps, p)
		}
	}
	return ps
}

func (n *Node) close() {
	for _, p := range n.Pools() {
		p.Close()
	}
}

// Slice is a primary with its replicas.
type Slice struct {
	Name      string
	Namespace *Namespace
	Nodes     []*Node
	primary   atomic.Pointer[Node]
	replicas  atomic.Pointer[[]*Node] // expanded by weight
	rr        atomic.Uint64
}

// Primary returns the slice's current primary.
func (s *Slice) Primary() *Node { return s.primary.Load() }

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

func (s *Slice) rebuildReplicas() {
	var wrr []*Node
	// Interleave by weight so consecutive picks spread over nodes.
	maxW := 0
	for _, n := range s.Nodes {
		if n.Role() == RoleReplica && n.Weight > maxW {
			maxW = n.Weight
		}
	}
	for round := 0; round < maxW; round++ {
		for _, n := range s.Nodes {
			if n.Role() == RoleReplica && n.Weight > round {
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
}

// Topology holds every namespace.
type Topology struct {
	Namespaces map[string]*Namespace
}

// New builds the runtime topology for cfg. Pools dial lazily.
func New(cfg *config.Config) *Topology {
	t := &Topology{Namespaces: map[string]*Namespace{}}
	for _, nc := range cfg.Namespaces {
		ns := &Namespace{Name: nc.Name, Config: nc, Slices: map[string]*Slice{}}
		opts := backend.PoolOptions{
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
		for _, sc := range nc.Slices {
			s := &Slice{Name: sc.Name, Namespace: ns}
			p := &Node{Addr: sc.Primary, Weight: 1, Slice: s, opts: opts}
			p.role.Store(uint32(RolePrimary))
			s.Nodes = append(s.Nodes, p)
			s.primary.Store(p)
			for _, r := range sc.Replicas {
				n := &Node{Addr: r.Addr, Weight: r.Weight, Slice: s, opts: opts}
				n.role.Store(uint32(RoleReplica))
				s.Nodes = append(s.Nodes, n)
			}
			s.rebuildReplicas()
			ns.Slices[s.Name] = s
		}
		ns.Default = ns.Slices[nc.DefaultSlice]
		t.Namespaces[ns.Name] = ns
	}
	return t
}

// Close closes every pool.
func (t *Topology) Close() {
	for _, ns := range t.Namespaces {
		for _, s := range ns.Slices {
			for _, n := range s.Nodes {
				n.close()
			}
		}
	}
}

// EachNode calls fn for every node.
func (t *Topology) EachNode(fn func(ns *Namespace, s *Slice, n *Node)) {
	for _, ns := range t.Namespaces {
		for _, s := range ns.Slices {
			for _, n := range s.Nodes {
				fn(ns, s, n)
			}
		}
	}
}
