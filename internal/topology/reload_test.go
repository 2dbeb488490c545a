package topology

import (
	"context"
	"fmt"
	"testing"

	"github.com/switchyard-db/switchyard/internal/config"
)

func parseNS(t *testing.T, body string) *config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte("namespaces:\n"+body), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

const (
	nsA = `  - name: a
    users: [{name: ua}]
    backend: {user: b}
    slices: [{name: s0, primary: 127.0.0.1:1, replicas: ["127.0.0.1:2"]}]
`
	nsB = `  - name: b
    users: [{name: ub}]
    backend: {user: b}
    slices: [{name: s0, primary: 127.0.0.1:11, replicas: [%s]}]
`
)

func TestRebuild(t *testing.T) {
	old, err := New(parseNS(t, nsA+fmt.Sprintf(nsB, `"127.0.0.1:12", "127.0.0.1:13"`)))
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	oldB := old.Namespaces["b"].Default
	// The monitor followed a failover to 127.0.0.1:12 since the file was written.
	oldB.SetPrimary(oldB.Nodes[1], "")
	oldPrimaryPool := oldB.Nodes[1].Pool(false)
	removedPool := oldB.Nodes[2].Pool(false)

	// b loses the replica 127.0.0.1:13 and gains 127.0.0.1:14; a is unchanged;
	// c is new.
	nsC := "  - name: c\n    users: [{name: uc}]\n    backend: {user: b}\n    slices: [{name: s0, primary: 127.0.0.1:21}]\n"
	nt, ch, err := Rebuild(old, parseNS(t, nsA+fmt.Sprintf(nsB, `"127.0.0.1:12", "127.0.0.1:14"`)+nsC))
	if err != nil {
		t.Fatal(err)
	}
	if nt.Namespaces["a"] != old.Namespaces["a"] {
		t.Error("an unchanged namespace was rebuilt")
	}
	if fmt.Sprint(ch.Added, ch.Changed, ch.Removed, ch.Kept) != "[c] [b] [] [a]" {
		t.Errorf("change = added %v changed %v removed %v kept %v", ch.Added, ch.Changed, ch.Removed, ch.Kept)
	}
	b := nt.Namespaces["b"].Default
	if b == oldB {
		t.Fatal("a changed slice was reused")
	}
	if p := b.Primary(); p == nil || p.Addr != "127.0.0.1:12" {
		t.Fatalf("the running primary was not kept: %v", p)
	}
	if b.Nodes[0].Role() != RoleReplica || b.Nodes[1].Role() != RolePrimary {
		t.Error("roles do not follow the running primary")
	}
	if b.Nodes[1].Pool(false) != oldPrimaryPool {
		t.Error("a kept node got a new pool")
	}
	if ch.RetiredNodes() != 1 {
		t.Fatalf("retired %d nodes, want 1 (127.0.0.1:13)", ch.RetiredNodes())
	}
	ch.Retire()
	if _, err := removedPool.Get(context.Background()); err == nil {
		t.Error("the removed node's pool still hands out connections")
	}
	if oldPrimaryPool.Stats().MaxOpen == 0 {
		t.Error("unexpected pool stats")
	}

	// Removing a namespace retires its nodes; changing pool options retires
	// the nodes too (their pools are made again).
	nt2, ch2, err := Rebuild(nt, parseNS(t, nsA+"  - name: c\n    users: [{name: uc}]\n    backend: {user: b}\n    pool: {max_open: 3}\n    slices: [{name: s0, primary: 127.0.0.1:21}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	defer nt2.Close()
	if fmt.Sprint(ch2.Removed, ch2.Changed) != "[b] [c]" || ch2.RetiredNodes() != 4 {
		t.Errorf("removed %v changed %v retired %d", ch2.Removed, ch2.Changed, ch2.RetiredNodes())
	}
	ch2.Retire()
}
