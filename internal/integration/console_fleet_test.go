package integration

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-db/switchyard/internal/fleet"
	"github.com/switchyard-db/switchyard/internal/fleet/etcdtest"
	"github.com/switchyard-db/switchyard/internal/testtopo"
)

// consoleDo sends a console request with the admin credentials.
func consoleDo(t *testing.T, admin, method, path string, form url.Values) (int, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, "http://"+admin+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.SetBasicAuth("admin", "admin")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestConsoleFleet: in etcd mode the console lists every proxy of the
// fleet, diffs a pasted configuration against etcd and applies it (as
// `config put`), and every proxy applies the change.
func TestConsoleFleet(t *testing.T) {
	topo := testtopo.Require(t)
	srv := etcdtest.Start(t)
	cli, err := fleet.Dial(srv.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	st := &fleet.Store{Client: cli, Cluster: "itc"}
	putNamespaces(t, st, fleetNamespace(topo, []string{"app:app_pw"}, false))
	ms := []*fleet.Member{startMember(t, srv.Endpoint, "itc", fleetLocal), startMember(t, srv.Endpoint, "itc", fleetLocal)}
	admin := ms[0].Proxy().AdminAddr().String()

	// Both proxies appear once registered.
	for deadline := time.Now().Add(10 * time.Second); ; {
		_, body := consoleDo(t, admin, "GET", "/console/", nil)
		if strings.Contains(body, ms[0].Proxy().Addr().String()) && strings.Contains(body, ms[1].Proxy().Addr().String()) {
			if strings.Contains(body, "File mode") {
				t.Error("etcd mode page says file mode")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the fleet page does not list both proxies:\n%s", body)
		}
		time.Sleep(50 * time.Millisecond)
	}

	_, page := consoleDo(t, admin, "GET", "/console/config", nil)
	m := regexp.MustCompile(`name="token" value="([0-9a-f]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no token:\n%s", page)
	}
	tok := m[1]
	before := ms[0].Proxy().Revision()
	newText := fleetNamespace(topo, []string{"app:app_pw", "app2:app2_pw"}, false)
	code, body := consoleDo(t, admin, "POST", "/console/config", url.Values{"token": {tok}, "config": {newText}})
	if code != 200 || !strings.Contains(body, "namespace fl: changed") || !strings.Contains(body, "app2") || !strings.Contains(body, `id="apply-form"`) {
		t.Fatalf("diff: %d\n%s", code, body)
	}
	if i := strings.Index(body, `<pre id="diff-output">`); i < 0 {
		t.Error("no diff output")
	} else if diff := body[i:]; strings.Contains(diff[:strings.Index(diff, "</pre>")], "app2_pw") {
		t.Errorf("the diff shows a password:\n%s", diff)
	}
	if ms[0].Proxy().Revision() != before {
		t.Fatal("a diff changed the configuration")
	}
	code, body = consoleDo(t, admin, "POST", "/console/config", url.Values{"token": {tok}, "action": {"apply"}, "config": {"namespaces: [{name: fl}]"}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "apply rejected (nothing was written)") {
		t.Fatalf("bad apply: %d\n%s", code, body)
	}
	code, body = consoleDo(t, admin, "POST", "/console/config", url.Values{"token": {tok}, "action": {"apply"}, "config": {newText}})
	if code != 200 || !strings.Contains(body, "Wrote namespaces fl at etcd revision") {
		t.Fatalf("apply: %d\n%s", code, body)
	}
	rev := ms[0].Proxy().Revision()
	for deadline := time.Now().Add(15 * time.Second); rev <= before; rev = ms[0].Proxy().Revision() {
		if time.Now().After(deadline) {
			t.Fatal("proxy 0 did not apply the change")
		}
		time.Sleep(10 * time.Millisecond)
	}
	waitRevision(t, ms, rev, time.Now())
	// The new user logs in through the second proxy.
	h := &harness{t: t, topo: topo, proxy: ms[1].Proxy(), addr: ms[1].Proxy().Addr().String()}
	db := h.open("app2", "app2_pw", "", "")
	if got := queryString(t, db, "SELECT 1"); got != "1" {
		t.Errorf("SELECT 1 = %s", got)
	}
}
