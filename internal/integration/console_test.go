package integration

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/switchyard-db/switchyard/internal/testtopo"
)

// chromiumPath is Debian's chromium (apt-get install chromium).
const chromiumPath = "/usr/bin/chromium"

// artifactDir is where the console screenshots go: $SWITCHYARD_ARTIFACTS/console,
// else $TMPDIR/switchyard-artifacts/console.
func artifactDir(t *testing.T) string {
	t.Helper()
	base := os.Getenv("SWITCHYARD_ARTIFACTS")
	if base == "" {
		base = filepath.Join(os.TempDir(), "switchyard-artifacts")
	}
	dir := filepath.Join(base, "console")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestConsoleBrowser clicks through the web console in headless chromium
// against a proxy on a private topology (one slice, a primary and two
// replicas), including a planned switchover confirmed in the browser, and
// saves a screenshot of every page.
func TestConsoleBrowser(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("skipping the browser test: %s not found (apt-get install chromium)", chromiumPath)
	}
	topo := testtopo.StartPrivate(t, 1, 2, 0)
	h := startProxyOn(t, topo, options{extraTop: "monitor: {interval: 200ms, timeout: 1s, down_after: 3}"})
	topo.Exec(t, topo.Slices[0].Primary, "CREATE DATABASE it_console", "CREATE TABLE it_console.t (id INT PRIMARY KEY, v VARCHAR(20))")
	db := h.open(plainUser, plainPass, "it_console", "")
	for i := 0; i < 5; i++ {
		mustExec(t, db, fmt.Sprintf("INSERT INTO t VALUES (%d, 'v%d')", i, i))
	}
	_ = queryString(t, db, "SELECT COUNT(*) FROM t WHERE id < 3")
	if _, err := db.Exec("SELECT no_such_column FROM t"); err == nil {
		t.Fatal("a bad column did not fail")
	}
	// The monitor must have seen every node (GTID positions, lag).
	deadline := time.Now().Add(15 * time.Second)
	for {
		ok := true
		for _, st := range h.proxy.Monitor().States() {
			ok = ok && st.Checked && st.Up
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("monitor states: %+v", h.proxy.Monitor().States())
		}
		time.Sleep(50 * time.Millisecond)
	}

	dir := artifactDir(t)
	t.Logf("console screenshots in %s", dir)
	fmt.Fprintf(os.Stderr, "TestConsoleBrowser: screenshots in %s\n", dir)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 1000),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	bctx, cancelB := chromedp.NewContext(actx)
	defer cancelB()
	// The first call starts the browser and must not have a deadline.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("starting %s: %v", chromiumPath, err)
	}
	ctx, cancelT := context.WithTimeout(bctx, 2*time.Minute)
	defer cancelT()

	base := "http://" + h.proxy.AdminAddr().String()
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte("admin:admin"))
	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			buf, err := chromedp.FullScreenshot(100)(ctx, tg) // 100: PNG
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644)
		})
	}
	want := func(sel string, subs ...string) {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		for _, sub := range subs {
			if !strings.Contains(s, sub) {
				t.Errorf("%s lacks %q:\n%s", sel, sub, s)
			}
		}
	}
	run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	click := func(sel string) chromedp.Action[chromedp.Void] { return chromedp.Click(chromedp.CSS(sel)) }
	visible := func(sel string) chromedp.Action[chromedp.Void] { return chromedp.WaitVisible(chromedp.CSS(sel)) }

	// Without credentials the console refuses: chromium reports the 401
	// as a failed load (headless, it cannot ask for credentials).
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(base+"/console/"))
	switch {
	case err != nil && strings.Contains(err.Error(), "ERR_INVALID_AUTH_CREDENTIALS"):
	case err != nil:
		t.Fatal(err)
	case resp.Status != 401:
		t.Errorf("console without credentials: HTTP %d, want 401", resp.Status)
	}
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Authorization": auth}}); err != nil {
		t.Fatal(err)
	}

	s := topo.Slices[0]
	run("overview", chromedp.Navigate(base+"/console/"), visible("#fleet"), shot("01-overview"))
	want("#fleet", h.addr)
	want("#namespaces", "itest")

	run("nodes", click("#nav-nodes"), visible("table.nodes"), shot("02-nodes"))
	want("main", s.Primary.Addr, s.Replicas[0].Addr, s.Replicas[1].Addr, "primary", "replica", "up")
	gtids, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("td.gtid")).map(e => e.textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(gtids, " "), "-") {
		t.Errorf("no GTID positions shown: %q", gtids)
	}

	run("traffic", click("#nav-traffic"), visible("#traffic"), shot("03-traffic"))
	want("#traffic", "itest")

	run("digests", click("#nav-digests"), visible("#digests"), shot("04-digests"))
	want("#digests", "insert into `t` values", "no_such_column")

	run("xa", click("#nav-xa"), visible("#xa-none"), click("#run-check"), visible("#check-summary"), shot("05-xa-global-tables"))
	want("#check-summary", "table(s) checked")

	run("config", click("#nav-config"), visible("#config"), shot("06-config"))
	want("#config", "itest.yaml")

	// Planned switchover: choose, confirm, done.
	target := s.Replicas[0].Addr
	run("switchover form", click("#nav-switchover"), visible("#switchover-form"),
		chromedp.SetValue(chromedp.CSS("#choice"), "itest/"+s.Name+"|"+target), shot("07-switchover-form"),
		click("#start-switchover"), visible("#confirm"), shot("08-switchover-confirm"))
	want("#confirm", target, s.Primary.Addr)
	if p := h.proxy.Topology().Namespaces["itest"].Slices[s.Name].Primary(); p == nil || p.Addr != s.Primary.Addr {
		t.Fatalf("the primary changed before confirmation: %v", p)
	}
	run("switchover", click("#confirm-switchover"), visible("#switchover-result"), shot("09-switchover-done"))
	want("#switchover-result", s.Primary.Addr+" → "+target)
	if p := h.proxy.Topology().Namespaces["itest"].Slices[s.Name].Primary(); p == nil || p.Addr != target {
		t.Errorf("primary after the switchover: %v, want %s", p, target)
	}
	mustExec(t, db, "INSERT INTO t VALUES (100, 'after')")
	run("nodes after", click("#nav-nodes"), visible("table.nodes"), shot("10-nodes-after-switchover"))
}
