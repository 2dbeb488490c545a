package topology

import (
	"testing"

	"github.com/switchyard-db/switchyard/internal/config"
)

func testTopology(t *testing.T, primaryReads string) *Topology {
	t.Helper()
	cfg, err := config.Parse([]byte(`
namespaces:
  - name: ns
    users: [{name: u}]
    backend: {user: b}
    primary_reads: `+primaryReads+`
    slices: [{name: s0, primary: 127.0.0.1:1, replicas: ["127.0.0.1:2", "127.0.0.1:3@2"]}]
`), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tp, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tp.Close)
	return tp
}

func TestReplicaRotation(t *testing.T) {
	tp := testTopology(t, "fallback")
	s := tp.Namespaces["ns"].Default
	r1, r2 := s.Nodes[1], s.Nodes[2]
	count := map[string]int{}
	for i := 0; i < 300; i++ {
		count[s.PickReplica().Addr]++
	}
	if count[r1.Addr] != 100 || count[r2.Addr] != 200 {
		t.Fatalf("weights 1:2 gave %v", count)
	}
	// Down and lagging change together: both are recorded.
	s.SetHealth(r1, true, true)
	s.SetHealth(r1, false, true)
	for i := 0; i < 10; i++ {
		if s.PickReplica() == r1 {
			t.Fatal("a lagging replica is in the rotation")
		}
	}
	s.SetHealth(r2, true, false)
	if r := s.PickReplica(); r != nil {
		t.Fatalf("no replica is usable, got %s", r.Addr)
	}
	s.SetHealth(r1, false, false)
	if s.PickReplica() != r1 {
		t.Fatal("a recovered replica did not come back")
	}
}

func TestPrimaryReadsAlways(t *testing.T) {
	tp := testTopology(t, "always")
	s := tp.Namespaces["ns"].Default
	seen := false
	for i := 0; i < 10; i++ {
		if s.PickReplica() == s.Primary() {
			seen = true
		}
	}
	if !seen {
		t.Fatal("primary_reads: always but the primary never serves reads")
	}
}
