// Package monitor watches every backend node on its own connection and
// keeps the runtime topology true: which node of each slice is the writable
// primary (following a promotion without restart), which nodes are down,
// and how far replicas lag. It also performs planned switchovers.
package monitor

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchyard-db/switchyard/internal/backend"
	"github.com/switchyard-db/switchyard/internal/gtid"
	"github.com/switchyard-db/switchyard/internal/topology"
)

// Options tune the checks.
type Options struct {
	// Interval between checks of one node (default 500ms).
	Interval time.Duration
	// Timeout bounds one check: connect, queries and replies (default:
	// Interval). A frozen host that answers nothing fails its check here.
	Timeout time.Duration
	// DownAfter is how many consecutive failed checks mark a node down
	// (default 2).
	DownAfter int
	// MaxReplicaLag excludes replicas further behind from reads (0 = no
	// limit).
	MaxReplicaLag time.Duration
}

func (o *Options) defaults() {
	if o.Interval <= 0 {
		o.Interval = 500 * time.Millisecond
	}
	if o.Timeout <= 0 {
		o.Timeout = o.Interval
	}
	if o.DownAfter <= 0 {
		o.DownAfter = 2
	}
}

// Credentials are a user and password toward backend nodes.
type Credentials struct{ User, Password string }

// NodeState is what the monitor last learned about a node.
type NodeState struct {
	Namespace  string    `json:"namespace"`
	Slice      string    `json:"slice"`
	Addr       string    `json:"addr"`
	Role       string    `json:"role"`
	Up         bool      `json:"up"`
	Checked    bool      `json:"checked"`
	ReadOnly   bool      `json:"read_only"`
	Failures   int       `json:"failures"`
	LastError  string    `json:"last_error,omitempty"`
	LastCheck  time.Time `json:"last_check"`
	Version    string    `json:"version,omitempty"`
	BinlogPos  string    `json:"gtid_binlog_pos,omitempty"`
	CurrentPos string    `json:"gtid_current_pos,omitempty"`
	SlavePos   string    `json:"gtid_slave_pos,omitempty"`
	Source     string    `json:"source,omitempty"`
	IORunning  bool      `json:"io_running"`
	SQLRunning bool      `json:"sql_running"`
	// LagSeconds is Seconds_Behind_Master (-1 when unknown or not replicating).
	LagSeconds int64 `json:"lag_seconds"`
	Lagging    bool  `json:"lagging"`
	// Aurora: the node is an Aurora MySQL instance; AuroraID is its
	// @@aurora_server_id and AuroraWriter the writer's, both as the node
	// reads them from information_schema.replica_host_status.
	Aurora       bool   `json:"aurora,omitempty"`
	AuroraID     string `json:"aurora_server_id,omitempty"`
	AuroraWriter string `json:"aurora_writer,omitempty"`
}

// Monitor checks every node of a topology.
type Monitor struct {
	topo  *topology.Topology
	opts  Options
	log   *slog.Logger
	creds map[string]Credentials // namespace -> backend credentials

	mu     sync.Mutex
	nodes  map[*topology.Node]*nodeMon
	slices map[*topology.Slice]*sliceMon

	stop chan struct{}
	wg   sync.WaitGroup

	// Fleet mode (leader.go).
	fleet fleetState
}

type nodeMon struct {
	node  *topology.Node
	ns    string
	creds Credentials
	conn  *backend.Conn
	st    NodeState // guarded by Monitor.mu
	// catchUp is the primary's position when the node came back after being
	// down: it serves no reads until it has applied that much.
	catchUp string
	// notAurora: the node has no replica_host_status (asked once).
	notAurora bool
	// quit ends this node's checks (the node left the topology).
	quit chan struct{}
}

type sliceMon struct {
	// switching is held during a planned switchover: the monitor does not
	// change the slice's primary meanwhile.
	switching sync.Mutex
	// gen changes when a switchover rewrites the slice's roles: probe
	// results begun before are stale and dropped.
	gen      atomic.Uint64
	splitLog time.Time
}

// New creates a monitor; creds gives the backend credentials of each
// namespace.
func New(topo *topology.Topology, creds map[string]Credentials, opts Options, log *slog.Logger) *Monitor {
	opts.defaults()
	m := &Monitor{topo: topo, opts: opts, log: log, creds: creds, nodes: map[*topology.Node]*nodeMon{}, slices: map[*topology.Slice]*sliceMon{}, stop: make(chan struct{})}
	topo.EachNode(func(ns *topology.Namespace, s *topology.Slice, n *topology.Node) {
		m.addNode(ns, s, n)
	})
	return m
}

