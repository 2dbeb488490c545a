package session

import (
	"github.com/switchyard-db/switchyard/internal/metrics"
	"github.com/switchyard-db/switchyard/internal/router"
	"github.com/switchyard-db/switchyard/internal/topology"
)

// routeNote records which nodes a statement used: the route it is counted
// under is where it really ran, not where the plan first pointed.
type routeNote struct {
	slice            *topology.Slice
	many             bool // more than one slice
	primary, replica bool
}

func (r *routeNote) note(n *topology.Node) {
	if n == nil {
		return
	}
	if r.slice != nil && r.slice != n.Slice {
		r.many = true
	}
	r.slice = n.Slice
	if n.Role() == topology.RoleReplica {
		r.replica = true
	} else {
		r.primary = true
	}
}

// route is the metrics route: several slices are a scatter, else the role
// of the nodes used; a statement that used none is counted by its target.
func (r *routeNote) route(t router.Target) metrics.Route {
	switch {
	case r.many:
		return metrics.RouteScatter
	case r.primary:
		return metrics.RoutePrimary
	case r.replica:
		return metrics.RouteReplica
	}
	switch t {
	case router.TargetReplica:
		return metrics.RouteReplica
	case router.TargetProxy, router.TargetError:
		return metrics.RouteProxy
	}
	return metrics.RoutePrimary
}
