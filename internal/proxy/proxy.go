// Package proxy wires Switchyard's parts together from a configuration:
// topology and pools, metrics, authentication, the client listener and the
// admin HTTP server.
package proxy

import (
	"context"
	"crypto/tls"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/switchyard-db/switchyard/internal/admin"
	"github.com/switchyard-db/switchyard/internal/auth"
	"github.com/switchyard-db/switchyard/internal/config"
	"github.com/switchyard-db/switchyard/internal/console"
	"github.com/switchyard-db/switchyard/internal/globalcheck"
	"github.com/switchyard-db/switchyard/internal/governance"
	"github.com/switchyard-db/switchyard/internal/merge"
	"github.com/switchyard-db/switchyard/internal/metrics"
	"github.com/switchyard-db/switchyard/internal/monitor"
	"github.com/switchyard-db/switchyard/internal/protocol"
	"github.com/switchyard-db/switchyard/internal/server"
	"github.com/switchyard-db/switchyard/internal/session"
	"github.com/switchyard-db/switchyard/internal/topology"
)

// Proxy is a running Switchyard instance.
type Proxy struct {
	cfg     *config.Config
	log     *slog.Logger
	topo    *topology.Topology
	metrics *metrics.Metrics
	env     *session.Env
	server  *server.Server
	admin   *admin.Server
	monitor *monitor.Monitor
	// stopXA ends the two-phase-commit recovery loop.
	stopXA context.CancelFunc
	xaDone chan struct{}

	// Reloads (reload.go).
	applyMu   sync.Mutex
	stateMu   sync.Mutex
	state     ConfigStatus
	reloader  func() error
	drains    sync.WaitGroup
	stopDrain chan struct{}
	stopOnce  sync.Once
	// switchoverGuard refuses planned switchovers (a fleet follower).
	switchoverGuard func() error
	// console is the web console on the admin listener (console.go).
	console *console.Console
}

// New builds a proxy from a validated configuration.
func New(cfg *config.Config, log *slog.Logger) (*Proxy, error) {
	p := &Proxy{cfg: cfg, log: log, metrics: metrics.New(), stopDrain: make(chan struct{})}
	p.state.Source, p.state.Revision, p.state.Generation, p.state.AppliedAt = cfg.Source, 1, 1, time.Now()
	p.state.Namespaces = namespaceNames(cfg)
	topo, err := topology.New(cfg)
	if err != nil {
		return nil, err
	}
	p.topo = topo
	authn := auth.New(func(user string) (*config.Namespace, *config.User, bool) {
		return p.env.Current().Config.UserNamespace(user)
	}, cfg.AuthPlugin)
	authn.SetThrottle(auth.NewThrottle(cfg.LoginThrottle))
	for _, nc := range cfg.Namespaces {
		if _, closed := nc.ClientDatabases(); !closed && len(cfg.Namespaces) > 1 {
			log.Warn("namespace lists no databases (allowed_databases or sharding rules): its clients may use every database of its backend account except the reserved ones and those other namespaces list", "namespace", nc.Name)
		}
	}
	p.env = &session.Env{Topology: p.topo, Metrics: p.metrics, Log: log, Auth: authn, Config: cfg, Started: time.Now(), FailoverHold: cfg.FailoverHold,
		ProxyID: proxyID(cfg.Listen), Gate: governance.NewGate(), MergeMemory: merge.NewShared(int64(cfg.MergeMemory))}
	p.env.Gate.Limiter.Observe = p.metrics.RateLimited
	p.monitor = monitor.New(p.topo, credentials(cfg), monitor.Options{
		Interval:      cfg.Monitor.Interval,
		Timeout:       cfg.Monitor.Timeout,
		DownAfter:     cfg.Monitor.DownAfter,
		MaxReplicaLag: cfg.Monitor.MaxReplicaLag,
	}, log)
	var tlsCfg *tls.Config
	if cfg.TLS != nil {
		cert, err := tls.LoadX509KeyPair(cfg.TLS.Cert, cfg.TLS.Key)
		if err != nil {
			return nil, fmt.Errorf("loading TLS certificate: %w", err)
		}
		tlsCfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	p.server = server.New(server.Options{
		Listen:         cfg.Listen,
		TLS:            tlsCfg,
		MaxConnections: cfg.MaxConnections,
		MaxPacket:      cfg.MaxPacketSize,
		IdleTimeout:    cfg.IdleClientTimeout,
	}, p.env)
	p.metrics.RegisterPoolSource(p.poolStats)
	p.topo.EachNode(func(ns *topology.Namespace, s *topology.Slice, n *topology.Node) {
		n.SetStatementCounter(p.metrics.NodeStatements(ns.Name, s.Name, n.Addr))
	})
	p.admin = admin.New(cfg.Admin, p.metrics, p, log)
	p.admin.Handle("/api/nodes", http.HandlerFunc(p.handleNodes))
	p.admin.Handle("/api/switchover", http.HandlerFunc(p.handleSwitchover))
	p.admin.Handle("/api/xa", http.HandlerFunc(p.handleXA))
	p.admin.Handle("/api/global-tables", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		globalcheck.Handler(p.Topology()).ServeHTTP(w, r)
	}))
	p.admin.Handle("/api/reload", http.HandlerFunc(p.handleReload))
	p.admin.Handle("GET /api/config", http.HandlerFunc(p.handleConfig))
	if err := p.startDigests(cfg); err != nil {
		p.topo.Close()
		return nil, err
	}
	p.startConsole()
	return p, nil
}

