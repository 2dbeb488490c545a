package fleet

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-db/switchyard/internal/config"
	"github.com/switchyard-db/switchyard/internal/fleet/etcdtest"
)

func testStore(t *testing.T) *Store {
	t.Helper()
	srv := etcdtest.Start(t)
	cli, err := Dial(srv.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return &Store{Client: cli, Cluster: "t"}
}

const twoNamespaces = `listen: 127.0.0.1:0
namespaces:
  - name: a
    users: [{name: ua, password: secret_a}]
    backend: {user: b, password: backend_pw}
    slices: [{name: s0, primary: 127.0.0.1:1}]
  - name: b
    users: [{name: ub, password: secret_b}]
    backend: {user: b, password: backend_pw}
    slices: [{name: s0, primary: 127.0.0.1:2}]
`

func TestStorePutGetDiffRemove(t *testing.T) {
	st := testStore(t)
	ctx := context.Background()
	secret, err := NewSecret("0123456789abcdef0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	names, rev, err := st.Put(ctx, []byte(twoNamespaces), "two.yaml", secret)
	if err != nil || len(names) != 2 || rev == 0 {
		t.Fatalf("put: %v %v %v", names, rev, err)
	}
	nss, _, err := st.Get(ctx)
	if err != nil || len(nss) != 2 {
		t.Fatalf("get: %v %v", nss, err)
	}
	for _, ns := range nss {
		if strings.Contains(string(ns.YAML), "secret_") || strings.Contains(string(ns.YAML), "backend_pw") {
			t.Fatalf("a password is stored in clear:\n%s", ns.YAML)
		}
	}
	out := string(FormatNamespaces(nss))
	if strings.Contains(out, "secret_") || strings.Contains(out, "enc:v1") || !strings.Contains(out, Redacted) {
		t.Fatalf("config get output shows secrets:\n%s", out)
	}
	// The proxy decrypts with the key; without it the change is refused.
	cfg, err := Compose([]byte("listen: 127.0.0.1:0\n"), "local.yaml", nss, secret)
	if err != nil {
		t.Fatal(err)
	}
	if _, u, ok := cfg.UserNamespace("ua"); !ok || u.Password != "secret_a" {
		t.Fatalf("decrypted user: %+v", u)
	}
	if _, err := Compose(nil, "local.yaml", nss, nil); err == nil || !strings.Contains(err.Error(), "secret key") {
		t.Fatalf("encrypted passwords without a key: %v", err)
	}
	// `config get` output cannot be put back with its placeholders.
	if _, _, err := st.Put(ctx, []byte(out), "get.yaml", secret); err == nil || !strings.Contains(err.Error(), Redacted) {
		t.Fatalf("putting redacted passwords: %v", err)
	}

	changed := strings.Replace(twoNamespaces, "127.0.0.1:2", "127.0.0.1:3", 1)
	changed = strings.Replace(changed, "secret_b", "secret_b2", 1)
	changed = changed[:strings.Index(changed, "  - name: a")] + changed[strings.Index(changed, "  - name: b"):]
	d, err := st.Diff(ctx, []byte(changed), "c.yaml", secret)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"namespace b: changed", "- ", "127.0.0.1:2", "+ ", "127.0.0.1:3", "a password changes", "namespace a: only in etcd"} {
		if !strings.Contains(d, want) {
			t.Errorf("diff lacks %q:\n%s", want, d)
		}
	}
	if strings.Contains(d, "secret_b") {
		t.Errorf("diff shows a password:\n%s", d)
	}

	// A namespace that conflicts with a stored one (a user in two
	// namespaces) is refused; nothing is written.
	conflict := "namespaces:\n  - name: c\n    users: [{name: ua}]\n    backend: {user: b}\n    slices: [{name: s0, primary: 127.0.0.1:4}]\n"
	if _, _, err := st.Put(ctx, []byte(conflict), "c.yaml", nil); err == nil {
		t.Fatal("a user defined in two namespaces was accepted")
	}
	if _, err := st.Remove(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Remove(ctx, "a"); err == nil {
		t.Fatal("removing a missing namespace succeeded")
	}
	nss, _, _ = st.Get(ctx)
	if len(nss) != 1 || nss[0].Name != "b" {
		t.Fatalf("after rm: %v", nss)
	}
}

// The output of `switchyard convert gaea` is puttable as it is.
func TestPutGaeaConversion(t *testing.T) {
	st := testStore(t)
	data, err := os.ReadFile("../convert/testdata/gaea_namespace.yaml")
	if err != nil {
		t.Fatal(err)
	}
	names, _, err := st.Put(context.Background(), data, "gaea_namespace.yaml", nil)
	if err != nil || len(names) != 1 || names[0] != "shop_ns" {
		t.Fatalf("put: %v %v", names, err)
	}
	if keys := OtherKeys(data); len(keys) != 2 {
		t.Errorf("other keys: %v", keys)
	}
}

// fakeTarget records what a Source applies.
type fakeTarget struct {
	mu      sync.Mutex
	rev     int64
	cfg     *config.Config
	applied chan int64
	errs    []error
}

func (f *fakeTarget) Apply(cfg *config.Config, rev int64) error {
	f.mu.Lock()
	f.cfg, f.rev = cfg, rev
	f.mu.Unlock()
	f.applied <- rev
	return nil
}
func (f *fakeTarget) Reject(rev int64, err error) {
	f.mu.Lock()
	f.errs = append(f.errs, err)
	f.mu.Unlock()
	f.applied <- -1
}
func (f *fakeTarget) Revision() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rev
}

func TestSourceWatch(t *testing.T) {
	st := testStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, _, err := st.Put(ctx, []byte(twoNamespaces), "two.yaml", nil); err != nil {
		t.Fatal(err)
	}
	src := &Source{Store: st, Local: []byte("listen: 127.0.0.1:0\n"), LocalName: "local.yaml", Log: quietSlog()}
	cfg, rev, err := src.Load(ctx)
	if err != nil || len(cfg.Namespaces) != 2 {
		t.Fatalf("load: %v", err)
	}
	ft := &fakeTarget{rev: rev, applied: make(chan int64, 10)}
	src.SetTarget(ft)
	go src.Watch(ctx, rev)
	next := func() int64 {
		select {
		case r := <-ft.applied:
			return r
		case <-time.After(10 * time.Second):
			t.Fatal("no change applied within 10s")
		}
		return 0
	}
	// A removal is watched and applied.
	rmRev, err := st.Remove(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	if r := next(); r != rmRev {
		t.Fatalf("applied revision %d, want %d", r, rmRev)
	}
	// A bad value written behind `config put`'s back is rejected.
	if _, err := st.Client.Put(ctx, st.nsPrefix()+"bad", "name: bad\nusers: [{name: x}]\nslices: []\n"); err != nil {
		t.Fatal(err)
	}
	if r := next(); r != -1 {
		t.Fatalf("a bad namespace was applied (revision %d)", r)
	}
	if ft.Revision() != rmRev {
		t.Fatal("the applied revision moved after a rejected change")
	}
}

func TestLineDiff(t *testing.T) {
	for _, c := range []struct{ a, b, want string }{
		{"x\ny\nz", "x\ny2\nz", "  x|- y|+ y2|  z"},
		{"x", "x\ny", "  x|+ y"},
		{"x\ny", "y", "- x|  y"},
	} {
		got := strings.Join(lineDiff(strings.Split(c.a, "\n"), strings.Split(c.b, "\n")), "|")
		if got != c.want {
			t.Errorf("lineDiff(%q, %q) = %q, want %q", c.a, c.b, got, c.want)
		}
	}
}
