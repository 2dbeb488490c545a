package proxy

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/switchyard-db/switchyard/internal/admin"
	"github.com/switchyard-db/switchyard/internal/config"
	"github.com/switchyard-db/switchyard/internal/monitor"
	"github.com/switchyard-db/switchyard/internal/shard"
	"github.com/switchyard-db/switchyard/internal/topology"
)

// drainPoll is how often a drain checks whether the sessions that may
// still use retired pools have moved on.
const drainPoll = 50 * time.Millisecond

// ConfigStatus is what GET /api/config reports.
type ConfigStatus struct {
	// Source says where the configuration comes from (file name or etcd).
	Source string `json:"source"`
	// Revision is the applied configuration's revision: a counter of
	// applied changes in file mode, the etcd revision in etcd mode.
	Revision int64 `json:"revision"`
	// Generation numbers applied snapshots since start (1 = the first).
	Generation uint64    `json:"generation"`
	AppliedAt  time.Time `json:"applied_at"`
	// Namespaces are the names of the applied namespaces.
	Namespaces []string `json:"namespaces"`
	// LastError is the last rejected change (empty when the last attempt
	// was applied), with its time and revision.
	LastError         string    `json:"last_error,omitempty"`
	LastErrorAt       time.Time `json:"last_error_at,omitzero"`
	LastErrorRevision int64     `json:"last_error_revision,omitempty"`
	// Draining counts pool sets of removed nodes not closed yet.
	Draining int `json:"draining_nodes"`
	// Rejected and Applied count changes since start.
	Applied  int64 `json:"applied"`
	Rejected int64 `json:"rejected"`
}

// ConfigStatus returns what GET /api/config reports (revision, last error).
func (p *Proxy) ConfigStatus() ConfigStatus {
	p.stateMu.Lock()
	defer p.stateMu.Unlock()
	out := p.state
	out.Namespaces = append([]string(nil), p.state.Namespaces...)
	return out
}

// Config returns the configuration snapshot in use.
func (p *Proxy) Config() *config.Config { return p.env.Current().Config }

// Reload reads the configuration file again and applies it (SIGHUP,
// POST /api/reload). In etcd mode the reloader set with SetReloader is
// used instead.
func (p *Proxy) Reload() error {
	if p.reloader != nil {
		return p.reloader()
	}
	cfg, err := shard.LoadConfig(p.cfg.Source)
	if err != nil {
		p.reject(0, err)
		return err
	}
	p.stateMu.Lock()
	rev := p.state.Revision + 1
	p.stateMu.Unlock()
	return p.Apply(cfg, rev)
}

// SetReloader replaces what Reload does (etcd mode reads etcd instead of
// the file). Call before Start.
func (p *Proxy) SetReloader(fn func() error, source string) {
	p.reloader = fn
	p.stateMu.Lock()
	p.state.Source = source
	p.stateMu.Unlock()
}

// Apply makes cfg (a validated configuration) the running one, atomically,
// or rejects it and keeps the running one (the error says why; it is
// logged and reported by GET /api/config). rev is the revision reported
// for it.
func (p *Proxy) Apply(cfg *config.Config, rev int64) error {
	p.applyMu.Lock()
	defer p.applyMu.Unlock()
	cur := p.env.Current()
	if keys := config.LocalChanges(cur.Config, cfg); len(keys) > 0 {
		err := fmt.Errorf("the change touches settings read only at start (%s): restart the proxy to change them", strings.Join(keys, ", "))
		p.reject(rev, err)
		return err
	}
	topo, ch, err := topology.Rebuild(cur.Topology, cfg)
	if err != nil {
		p.reject(rev, err)
		return err
	}
	topo.EachNode(func(ns *topology.Namespace, s *topology.Slice, n *topology.Node) {
		if !n.HasStatementCounter() {
			n.SetStatementCounter(p.metrics.NodeStatements(ns.Name, s.Name, n.Addr))
		}
	})
	p.monitor.Update(topo, credentials(cfg))
	gen := p.env.Publish(cfg, topo)
	sort.Strings(ch.Removed)
	p.log.Info("configuration applied", "revision", rev, "generation", gen,
		"added", ch.Added, "changed", ch.Changed, "removed", ch.Removed, "kept", len(ch.Kept), "retired_nodes", ch.RetiredNodes())
	p.stateMu.Lock()
	p.state.Revision, p.state.Generation, p.state.AppliedAt = rev, gen, time.Now()
	p.state.Namespaces = namespaceNames(cfg)
	p.state.LastError, p.state.LastErrorAt, p.state.LastErrorRevision = "", time.Time{}, 0
	p.state.Applied++
	p.stateMu.Unlock()
	if ch.RetiredNodes() > 0 {
		p.drains.Add(1)
		p.stateMu.Lock()
		p.state.Draining += ch.RetiredNodes()
		p.stateMu.Unlock()
		go p.drain(gen, ch)
	}
	return nil
}