// proxyID names this proxy in XA transaction ids: a short hash of the
// host name and the listen address, so that proxies sharing a namespace
// differ.
func proxyID(listen string) string {
	host, _ := os.Hostname()
	h := fnv.New32a()
	h.Write([]byte(host + "|" + listen))
	return fmt.Sprintf("%08x", h.Sum32())
}

// xaRecoveryInterval is how often prepared XA branches are looked for.
const xaRecoveryInterval = 5 * time.Second

// recoverXA resolves prepared branches at startup and then periodically.
func (p *Proxy) recoverXA(ctx context.Context) {
	defer close(p.xaDone)
	t := time.NewTicker(xaRecoveryInterval)
	defer t.Stop()
	for {
		p.env.RecoverXA(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// handleXA serves GET /api/xa: in-doubt distributed transactions and
// their fate, per namespace.
func (p *Proxy) handleXA(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	admin.WriteJSON(w, http.StatusOK, p.env.PendingXA(ctx))
}

// backendVersion reads the version string from the greeting of the first
// backend node that answers (no login needed), or "" when none does.
func (p *Proxy) backendVersion() string {
	var v string
	p.topo.EachNode(func(ns *topology.Namespace, s *topology.Slice, n *topology.Node) {
		if v != "" {
			return
		}
		nc, err := net.DialTimeout("tcp", n.Addr, time.Second)
		if err != nil {
			return
		}
		defer nc.Close()
		_ = nc.SetDeadline(time.Now().Add(time.Second))
		pkt, err := protocol.NewConn(nc).ReadPacket()
		if err != nil {
			return
		}
		if g, err := protocol.ParseGreeting(pkt); err == nil {
			v = g.ServerVersion
		}
	})
	return v
}

// Start opens the client and admin listeners. The handshake announces the
// backends' version, read from the first node that answers.
func (p *Proxy) Start() error {
	if v := p.backendVersion(); v != "" {
		p.server.SetVersion(v)
	} else {
		p.log.Warn("no backend answered at startup; the handshake announces the default version", "version", server.DefaultServerVersion)
	}
	if err := p.server.Start(); err != nil {
		p.topo.Close()
		return fmt.Errorf("listen %s: %w", p.cfg.Listen, err)
	}
	if p.cfg.Admin.Listen != "" {
		if err := p.admin.Start(); err != nil {
			p.server.Close()
			p.topo.Close()
			return fmt.Errorf("admin listen %s: %w", p.cfg.Admin.Listen, err)
		}
	}
	p.monitor.Start()
	ctx, cancel := context.WithCancel(context.Background())
	p.stopXA, p.xaDone = cancel, make(chan struct{})
	go p.recoverXA(ctx)
	p.log.Info("switchyard started", "listen", p.server.Addr().String(), "admin", p.cfg.Admin.Listen, "namespaces", len(p.cfg.Namespaces))
	return nil
}

// Addr is the client listener's address.
func (p *Proxy) Addr() net.Addr { return p.server.Addr() }

// AdminAddr is the admin listener's address (nil when disabled).
func (p *Proxy) AdminAddr() net.Addr { return p.admin.Addr() }

// Monitor returns the node monitor.
func (p *Proxy) Monitor() *monitor.Monitor { return p.monitor }

// Metrics returns the proxy's metrics.
func (p *Proxy) Metrics() *metrics.Metrics { return p.metrics }

// Topology returns the runtime topology in use.
func (p *Proxy) Topology() *topology.Topology { return p.env.Current().Topology }

// Sessions returns the number of logged-in client sessions.
func (p *Proxy) Sessions() int { return p.env.Count() }

// Close stops listeners, ends sessions and closes backend pools.
func (p *Proxy) Close() error {
	_ = p.admin.Close()
	err := p.server.Close()
	if p.stopXA != nil {
		p.stopXA()
		<-p.xaDone
	}
	p.monitor.Stop()
	p.stopOnce.Do(func() { close(p.stopDrain) })
	p.drains.Wait()
	p.Topology().Close()
	_ = p.env.SlowLog.Close()
	return err
}

func (p *Proxy) poolStats() []metrics.PoolStats {
	var out []metrics.PoolStats
	p.Topology().EachNode(func(ns *topology.Namespace, s *topology.Slice, n *topology.Node) {
		for _, pool := range n.Pools() {
			st := pool.Stats()
			out = append(out, metrics.PoolStats{
				Namespace: ns.Name, Slice: s.Name, Node: n.Addr, Role: n.Role().String(),
				Open: st.Open, Idle: st.Idle, InUse: st.InUse, MaxOpen: st.MaxOpen,
				WaitCount: st.WaitCount, WaitDuration: st.WaitDuration, Timeouts: st.Timeouts,
			})
		}
	})
	return out
}

// NodeStatus is one node in the admin status.
type NodeStatus struct {
	Addr  string            `json:"addr"`
	Role  string            `json:"role"`
	Pools []backendPoolInfo `json:"pools"`
}

type backendPoolInfo struct {
	Open      int   `json:"open"`
	Idle      int   `json:"idle"`
	InUse     int   `json:"in_use"`
	MaxOpen   int   `json:"max_open"`
	WaitCount int64 `json:"wait_count"`
	Timeouts  int64 `json:"timeouts"`
}

// Status implements admin.Source.
func (p *Proxy) Status() any {
	type sliceStatus struct {
		Name  string       `json:"name"`
		Nodes []NodeStatus `json:"nodes"`
	}
	type nsStatus struct {
		Name   string        `json:"name"`
		Slices []sliceStatus `json:"slices"`
	}
	out := struct {
		ClientConnections int64      `json:"client_connections"`
		Sessions          int        `json:"sessions"`
		Uptime            string     `json:"uptime"`
		Namespaces        []nsStatus `json:"namespaces"`
	}{ClientConnections: p.server.Connections(), Sessions: p.env.Count(), Uptime: time.Since(p.env.Started).Round(time.Second).String()}
	cur := p.env.Current()
	for _, nc := range cur.Config.Namespaces {
		ns := cur.Topology.Namespaces[nc.Name]
		st := nsStatus{Name: ns.Name}
		for _, sc := range nc.Slices {
			sl := ns.Slices[sc.Name]
			ss := sliceStatus{Name: sl.Name}
			for _, n := range sl.Nodes {
				nst := NodeStatus{Addr: n.Addr, Role: n.Role().String()}
				for _, pool := range n.Pools() {
					x := pool.Stats()
					nst.Pools = append(nst.Pools, backendPoolInfo{x.Open, x.Idle, x.InUse, x.MaxOpen, x.WaitCount, x.Timeouts})
				}
				ss.Nodes = append(ss.Nodes, nst)
			}
			st.Slices = append(st.Slices, ss)
		}
		out.Namespaces = append(out.Namespaces, st)
	}
	return out
}

// handleNodes serves GET /api/nodes: the monitor's view of every node.
func (p *Proxy) handleNodes(w http.ResponseWriter, r *http.Request) {
	admin.WriteJSON(w, http.StatusOK, p.monitor.States())
}

// handleSwitchover serves POST /api/switchover?namespace=N&slice=S&target=HOST:PORT.
func (p *Proxy) handleSwitchover(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		admin.WriteJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "use POST"})
		return
	}
	q := r.URL.Query()
	res, code, err := p.Switchover(r.Context(), q.Get("namespace"), q.Get("slice"), q.Get("target"))
	switch {
	case err != nil && code == http.StatusInternalServerError:
		admin.WriteJSON(w, code, map[string]any{"error": err.Error(), "result": res})
		return
	case err != nil:
		admin.WriteJSON(w, code, map[string]string{"error": err.Error()})
		return
	}
	admin.WriteJSON(w, http.StatusOK, res)
}
