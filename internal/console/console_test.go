package console_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-db/switchyard/internal/admin"
	"github.com/switchyard-db/switchyard/internal/config"
	"github.com/switchyard-db/switchyard/internal/console"
	"github.com/switchyard-db/switchyard/internal/digest"
	"github.com/switchyard-db/switchyard/internal/globalcheck"
	"github.com/switchyard-db/switchyard/internal/metrics"
	"github.com/switchyard-db/switchyard/internal/monitor"
	"github.com/switchyard-db/switchyard/internal/xa"
)

// fixture is a console on a started admin server with fake data sources.
type fixture struct {
	base string
	c    *console.Console

	mu          sync.Mutex
	switchovers []string // "ns/slice->target"
	reloads     int
	reloadErr   error
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{}
	m := metrics.New()
	shop := m.Namespace("shop")
	for i := 0; i < 9; i++ {
		shop.ObserveQuery(metrics.QuerySelect, metrics.RouteReplica, 3*time.Millisecond, false)
	}
	shop.ObserveQuery(metrics.QueryInsert, metrics.RoutePrimary, 30*time.Millisecond, true)
	d := digest.New(100)
	d.Record("shop", "SELECT * FROM `t` WHERE `a` < ?", "d1", "replica", 2*time.Millisecond, 3, false)
	d.Record("shop", "SELECT '<script>alert(1)</script>'", "d2", "replica", time.Millisecond, 1, false)
	started := time.Now().Add(-time.Minute)
	f.c = console.New(console.Options{
		Self: func() console.ProxyInfo {
			return console.ProxyInfo{ID: "p1", Address: "127.0.0.1:3307", Admin: "127.0.0.1:9100", Revision: 4, Started: started}
		},
		Config: func() console.ConfigInfo {
			return console.ConfigInfo{Source: "switchyard.yaml", Revision: 4, Generation: 2, AppliedAt: started, Namespaces: []string{"shop"},
				LastError: "namespace shop: slice s1 has no primary", LastErrorRevision: 5, LastErrorAt: started, Applied: 3, Rejected: 1}
		},
		Nodes: func() []monitor.NodeState {
			return []monitor.NodeState{
				{Namespace: "shop", Slice: "s0", Addr: "127.0.0.1:4001", Role: "primary", Up: true, Checked: true, BinlogPos: "0-1-42", CurrentPos: "0-1-42", LagSeconds: -1},
				{Namespace: "shop", Slice: "s0", Addr: "127.0.0.1:4002", Role: "replica", Up: true, Checked: true, ReadOnly: true, CurrentPos: "0-1-41", SlavePos: "0-1-41", Source: "127.0.0.1:4001", IORunning: true, SQLRunning: true, LagSeconds: 7, Lagging: true},
				{Namespace: "shop", Slice: "s1", Addr: "127.0.0.1:4003", Role: "primary", Checked: true, LastError: "connection refused", LagSeconds: -1},
			}
		},
		Gatherer: m.Registry,
		Digests:  d,
		PendingXA: func(context.Context) map[string][]xa.InDoubt {
			return map[string][]xa.InDoubt{"shop": {{Gtrid: "sy-abc-17", Branches: []string{"s0", "s1"}, Decision: "commit", Fate: "will be committed"}}}
		},
		GlobalCheck: func(_ context.Context, ns, table string) (*globalcheck.Report, error) {
			if table == "bad.table" {
				return nil, errors.New("unknown global table bad.table")
			}
			return &globalcheck.Report{Tables: []*globalcheck.TableReport{{Namespace: "shop", Table: "shop.countries", Reference: "s0", Chunks: 3, DifferingChunks: 1}}, Differences: true, Elapsed: "12ms"}, nil
		},
		Switchover: func(_ context.Context, ns, slice, target string) (monitor.SwitchoverResult, error) {
			f.mu.Lock()
			f.switchovers = append(f.switchovers, ns+"/"+slice+"->"+target)
			f.mu.Unlock()
			return monitor.SwitchoverResult{Slice: slice, OldPrimary: "127.0.0.1:4001", NewPrimary: target, GTID: "0-2-43"}, nil
		},
		Reload: func() error {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.reloads++
			return f.reloadErr
		},
	})
	s := admin.New(config.Admin{Listen: "127.0.0.1:0", User: "admin", Password: "pw"}, m, nil, nil)
	f.c.Register(s.Handle)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	f.base = "http://" + s.Addr().String()
	return f
}