// Start begins checking every node.
func (m *Monitor) Start() {
	for _, nm := range m.nodes {
		m.wg.Add(1)
		go m.run(nm)
	}
}

// Stop ends the checks and closes the monitor's connections.
func (m *Monitor) Stop() {
	select {
	case <-m.stop:
		return
	default:
	}
	close(m.stop)
	m.wg.Wait()
}

// States returns the last known state of every node, sorted.
func (m *Monitor) States() []NodeState {
	m.mu.Lock()
	out := make([]NodeState, 0, len(m.nodes))
	for _, nm := range m.nodes {
		st := nm.st
		st.Role = nm.node.Role().String()
		out = append(out, st)
	}
	m.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		if a.Slice != b.Slice {
			return a.Slice < b.Slice
		}
		return a.Addr < b.Addr
	})
	return out
}

// State returns the last known state of one node.
func (m *Monitor) State(n *topology.Node) (NodeState, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	nm := m.nodes[n]
	if nm == nil {
		return NodeState{}, false
	}
	return nm.st, true
}

func (m *Monitor) run(nm *nodeMon) {
	defer m.wg.Done()
	defer func() {
		if nm.conn != nil {
			nm.conn.Close()
		}
	}()
	t := time.NewTimer(m.opts.Interval)
	defer t.Stop()
	for {
		start := time.Now()
		m.check(nm)
		// Checks start every interval (a check that waited for its timeout
		// is followed by the next at once). While the slice has no primary
		// (writes are held), look five times as often, so that held
		// statements run soon after a new primary becomes writable.
		wait := m.opts.Interval
		if nm.node.Slice.Primary() == nil {
			wait = max(m.opts.Interval/5, 50*time.Millisecond)
		}
		t.Reset(max(wait-time.Since(start), 0))
		select {
		case <-m.stop:
			return
		case <-nm.quit:
			return
		case <-t.C:
		case <-nm.node.Poked():
		}
	}
}

// check runs one round of queries against a node and updates its slice.
func (m *Monitor) check(nm *nodeMon) {
	sm := m.sliceMon(nm.node.Slice)
	if sm == nil {
		return // the slice left the topology
	}
	gen := sm.gen.Load()
	st, err := m.probe(nm)
	m.mu.Lock()
	if sm.gen.Load() != gen {
		// A switchover changed the slice while this probe ran.
		m.mu.Unlock()
		return
	}
	prev := nm.st
	now := time.Now()
	if err != nil {
		if nm.conn != nil {
			nm.conn.MarkBroken()
			nm.conn.Close()
			nm.conn = nil
		}
		nm.st.Failures++
		nm.st.LastError = err.Error()
		nm.st.LastCheck = now
		if nm.st.Failures >= m.opts.DownAfter {
			nm.st.Up = false
		}
	} else {
		st.Namespace, st.Slice, st.Addr = prev.Namespace, prev.Slice, prev.Addr
		st.Up, st.Checked, st.LastCheck = true, true, now
		nm.node.SetGTID(st.CurrentPos)
		primaryPos := ""
		if p := nm.node.Slice.Primary(); p != nil && p != nm.node && m.nodes[p] != nil {
			primaryPos = m.nodes[p].st.BinlogPos
		}
		if !prev.Up && prev.Checked {
			// Back after being down: it may be far behind.
			nm.catchUp = primaryPos
		}
		if nm.catchUp != "" && gtid.Covers(st.CurrentPos, nm.catchUp) {
			nm.catchUp = ""
		}
		mariadb := strings.Contains(st.Version, "MariaDB")
		switch {
		case nm.node.Slice.Primary() == nm.node:
			// The primary's reads are governed by primary_reads.
		case !st.ReadOnly:
			// A writable node that is not the primary serves no reads (a
			// returning old primary, a split brain).
			st.Lagging = true
		case mariadb && st.Source == "":
			// Read-only but replicating from nothing: not repointed yet.
			st.Lagging = true
		case nm.catchUp != "":
			st.Lagging = true
		case m.opts.MaxReplicaLag > 0 && (st.Source != "" || st.Aurora):
			// A replica whose SQL thread stopped has no known lag: it may be
			// arbitrarily stale.
			st.Lagging = st.LagSeconds < 0 || time.Duration(st.LagSeconds)*time.Second > m.opts.MaxReplicaLag
		}
		nm.st = st
	}
	cur := nm.st
	m.mu.Unlock()
	if prev.Up != cur.Up {
		if cur.Up {
			m.log.Info("backend node is up", "namespace", cur.Namespace, "slice", cur.Slice, "node", cur.Addr)
		} else {
			m.log.Warn("backend node is down", "namespace", cur.Namespace, "slice", cur.Slice, "node", cur.Addr, "failures", cur.Failures, "err", cur.LastError)
			// Statements stuck on the node fail now, not at a TCP timeout.
			if k := nm.node.KillConnections(); k > 0 {
				m.log.Warn("closed connections to a down node", "node", cur.Addr, "connections", k)
			}
		}
	}
	m.evaluate(nm.node.Slice)
}

