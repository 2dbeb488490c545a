package topology

import (
	"testing"

	"github.com/switchyard-db/switchyard/internal/config"
)

const shadowYAML = `
namespaces:
  - name: ns
    users: [{name: u}]
    backend: {user: b}
    default_slice: s0
    slices:
      - {name: s0, primary: 127.0.0.1:1, replicas: ["127.0.0.1:2"]}
      - {name: s1, primary: 127.0.0.1:3}
    databases:
      - name: d
        tables: [{name: t, type: sharded, key: id, algorithm: hash, slices: [s0, s1], tables_per_slice: 2}]
    shadow:
      slices:
        - {name: s0, primary: 127.0.0.1:11, replicas: ["127.0.0.1:12"]}
        - {name: s1, primary: `

func parseShadow(t *testing.T, s1 string) *config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte(shadowYAML+s1+"}\n"), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestShadowSide(t *testing.T) {
	tp, err := New(parseShadow(t, "127.0.0.1:13"))
	if err != nil {
		t.Fatal(err)
	}
	defer tp.Close()
	ns := tp.Namespaces["ns"]
	sh := ns.Shadow
	if sh == nil || !sh.IsShadow() || ns.IsShadow() || sh.Name != "ns" || sh.Rules == nil || sh.Rules == ns.Rules {
		t.Fatalf("shadow side: %+v", sh)
	}
	if ns.Side(true) != sh || sh.Side(false) != ns || sh.Side(true) != sh || ns.Side(false) != ns {
		t.Fatal("Side")
	}
	if sh.Default.Name != "s0" || sh.Default.Primary().Addr != "127.0.0.1:11" || sh.Slices["s1"].Primary().Addr != "127.0.0.1:13" {
		t.Fatalf("shadow slices: %v %v", sh.Default.Primary().Addr, sh.Slices["s1"].Primary().Addr)
	}
	// Every node, production and shadow, is visited once (monitor, pools).
	var got []string
	tp.EachNode(func(side *Namespace, s *Slice, n *Node) {
		if (side == sh) != (len(n.Addr) > len("127.0.0.1:9")) || s.Namespace != side {
			t.Errorf("node %s visited with the wrong side", n.Addr)
		}
		got = append(got, n.Addr)
	})
	if len(got) != 6 {
		t.Fatalf("EachNode: %v", got)
	}
}

func TestShadowReload(t *testing.T) {
	old, err := New(parseShadow(t, "127.0.0.1:13"))
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	// The shadow slice s1 moves to another server: its pools retire, the
	// others are kept.
	tp, ch, err := Rebuild(old, parseShadow(t, "127.0.0.1:14"))
	if err != nil {
		t.Fatal(err)
	}
	defer tp.Close()
	if len(ch.Changed) != 1 || ch.RetiredNodes() != 1 {
		t.Fatalf("change: %+v, retired %d", ch, ch.RetiredNodes())
	}
	o, n := old.Namespaces["ns"].Shadow, tp.Namespaces["ns"].Shadow
	if n.Slices["s1"].Primary().Addr != "127.0.0.1:14" || n.Default.Primary().ps != o.Default.Primary().ps {
		t.Fatal("shadow nodes not rebuilt from the running ones")
	}
	if n.Production != tp.Namespaces["ns"] {
		t.Fatal("shadow side points at the old production namespace")
	}
}