func (f *fixture) do(t *testing.T, method, path string, form url.Values, auth bool, hdr map[string]string) (int, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, f.base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if auth {
		req.SetBasicAuth("admin", "pw")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (f *fixture) calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.switchovers...)
}

var tokenRE = regexp.MustCompile(`name="token" value="([0-9a-f]+)"`)

func (f *fixture) token(t *testing.T, path string) string {
	t.Helper()
	_, body := f.do(t, "GET", path, nil, true, nil)
	m := tokenRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no token in %s:\n%s", path, body)
	}
	return m[1]
}

func TestPages(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		path string
		want []string
	}{
		{"/console/", []string{"Fleet and namespaces", "p1", "127.0.0.1:3307", `href="/console/nodes#ns-shop">shop</a>`, "File mode", "Last change rejected: namespace shop: slice s1 has no primary"}},
		{"/console/nodes", []string{"shop / s0", "shop / s1", "127.0.0.1:4002", "replica", "0-1-41", "<td class=\"bad\">7</td>", "down: connection refused", "127.0.0.1:4001 (IO on, SQL on)"}},
		{"/console/traffic", []string{"<td>shop</td>", "<td>10</td><td>1</td>", "<td>10.0</td>", "since start"}},
		{"/console/digests", []string{"SELECT * FROM `t` WHERE `a` &lt; ?", "&lt;script&gt;alert(1)&lt;/script&gt;", `<option selected>total_time</option>`}},
		{"/console/digests?sort=count&namespace=none", []string{"No statements recorded yet.", `<option selected>count</option>`}},
		{"/console/xa", []string{"sy-abc-17", "s0, s1", "will be committed", "Run check"}},
		{"/console/xa?check=1", []string{"1 table(s) checked in 12ms", "copies differ", "shop.countries"}},
		{"/console/xa?check=1&table=bad.table", []string{"unknown global table bad.table"}},
		{"/console/switchover", []string{`value="shop/s0|127.0.0.1:4002"`, `name="token"`, "Current primaries"}},
		{"/console/config", []string{"switchyard.yaml", `<td id="revision">4</td>`, "slice s1 has no primary", "need etcd mode", `name="token"`}},
		{"/console/assets/style.css", []string{"font:"}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if code, _ := f.do(t, "GET", tt.path, nil, false, nil); code != http.StatusUnauthorized {
				t.Errorf("without credentials: %d, want 401", code)
			}
			code, body := f.do(t, "GET", tt.path, nil, true, nil)
			if code != http.StatusOK {
				t.Fatalf("code %d, want 200:\n%s", code, body)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %q:\n%s", w, body)
				}
			}
			if strings.Contains(body, "<script>") {
				t.Errorf("unescaped script in page")
			}
		})
	}
	if code, _ := f.do(t, "GET", "/console/nope", nil, false, nil); code != http.StatusUnauthorized {
		t.Errorf("unknown console page without credentials: %d, want 401", code)
	}
	if code, _ := f.do(t, "GET", "/console/nope", nil, true, nil); code != http.StatusNotFound {
		t.Errorf("unknown console page: %d, want 404", code)
	}
}