// probe opens (or reuses) the monitor's connection and reads the node's
// state within the check timeout.
func (m *Monitor) probe(nm *nodeMon) (NodeState, error) {
	st := NodeState{LagSeconds: -1}
	deadline := time.Now().Add(m.opts.Timeout)
	addr := resolve(nm.node.Addr)
	if nm.conn != nil && nm.conn.Addr != addr {
		// The name now points elsewhere (a cluster endpoint moved): check
		// the new address.
		nm.conn.Close()
		nm.conn = nil
	}
	if nm.conn == nil {
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		c, err := backend.Dial(ctx, addr, backend.DialOptions{User: nm.creds.User, Password: nm.creds.Password, ConnectTimeout: m.opts.Timeout})
		cancel()
		if err != nil {
			return st, err
		}
		nm.conn = c
	}
	c := nm.conn
	_ = c.Conn.Conn.SetDeadline(deadline)
	defer func() {
		if nm.conn != nil {
			_ = nm.conn.Conn.Conn.SetDeadline(time.Time{})
		}
	}()
	st.Version = c.Version
	if c.IsMariaDB() {
		_, rows, err := c.QueryRows("SELECT @@global.read_only, @@global.gtid_binlog_pos, @@global.gtid_current_pos, @@global.gtid_slave_pos")
		if err != nil {
			return st, err
		}
		if len(rows) == 1 {
			st.ReadOnly = rows[0][0] == "1"
			st.BinlogPos, st.CurrentPos, st.SlavePos = rows[0][1], rows[0][2], rows[0][3]
		}
	} else {
		_, rows, err := c.QueryRows("SELECT @@global.read_only OR @@global.innodb_read_only, @@global.gtid_executed")
		if err != nil {
			return st, err
		}
		if len(rows) == 1 {
			st.ReadOnly = rows[0][0] == "1"
			st.BinlogPos = rows[0][1]
			st.CurrentPos = st.BinlogPos
		}
		if !nm.notAurora {
			// Aurora MySQL: the cluster's own view of its writer and of
			// each replica's lag (replicas have no SHOW SLAVE STATUS).
			_, ids, err := c.QueryRows("SELECT @@aurora_server_id")
			var hosts [][]string
			if err == nil {
				_, hosts, err = c.QueryRows("SELECT SERVER_ID, SESSION_ID, REPLICA_LAG_IN_MILLISECONDS FROM information_schema.replica_host_status")
			}
			switch {
			case err == nil && len(ids) == 1:
				auroraState(&st, ids[0][0], hosts)
				return st, nil
			case c.Broken():
				return st, err
			default:
				nm.notAurora = true
			}
		}
	}
	cols, rows, err := c.QueryRows("SHOW SLAVE STATUS")
	if err != nil {
		return st, err
	}
	if len(rows) > 0 {
		get := func(name string) string {
			for i, c := range cols {
				if c == name && i < len(rows[0]) {
					return rows[0][i]
				}
			}
			return ""
		}
		host, port := get("Master_Host"), get("Master_Port")
		if host != "" {
			st.Source = net.JoinHostPort(host, port)
		}
		st.IORunning = get("Slave_IO_Running") == "Yes"
		st.SQLRunning = get("Slave_SQL_Running") == "Yes"
		if v, err := strconv.ParseInt(get("Seconds_Behind_Master"), 10, 64); err == nil && st.SQLRunning {
			st.LagSeconds = v
		}
	}
	return st, nil
}

