package monitor

import "github.com/switchyard-db/switchyard/internal/topology"

// addNode starts tracking n (not its checks: see Start and Update).
// Callers hold m.mu or own m exclusively.
func (m *Monitor) addNode(ns *topology.Namespace, s *topology.Slice, n *topology.Node) *nodeMon {
	nm := &nodeMon{node: n, ns: ns.Name, creds: m.creds[ns.Name], quit: make(chan struct{}),
		st: NodeState{Namespace: ns.Name, Slice: s.Name, Addr: n.Addr, Up: true, LagSeconds: -1}}
	m.nodes[n] = nm
	if m.slices[s] == nil {
		m.slices[s] = &sliceMon{}
	}
	return nm
}

// sliceMon returns the monitor state of a slice, nil when the slice is not
// (any more) in the monitored topology.
func (m *Monitor) sliceMon(s *topology.Slice) *sliceMon {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.slices[s]
}

// Update makes the monitor check the nodes of topo (a reloaded topology):
// nodes it already checks (kept by the reload) keep their state and
// checks, new nodes are checked from now on, and the checks of nodes that
// left stop. creds are the backend credentials of every namespace of topo.
// It must be called after Start.
func (m *Monitor) Update(topo *topology.Topology, creds map[string]Credentials) {
	var start []*nodeMon
	m.mu.Lock()
	m.topo, m.creds = topo, creds
	keep := map[*topology.Node]bool{}
	keepSlices := map[*topology.Slice]bool{}
	topo.EachNode(func(ns *topology.Namespace, s *topology.Slice, n *topology.Node) {
		keep[n], keepSlices[s] = true, true
		if m.nodes[n] == nil {
			start = append(start, m.addNode(ns, s, n))
		}
	})
	for n, nm := range m.nodes {
		if !keep[n] {
			close(nm.quit)
			delete(m.nodes, n)
		}
	}
	for s := range m.slices {
		if !keepSlices[s] {
			delete(m.slices, s)
		}
	}
	m.mu.Unlock()
	select {
	case <-m.stop:
		return
	default:
	}
	for _, nm := range start {
		m.wg.Add(1)
		go m.run(nm)
	}
}