func TestSwitchoverNeedsTokenAndConfirmation(t *testing.T) {
	f := newFixture(t)
	tok := f.token(t, "/console/switchover")
	choice := "shop/s0|127.0.0.1:4002"
	tests := []struct {
		name     string
		form     url.Values
		auth     bool
		hdr      map[string]string
		wantCode int
		want     string
		wantCall bool
	}{
		{"no credentials", url.Values{"token": {tok}, "choice": {choice}, "confirm": {"yes"}}, false, nil, 401, "unauthorized", false},
		{"no token", url.Values{"choice": {choice}, "confirm": {"yes"}}, true, nil, 403, "invalid or missing form token", false},
		{"wrong token", url.Values{"token": {strings.Repeat("0", 64)}, "choice": {choice}, "confirm": {"yes"}}, true, nil, 403, "invalid or missing form token", false},
		{"cross-site", url.Values{"token": {tok}, "choice": {choice}, "confirm": {"yes"}}, true, map[string]string{"Sec-Fetch-Site": "cross-site"}, 403, "invalid or missing form token", false},
		{"unknown slice", url.Values{"token": {tok}, "choice": {"shop/s9|127.0.0.1:4002"}}, true, nil, 400, "unknown slice shop/s9", false},
		{"target not in slice", url.Values{"token": {tok}, "choice": {"shop/s0|127.0.0.1:4003"}}, true, nil, 400, "127.0.0.1:4003 is not a node of slice shop/s0", false},
		{"first step asks to confirm", url.Values{"token": {tok}, "choice": {choice}}, true, nil, 200, `Make <strong>127.0.0.1:4002</strong> the primary of slice <strong>shop/s0</strong> (current primary: <strong>127.0.0.1:4001</strong>)`, false},
		{"confirmed", url.Values{"token": {tok}, "slice": {"shop/s0"}, "target": {"127.0.0.1:4002"}, "confirm": {"yes"}}, true, nil, 200, "primary 127.0.0.1:4001 → 127.0.0.1:4002 at GTID 0-2-43", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(f.calls())
			code, body := f.do(t, "POST", "/console/switchover", tt.form, tt.auth, tt.hdr)
			if code != tt.wantCode || !strings.Contains(body, tt.want) {
				t.Fatalf("got %d, want %d containing %q:\n%s", code, tt.wantCode, tt.want, body)
			}
			calls := f.calls()
			if got := len(calls) > before; got != tt.wantCall {
				t.Fatalf("switchover called: %v, want %v (%v)", got, tt.wantCall, calls)
			}
			if tt.wantCall && calls[len(calls)-1] != "shop/s0->127.0.0.1:4002" {
				t.Errorf("switchover call %q", calls[len(calls)-1])
			}
			if tt.name == "first step asks to confirm" {
				for _, w := range []string{`name="confirm" value="yes"`, `name="token" value="` + tok + `"`, `id="confirm-switchover"`} {
					if !strings.Contains(body, w) {
						t.Errorf("confirmation page lacks %q", w)
					}
				}
			}
		})
	}
	// The GET page never switches over.
	if code, _ := f.do(t, "GET", "/console/switchover?choice=shop/s0|127.0.0.1:4002&confirm=yes&token="+tok, nil, true, nil); code != 200 || len(f.calls()) != 1 {
		t.Errorf("GET: code %d, calls %v", code, f.calls())
	}
}

func TestConfigDiff(t *testing.T) {
	f := newFixture(t)
	tok := f.token(t, "/console/config")
	form := url.Values{"token": {tok}, "config": {"namespaces: []\n"}}
	if code, body := f.do(t, "POST", "/console/config", form, true, nil); code != http.StatusConflict || !strings.Contains(body, "needs etcd mode") {
		t.Errorf("without a differ: %d\n%s", code, body)
	}
	var got string
	f.c.SetDiff(func(_ context.Context, file []byte) (string, error) {
		got = string(file)
		if strings.Contains(got, "broken") {
			return "", errors.New("config: line 1: broken")
		}
		return "namespace shop: changed\n- a\n+ <b>\n", nil
	})
	tests := []struct {
		name     string
		form     url.Values
		wantCode int
		want     string
	}{
		{"no token", url.Values{"config": {"x: 1"}}, 403, "invalid or missing form token"},
		{"empty", url.Values{"token": {tok}, "config": {"  "}}, 400, "paste a configuration"},
		{"invalid", url.Values{"token": {tok}, "config": {"broken"}}, 422, "diff: config: line 1: broken"},
		{"diff", url.Values{"token": {tok}, "config": {"namespaces: [shop]"}}, 200, "namespace shop: changed\n- a\n&#43; &lt;b&gt;"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := f.do(t, "POST", "/console/config", tt.form, true, nil)
			if code != tt.wantCode || !strings.Contains(body, tt.want) {
				t.Fatalf("got %d, want %d containing %q:\n%s", code, tt.wantCode, tt.want, body)
			}
		})
	}
	if got != "namespaces: [shop]" {
		t.Errorf("differ got %q", got)
	}
}