// auroraState reads Aurora's replica_host_status rows (SERVER_ID,
// SESSION_ID, REPLICA_LAG_IN_MILLISECONDS) as seen by the instance id: the
// writer is the row whose SESSION_ID is MASTER_SESSION_ID. A node that
// says it is writable but is not the writer in its own view is treated as
// read-only (the writer is confirmed on the writer itself).
func auroraState(st *NodeState, id string, rows [][]string) {
	st.Aurora, st.AuroraID = true, id
	st.LagSeconds = -1
	for _, r := range rows {
		if len(r) < 3 {
			continue
		}
		if r[1] == "MASTER_SESSION_ID" {
			st.AuroraWriter = r[0]
		}
		if r[0] == id && r[1] != "MASTER_SESSION_ID" {
			if ms, err := strconv.ParseFloat(r[2], 64); err == nil {
				st.LagSeconds = int64((ms + 999) / 1000)
			}
		}
	}
	if st.AuroraWriter == id {
		st.LagSeconds = 0
	} else if !st.ReadOnly {
		st.ReadOnly = true
	}
}

// resolve looks a host name up again on every check, so DNS changes
// (cluster endpoints) are followed.
func resolve(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || net.ParseIP(host) != nil {
		return addr
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	ips, err := net.DefaultResolver.LookupHost(ctx, host)
	if err != nil || len(ips) == 0 {
		return addr
	}
	return net.JoinHostPort(ips[0], port)
}

// evaluate decides the slice's primary from its nodes' states: the one
// writable node that is up. With none, writes wait; with two, writes stop.
func (m *Monitor) evaluate(s *topology.Slice) {
	sm := m.sliceMon(s)
	if sm == nil || !sm.switching.TryLock() {
		return // a planned switchover owns the slice
	}
	defer sm.switching.Unlock()
	m.mu.Lock()
	var writable []*topology.Node
	states := map[*topology.Node]NodeState{}
	for _, n := range s.Nodes {
		nm := m.nodes[n]
		if nm == nil {
			m.mu.Unlock()
			return // the slice left the topology
		}
		st := nm.st
		states[n] = st
		// A node never checked yet keeps its configured role.
		isWritable := st.Up && (st.Checked && !st.ReadOnly || !st.Checked && n.Role() == topology.RolePrimary && s.Primary() == n)
		if isWritable {
			writable = append(writable, n)
		}
	}
	m.mu.Unlock()
	for _, n := range s.Nodes {
		st := states[n]
		s.SetHealth(n, !st.Up, st.Lagging)
	}
	cur := s.Primary()
	switch len(writable) {
	case 1:
		w := writable[0]
		if cur != w {
			if !m.mayPromote(s, w) {
				// In a fleet, only the leader's decision promotes: stop
				// writing to the old primary and wait for it.
				if cur != nil {
					s.SetPrimary(nil, fmt.Sprintf("the primary %s is no longer writable; waiting for the fleet leader to publish the new one", cur.Addr))
					cur.KillConnections()
					m.log.Warn("slice holds writes until the fleet leader publishes its primary", "slice", s.Name, "old", cur.Addr, "writable", w.Addr)
				}
				return
			}
			if cur != nil {
				cur.KillConnections()
			}
			s.SetPrimary(w, "")
			m.log.Warn("slice follows a new primary", "slice", s.Name, "old", addrOf(cur), "new", w.Addr)
			m.decided(s, w)
		}
	case 0:
		if cur != nil {
			st := states[cur]
			reason := "the primary is down"
			if st.Up {
				reason = "the primary became read-only"
			}
			s.SetPrimary(nil, fmt.Sprintf("%s (%s); waiting for a writable node", reason, cur.Addr))
			cur.KillConnections()
			m.log.Warn("slice has no writable primary; holding writes", "slice", s.Name, "old", cur.Addr, "reason", reason)
		}
	default:
		var addrs []string
		for _, n := range writable {
			addrs = append(addrs, n.Addr)
		}
		reason := "several writable nodes: " + strings.Join(addrs, ", ") + "; writes are stopped until only one is writable"
		if cur != nil {
			s.SetPrimary(nil, reason)
			cur.KillConnections()
		}
		if time.Since(sm.splitLog) > 10*time.Second {
			sm.splitLog = time.Now()
			m.log.Error("SPLIT BRAIN: slice has more than one writable node", "slice", s.Name, "nodes", strings.Join(addrs, ","))
		}
	}
}

func addrOf(n *topology.Node) string {
	if n == nil {
		return ""
	}
	return n.Addr
}
