package fleet

import (
	"context"
	"fmt"
	"strings"

	"github.com/switchyard-db/switchyard/internal/console"
)

// registerConsole gives the web console the fleet's proxy list and the
// config diff of `switchyard config diff`.
func (m *Member) registerConsole() {
	c := m.p.Console()
	c.SetProxies(func(ctx context.Context) ([]console.ProxyInfo, error) {
		list, err := m.Proxies(ctx)
		out := make([]console.ProxyInfo, 0, len(list))
		for _, p := range list {
			out = append(out, console.ProxyInfo{ID: p.ID, Version: p.Version, Address: p.Address, Admin: p.Admin,
				Revision: p.Revision, Started: p.Started, Leader: p.Leader})
		}
		return out, err
	})
	c.SetDiff(func(ctx context.Context, file []byte) (string, error) {
		return m.src.Store.Diff(ctx, file, "pasted configuration", m.o.Secret)
	})
	c.SetApply(func(ctx context.Context, file []byte) (string, error) {
		names, rev, err := m.src.Store.Put(ctx, file, "pasted configuration", m.o.Secret)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("Wrote namespaces %s at etcd revision %d; the proxies apply them as they watch.", strings.Join(names, ", "), rev), nil
	})
}
