package monitor

import (
	"log/slog"
	"testing"

	"github.com/switchyard-db/switchyard/internal/config"
	"github.com/switchyard-db/switchyard/internal/topology"
)

// A follower never promotes a node on its own: it holds writes until the
// leader publishes the node; a monitor that decides (leader, degraded
// mode) promotes and reports its decision.
func TestFollowerPromotesOnlyPublished(t *testing.T) {
	cfg, err := config.Parse([]byte(`namespaces:
  - name: ns
    users: [{name: u}]
    backend: {user: b}
    slices: [{name: s0, primary: 127.0.0.1:1, replicas: ["127.0.0.1:2"]}]
`), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	topo, err := topology.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer topo.Close()
	s := topo.Namespaces["ns"].Default
	a, b := s.Nodes[0], s.Nodes[1]
	m := New(topo, nil, Options{}, slog.New(slog.DiscardHandler))
	var decided []string
	m.OnDecide(func(ns, slice, addr string) { decided = append(decided, ns+"/"+slice+"="+addr) })
	// The old primary became read-only, the replica writable (promoted
	// outside the proxy).
	failover := func() {
		m.mu.Lock()
		m.nodes[a].st = NodeState{Up: true, Checked: true, ReadOnly: true}
		m.nodes[b].st = NodeState{Up: true, Checked: true, ReadOnly: false}
		m.mu.Unlock()
	}
	failover()

	m.SetFollower(true)
	m.evaluate(s)
	if p := s.Primary(); p != nil {
		t.Fatalf("a follower promoted %s on its own", p.Addr)
	}
	m.Published("ns", "s0", b.Addr)
	if p := s.Primary(); p != b {
		t.Fatalf("the follower did not follow the published primary: %v", p)
	}
	if len(decided) != 0 {
		t.Fatalf("a follower published decisions: %v", decided)
	}
	// An empty publication (planned switchover) holds writes.
	m.Published("ns", "s0", "")
	if s.Primary() != nil {
		t.Fatal("an empty publication did not hold writes")
	}

	// Deciding alone (leader or degraded mode): the monitor promotes the
	// writable node and reports it.
	s.SetPrimary(a, "")
	m.SetFollower(false)
	m.evaluate(s)
	if p := s.Primary(); p != b || len(decided) != 1 || decided[0] != "ns/s0=127.0.0.1:2" {
		t.Fatalf("leader: primary %v, decisions %v", p, decided)
	}
}
