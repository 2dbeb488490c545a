package globalcheck

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"sync"

	"github.com/switchyard-db/switchyard/internal/admin"
	"github.com/switchyard-db/switchyard/internal/config"
	"github.com/switchyard-db/switchyard/internal/topology"
)

// Handler serves GET /api/global-tables?namespace=NS&table=DB.TABLE&chunk=N&max_rows=N:
// the comparison of Check (never a repair) as JSON, against the slices'
// current primaries. One check runs at a time; a second request meanwhile
// gets 409.
func Handler(topo *topology.Topology) http.Handler {
	var running sync.Mutex
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			admin.WriteJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "use GET"})
			return
		}
		q := r.URL.Query()
		opts := Options{Namespace: q.Get("namespace"), Table: q.Get("table")}
		for name, dst := range map[string]*int{"chunk": &opts.Chunk, "max_rows": &opts.MaxRows} {
			if v := q.Get(name); v != "" {
				n, err := strconv.Atoi(v)
				if err != nil || n < 1 {
					admin.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": name + " must be a positive integer"})
					return
				}
				*dst = n
			}
		}
		if !running.TryLock() {
			admin.WriteJSON(w, http.StatusConflict, map[string]string{"error": "a global table check is already running"})
			return
		}
		defer running.Unlock()
		rep, err := CheckTopology(r.Context(), topo, opts)
		switch {
		case errors.Is(err, ErrUsage):
			admin.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		case err != nil:
			admin.WriteJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		default:
			admin.WriteJSON(w, http.StatusOK, rep)
		}
	})
}

// CheckTopology runs Check on the namespaces of topo (sorted by name)
// against the slices' current primaries; opts.Primary is set.
func CheckTopology(ctx context.Context, topo *topology.Topology, opts Options) (*Report, error) {
	var names []string
	for name := range topo.Namespaces {
		names = append(names, name)
	}
	sort.Strings(names)
	var nss []*config.Namespace
	for _, name := range names {
		nss = append(nss, topo.Namespaces[name].Config)
	}
	opts.Primary = func(ns *config.Namespace, slice string) string {
		if n := topo.Namespaces[ns.Name]; n != nil {
			if s := n.Slices[slice]; s != nil {
				if p := s.Primary(); p != nil {
					return p.Addr
				}
			}
		}
		return ""
	}
	return Check(ctx, nss, opts)
}
