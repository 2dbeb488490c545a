package topology

import (
	"reflect"

	"github.com/switchyard-db/switchyard/internal/config"
)

// Change says what a reload does to the running topology.
type Change struct {
	// Added, Changed, Removed and Kept name namespaces.
	Added, Changed, Removed, Kept []string
	// retired are the pool sets no node of the new topology uses: they are
	// closed (drained) by Retire once no session can use them any more.
	retired []*poolSet
}

// RetiredNodes is the number of backend nodes whose pools the change
// retires (removed nodes, or nodes whose pool options changed).
func (c *Change) RetiredNodes() int { return len(c.retired) }

// Retire closes the pools of the retired nodes: idle connections at once,
// connections in use when they are given back; later requests fail.
func (c *Change) Retire() {
	for _, ps := range c.retired {
		ps.close()
	}
}

// Rebuild returns the topology for cfg, built from the running one (old,
// which is left untouched and can keep serving the sessions that still use
// it):
//   - a namespace whose configuration did not change is reused as it is
//     (same objects, pools, primaries, health);
//   - in a changed namespace, a node whose address and pool options did not
//     change keeps its pools and health, and the slice keeps its running
//     primary when that node is still in the slice;
//   - every other node starts afresh with lazily dialled pools.
func Rebuild(old *Topology, cfg *config.Config) (*Topology, *Change, error) {
	t := &Topology{Namespaces: map[string]*Namespace{}}
	ch := &Change{}
	for _, nc := range cfg.Namespaces {
		prev := old.Namespaces[nc.Name]
		switch {
		case prev == nil:
			ch.Added = append(ch.Added, nc.Name)
		case reflect.DeepEqual(prev.Config, nc):
			ch.Kept = append(ch.Kept, nc.Name)
			t.Namespaces[nc.Name] = prev
			continue
		default:
			ch.Changed = append(ch.Changed, nc.Name)
		}
		ns, err := newNamespace(nc, prev)
		if err != nil {
			return nil, nil, err
		}
		t.Namespaces[ns.Name] = ns
	}
	for name := range old.Namespaces {
		if t.Namespaces[name] == nil {
			ch.Removed = append(ch.Removed, name)
		}
	}
	live := map[*poolSet]bool{}
	t.EachNode(func(_ *Namespace, _ *Slice, n *Node) { live[n.ps] = true })
	seen := map[*poolSet]bool{}
	old.EachNode(func(_ *Namespace, _ *Slice, n *Node) {
		if !live[n.ps] && !seen[n.ps] {
			seen[n.ps] = true
			ch.retired = append(ch.retired, n.ps)
		}
	})
	return t, ch, nil
}

// Unchanged reports whether the change keeps every namespace as it was.
func (c *Change) Unchanged() bool {
	return len(c.Added)+len(c.Changed)+len(c.Removed) == 0
}