// drain closes the pools a change retired once no session may use the
// snapshots before gen (sessions finish their transactions on the old
// nodes first). Shutdown closes them at once.
func (p *Proxy) drain(gen uint64, ch *topology.Change) {
	defer p.drains.Done()
	t := time.NewTicker(drainPoll)
	defer t.Stop()
	for p.env.Holding(gen) > 0 {
		select {
		case <-t.C:
		case <-p.stopDrain:
			ch.Retire()
			return
		}
	}
	ch.Retire()
	p.stateMu.Lock()
	p.state.Draining -= ch.RetiredNodes()
	p.stateMu.Unlock()
	p.log.Info("removed backend nodes drained", "generation", gen, "nodes", ch.RetiredNodes())
}

// Reject records and logs a change that could not be built (etcd mode).
func (p *Proxy) Reject(rev int64, err error) { p.reject(rev, err) }

// SetRevision sets the revision reported for the configuration the proxy
// started with (etcd mode). Call before Start.
func (p *Proxy) SetRevision(rev int64) {
	p.stateMu.Lock()
	p.state.Revision = rev
	p.stateMu.Unlock()
}

// reject records and logs a configuration change that was not applied.
func (p *Proxy) reject(rev int64, err error) {
	p.log.Error("configuration change rejected; the running configuration stays", "revision", rev, "err", err)
	p.stateMu.Lock()
	p.state.LastError, p.state.LastErrorAt, p.state.LastErrorRevision = err.Error(), time.Now(), rev
	p.state.Rejected++
	p.stateMu.Unlock()
}

// Revision returns the applied configuration's revision.
func (p *Proxy) Revision() int64 {
	p.stateMu.Lock()
	defer p.stateMu.Unlock()
	return p.state.Revision
}

func namespaceNames(cfg *config.Config) []string {
	names := make([]string, 0, len(cfg.Namespaces))
	for _, ns := range cfg.Namespaces {
		names = append(names, ns.Name)
	}
	sort.Strings(names)
	return names
}

func credentials(cfg *config.Config) map[string]monitor.Credentials {
	creds := map[string]monitor.Credentials{}
	for _, nc := range cfg.Namespaces {
		creds[nc.Name] = monitor.Credentials{User: nc.Backend.User, Password: nc.Backend.Password}
	}
	return creds
}

// handleReload serves POST /api/reload: 200 with the new state, 422 with
// the reason when the change was rejected.
func (p *Proxy) handleReload(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		admin.WriteJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "use POST"})
		return
	}
	if err := p.Reload(); err != nil {
		admin.WriteJSON(w, http.StatusUnprocessableEntity, map[string]any{"error": err.Error(), "config": p.ConfigStatus()})
		return
	}
	admin.WriteJSON(w, http.StatusOK, p.ConfigStatus())
}

// handleConfig serves GET /api/config.
func (p *Proxy) handleConfig(w http.ResponseWriter, r *http.Request) {
	admin.WriteJSON(w, http.StatusOK, p.ConfigStatus())
}

// HandleAdmin adds an authenticated admin endpoint (see admin.Server.Handle).
func (p *Proxy) HandleAdmin(pattern string, h http.Handler) { p.admin.Handle(pattern, h) }

// ID names this proxy (XA transaction ids, fleet registration).
func (p *Proxy) ID() string { return p.env.ProxyID }

// Started returns when the proxy was created.
func (p *Proxy) Started() time.Time { return p.env.Started }

// SetSwitchoverGuard sets a check run before a planned switchover; an
// error refuses it with 409 (in a fleet only the leader switches over).
func (p *Proxy) SetSwitchoverGuard(fn func() error) { p.switchoverGuard = fn }
