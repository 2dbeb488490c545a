package proxy

import (
	"context"
	"errors"
	"net/http"

	"github.com/switchyard-db/switchyard/internal/console"
	"github.com/switchyard-db/switchyard/internal/globalcheck"
	"github.com/switchyard-db/switchyard/internal/monitor"
	"github.com/switchyard-db/switchyard/internal/topology"
)

// startConsole registers the web console on the admin listener, fed by
// the same functions as the /api/ endpoints.
func (p *Proxy) startConsole() {
	p.console = console.New(console.Options{
		Self: func() console.ProxyInfo {
			info := console.ProxyInfo{ID: p.env.ProxyID, Revision: p.Revision(), Started: p.env.Started}
			if a := p.server.Addr(); a != nil {
				info.Address = a.String()
			}
			if a := p.admin.Addr(); a != nil {
				info.Admin = a.String()
			}
			return info
		},
		Config: func() console.ConfigInfo {
			s := p.ConfigStatus()
			return console.ConfigInfo{Source: s.Source, Revision: s.Revision, Generation: s.Generation, AppliedAt: s.AppliedAt,
				Namespaces: s.Namespaces, LastError: s.LastError, LastErrorAt: s.LastErrorAt, LastErrorRevision: s.LastErrorRevision,
				Draining: s.Draining, Applied: s.Applied, Rejected: s.Rejected}
		},
		Nodes:     func() []monitor.NodeState { return p.monitor.States() },
		Gatherer:  p.metrics.Registry,
		Digests:   p.env.Digests,
		PendingXA: p.env.PendingXA,
		GlobalCheck: func(ctx context.Context, namespace, table string) (*globalcheck.Report, error) {
			return globalcheck.CheckTopology(ctx, p.Topology(), globalcheck.Options{Namespace: namespace, Table: table})
		},
		Switchover: func(ctx context.Context, namespace, slice, target string) (monitor.SwitchoverResult, error) {
			res, _, err := p.Switchover(ctx, namespace, slice, target)
			return res, err
		},
		Reload: p.Reload,
	})
	p.console.Register(p.admin.Handle)
}

// Console returns the web console (the fleet sets its proxy lister and
// config differ on it).
func (p *Proxy) Console() *console.Console { return p.console }

// Switchover makes target the primary of a slice (POST /api/switchover,
// the console). On error, code is the HTTP status that fits it.
func (p *Proxy) Switchover(ctx context.Context, namespace, sliceName, target string) (monitor.SwitchoverResult, int, error) {
	ns := p.Topology().Namespaces[namespace]
	if ns == nil {
		return monitor.SwitchoverResult{}, http.StatusNotFound, errors.New("unknown namespace " + namespace)
	}
	slice := ns.Slices[sliceName]
	if slice == nil {
		return monitor.SwitchoverResult{}, http.StatusNotFound, errors.New("unknown slice " + sliceName)
	}
	var node *topology.Node
	for _, n := range slice.Nodes {
		if n.Addr == target {
			node = n
		}
	}
	if node == nil {
		return monitor.SwitchoverResult{}, http.StatusNotFound, errors.New("target must be a node of the slice: " + target)
	}
	if p.switchoverGuard != nil {
		if err := p.switchoverGuard(); err != nil {
			return monitor.SwitchoverResult{}, http.StatusConflict, err
		}
	}
	nc := ns.Config
	if nc.AdminBackend == nil || nc.Replication == nil {
		return monitor.SwitchoverResult{}, http.StatusBadRequest, errors.New("namespace " + ns.Name + " needs admin_backend and replication credentials for a switchover")
	}
	res, err := p.monitor.Switchover(ctx, slice, node, monitor.SwitchoverOptions{
		Admin:       monitor.Credentials{User: nc.AdminBackend.User, Password: nc.AdminBackend.Password},
		Replication: monitor.Credentials{User: nc.Replication.User, Password: nc.Replication.Password},
	})
	if err != nil {
		return res, http.StatusInternalServerError, err
	}
	return res, http.StatusOK, nil
}
