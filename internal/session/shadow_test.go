package session

import (
	"testing"

	"github.com/switchyard-db/switchyard/internal/config"
	"github.com/switchyard-db/switchyard/internal/topology"
)

func shadowTopology(t *testing.T) *topology.Namespace {
	t.Helper()
	cfg, err := config.Parse([]byte(`
namespaces:
  - name: ns
    users: [{name: u}]
    backend: {user: b}
    default_slice: s0
    slices: [{name: s0, primary: 127.0.0.1:1}, {name: s1, primary: 127.0.0.1:2}]
    shadow: {slices: [{name: s0, primary: 127.0.0.1:11}, {name: s1, primary: 127.0.0.1:12}]}
`), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tp, err := topology.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tp.Close)
	return tp.Namespaces["ns"]
}

// A reload keeps per-slice session state on its side: production and
// shadow slices share names.
func TestRemapSlicesKeepsSides(t *testing.T) {
	old, next := shadowTopology(t), shadowTopology(t)
	m := map[*topology.Slice]string{
		old.Slices["s0"]:        "prod-s0",
		old.Shadow.Slices["s0"]: "shadow-s0",
		old.Shadow.Slices["s1"]: "shadow-s1",
	}
	for _, target := range []*topology.Namespace{next, next.Shadow} {
		got := remapSlices(m, target)
		if len(got) != 3 || got[next.Slices["s0"]] != "prod-s0" || got[next.Shadow.Slices["s0"]] != "shadow-s0" || got[next.Shadow.Slices["s1"]] != "shadow-s1" {
			t.Fatalf("remap onto shadow=%v: %v", target.IsShadow(), got)
		}
	}
	if sameSide(next, old.Shadow) != next.Shadow || sameSide(next, old) != next {
		t.Fatal("sameSide")
	}
}