func TestFleet(t *testing.T) {
	f := newFixture(t)
	f.c.SetProxies(func(context.Context) ([]console.ProxyInfo, error) {
		return []console.ProxyInfo{{ID: "p1", Address: "127.0.0.1:3307", Leader: true}, {ID: "p2", Address: "127.0.0.1:3308", Version: "v9"}}, nil
	})
	_, body := f.do(t, "GET", "/console/", nil, true, nil)
	for _, w := range []string{"<td>p2</td><td>127.0.0.1:3308</td>", "<td>yes</td>"} {
		if !strings.Contains(body, w) {
			t.Errorf("fleet lacks %q:\n%s", w, body)
		}
	}
	if strings.Contains(body, "File mode") {
		t.Error("fleet mode page says file mode")
	}
	f.c.SetProxies(func(context.Context) ([]console.ProxyInfo, error) {
		return nil, errors.New("context deadline exceeded")
	})
	if _, body := f.do(t, "GET", "/console/", nil, true, nil); !strings.Contains(body, "etcd unreachable: context deadline exceeded") {
		t.Errorf("etcd error not shown:\n%s", body)
	}
}

func TestConfigReloadAndApply(t *testing.T) {
	f := newFixture(t)
	tok := f.token(t, "/console/config")
	if _, body := f.do(t, "GET", "/console/config", nil, true, nil); !strings.Contains(body, `id="reload"`) {
		t.Fatalf("no reload button:\n%s", body)
	}
	reload := url.Values{"token": {tok}, "action": {"reload"}}
	if code, _ := f.do(t, "POST", "/console/config", url.Values{"action": {"reload"}}, true, nil); code != http.StatusForbidden || f.reloads != 0 {
		t.Errorf("reload without token: %d, %d reloads", code, f.reloads)
	}
	if code, body := f.do(t, "POST", "/console/config", reload, true, nil); code != http.StatusOK || !strings.Contains(body, "Reloaded: revision 4 applied.") || f.reloads != 1 {
		t.Errorf("reload: %d, %d reloads\n%s", code, f.reloads, body)
	}
	f.mu.Lock()
	f.reloadErr = errors.New("namespace shop: bad rule")
	f.mu.Unlock()
	if code, body := f.do(t, "POST", "/console/config", reload, true, nil); code != http.StatusUnprocessableEntity || !strings.Contains(body, "reload rejected (the running configuration stays): namespace shop: bad rule") {
		t.Errorf("failed reload: %d\n%s", code, body)
	}

	var applied []string
	f.c.SetDiff(func(context.Context, []byte) (string, error) { return "namespace shop: new\n", nil })
	apply := url.Values{"token": {tok}, "action": {"apply"}, "config": {"namespaces: [x]"}}
	if code, body := f.do(t, "POST", "/console/config", apply, true, nil); code != http.StatusConflict || !strings.Contains(body, "applying needs etcd mode") {
		t.Errorf("apply without a writer: %d\n%s", code, body)
	}
	f.c.SetApply(func(_ context.Context, file []byte) (string, error) {
		if strings.Contains(string(file), "bad") {
			return "", errors.New("slice s9 unknown")
		}
		applied = append(applied, string(file))
		return "Wrote namespaces shop at etcd revision 9", nil
	})
	// The diff page offers to apply exactly the diffed configuration.
	_, body := f.do(t, "POST", "/console/config", url.Values{"token": {tok}, "config": {"namespaces: [x]"}}, true, nil)
	for _, w := range []string{`id="apply-form"`, `<textarea name="config" hidden>namespaces: [x]</textarea>`, `value="apply"`} {
		if !strings.Contains(body, w) {
			t.Errorf("diff page lacks %q:\n%s", w, body)
		}
	}
	if len(applied) != 0 {
		t.Fatal("a diff applied the configuration")
	}
	if code, _ := f.do(t, "POST", "/console/config", url.Values{"action": {"apply"}, "config": {"namespaces: [x]"}}, true, nil); code != http.StatusForbidden || len(applied) != 0 {
		t.Errorf("apply without token: %d, applied %v", code, applied)
	}
	if code, body := f.do(t, "POST", "/console/config", url.Values{"token": {tok}, "action": {"apply"}, "config": {"bad"}}, true, nil); code != http.StatusUnprocessableEntity || !strings.Contains(body, "apply rejected (nothing was written): slice s9 unknown") {
		t.Errorf("bad apply: %d\n%s", code, body)
	}
	if code, body := f.do(t, "POST", "/console/config", apply, true, nil); code != http.StatusOK || !strings.Contains(body, "Wrote namespaces shop at etcd revision 9") {
		t.Errorf("apply: %d\n%s", code, body)
	}
	if len(applied) != 1 || applied[0] != "namespaces: [x]" {
		t.Errorf("applied %q", applied)
	}
}
