// Package proxy wires Switchyard's parts together from a configuration:
// topology and pools, metrics, authentication, the client listener and the
// admin HTTP server.
package proxy

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/switchyard-db/switchyard/internal/admin"
	"github.com/switchyard-db/switchyard/internal/auth"
	"github.com/switchyard-db/switchyard/internal/config"
	"github.com/switchyard-db/switchyard/internal/metrics"
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
}

// New builds a proxy from a validated configuration.
func New(cfg *config.Config, log *slog.Logger) (*Proxy, error) {
	p := &Proxy{cfg: cfg, log: log, metrics: metrics.New()}
	p.topo = topology.New(cfg)
	authn := auth.New(func(user string) (*config.Namespace, *config.User, bool) {
		return cfg.UserNamespace(user)
	}, cfg.AuthPlugin)
	p.env = &session.Env{Topology: p.topo, Metrics: p.metrics, Log: log, Auth: authn, Config: cfg, Started: time.Now()}
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
	p.admin = admin.New(cfg.Admin, p.metrics, p, log)
	return p, nil
}

// Start opens the client and admin listeners.
func (p *Proxy) Start() error {
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
	p.log.Info("switchyard started", "listen", p.server.Addr().String(), "admin", p.cfg.Admin.Listen, "namespaces", len(p.cfg.Namespaces))
	return nil
}

// Addr is the client listener's address.
func (p *Proxy) Addr() net.Addr { return p.server.Addr() }

// AdminAddr is the admin listener's address (nil when disabled).
func (p *Proxy) AdminAddr() net.Addr { return p.admin.Addr() }

// Metrics returns the proxy's metrics.
func (p *Proxy) Metrics() *metrics.Metrics { return p.metrics }

// Topology returns the runtime topology.
func (p *Proxy) Topology() *topology.Topology { return p.topo }

// Sessions returns the number of logged-in client sessions.
func (p *Proxy) Sessions() int { return p.env.Count() }

// Close stops listeners, ends sessions and closes backend pools.
func (p *Proxy) Close() error {
	_ = p.admin.Close()
	err := p.server.Close()
	p.topo.Close()
	return err
}

func (p *Proxy) poolStats() []metrics.PoolStats {
	var out []metrics.PoolStats
	p.topo.EachNode(func(ns *topology.Namespace, s *topology.Slice, n *topology.Node) {
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
	for _, nc := range p.cfg.Namespaces {
		ns := p.topo.Namespaces[nc.Name]
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
