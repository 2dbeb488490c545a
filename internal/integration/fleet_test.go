package integration

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/switchyard-db/switchyard/internal/fleet"
	"github.com/switchyard-db/switchyard/internal/fleet/etcdtest"
	"github.com/switchyard-db/switchyard/internal/loadgen"
	"github.com/switchyard-db/switchyard/internal/testtopo"
)

// fleetLocal is a proxy's local file in etcd mode (no namespaces).
const fleetLocal = "listen: 127.0.0.1:0\nadmin: {listen: 127.0.0.1:0, user: admin, password: admin}\nlog: {level: warn}\n"

// startMember starts a proxy in etcd mode.
func startMember(t *testing.T, endpoint, cluster, local string) *fleet.Member {
	t.Helper()
	file := filepath.Join(t.TempDir(), "local.yaml")
	if err := os.WriteFile(file, []byte(local), 0o600); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("SWITCHYARD_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	m, err := fleet.Start(fleet.Options{Endpoints: endpoint, Cluster: cluster, ConfigFile: file, Log: log, Version: "test",
		LeaseTTL: 2 * time.Second, HealthInterval: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// fleetNamespace renders namespace "fl" over slice 0 of topo.
func fleetNamespace(topo *testtopo.Topology, users []string, withReplica bool) string {
	text := reloadConfig(topo, users, "", withReplica)
	text = strings.Replace(text, "name: rl", "name: fl", 1)
	return text[strings.Index(text, "namespaces:"):]
}

func putNamespaces(t *testing.T, st *fleet.Store, text string) int64 {
	t.Helper()
	_, rev, err := st.Put(context.Background(), []byte(text), "put.yaml", nil)
	if err != nil {
		t.Fatalf("config put: %v", err)
	}
	return rev
}

// waitRevision waits until every member applied rev and returns how long it took.
func waitRevision(t *testing.T, ms []*fleet.Member, rev int64, from time.Time) time.Duration {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		all := true
		for _, m := range ms {
			if m.Proxy().Revision() < rev {
				all = false
			}
		}
		if all {
			return time.Since(from)
		}
		if time.Now().After(deadline) {
			for i, m := range ms {
				t.Logf("proxy %d: %+v", i, m.Proxy().ConfigStatus())
			}
			t.Fatalf("revision %d not applied by every proxy within 15s", rev)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestFleetConfigPut runs 3 proxies on one etcd: a `config put` is
// applied by all under load with no client error, GET /api/proxies lists
// them with the revision, and a bad namespace written to etcd is rejected
// by every proxy while the old configuration keeps serving.
func TestFleetConfigPut(t *testing.T) {
	topo := testtopo.Require(t)
	srv := etcdtest.Start(t)
	cli, err := fleet.Dial(srv.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	st := &fleet.Store{Client: cli, Cluster: "it"}
	putNamespaces(t, st, fleetNamespace(topo, []string{"app:app_pw"}, false))
	var ms []*fleet.Member
	for i := 0; i < 3; i++ {
		ms = append(ms, startMember(t, srv.Endpoint, "it", fleetLocal))
	}
	h := &harness{t: t, topo: topo, proxy: ms[0].Proxy(), addr: ms[0].Proxy().Addr().String()}
	h.createDB("fleet_t")
	mustExec(t, h.rootDB(topo.Slices[0].Primary, "fleet_t"), "CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, p INT)")
	// Reads go to the replica once it is added: wait until it has the table.
	replica := h.rootDB(topo.Slices[0].Replicas[0], "fleet_t")
	for deadline := time.Now().Add(10 * time.Second); ; {
		var n int
		if replica.QueryRow("SELECT COUNT(*) FROM t").Scan(&n) == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the replica did not get the table within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}

	// Load through every proxy.
	ctx, stop := context.WithCancel(context.Background())
	var ops, fails atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	// However the test ends, the load stops: a failed check must not leave
	// it spinning against closed proxies for the rest of the package.
	defer func() { stop(); wg.Wait() }()
	for i, m := range ms {
		db, err := sql.Open("mysql", fmt.Sprintf("app:app_pw@tcp(%s)/fleet_t", m.Proxy().Addr()))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		wg.Add(1)
		go func(i int, db *sql.DB) {
			defer wg.Done()
			for ctx.Err() == nil {
				_, err := db.Exec("INSERT INTO t (p) VALUES (?)", i)
				if err == nil {
					var n int
					err = db.QueryRow("SELECT COUNT(*) FROM t WHERE p = ?", i).Scan(&n)
				}
				if err != nil {
					fails.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				} else {
					ops.Add(1)
				}
			}
		}(i, db)
	}

	// A change: a new user and a replica.
	start := time.Now()
	rev := putNamespaces(t, st, fleetNamespace(topo, []string{"app:app_pw", "u2:u2_pw"}, true))
	took := waitRevision(t, ms, rev, start)
	t.Logf("config put to applied on 3 proxies: %v", took)
	for i, m := range ms {
		db, _ := sql.Open("mysql", fmt.Sprintf("u2:u2_pw@tcp(%s)/fleet_t", m.Proxy().Addr()))
		if err := db.Ping(); err != nil {
			t.Fatalf("proxy %d: the new user cannot log in: %v", i, err)
		}
		db.Close()
	}
	// GET /api/proxies on any proxy lists the live ones with their revision.
	deadline := time.Now().Add(10 * time.Second)
	for {
		list, err := ms[2].Proxies(context.Background())
		ok := err == nil && len(list) == 3
		for _, p := range list {
			ok = ok && p.Revision >= rev && p.Version == "test"
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /api/proxies: %+v %v", list, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	req, _ := http.NewRequest("GET", "http://"+ms[1].Proxy().AdminAddr().String()+"/api/proxies", nil)
	req.SetBasicAuth("admin", "admin")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var listed []fleet.ProxyInfo
	err = json.NewDecoder(resp.Body).Decode(&listed)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || err != nil || len(listed) != 3 {
		t.Fatalf("GET /api/proxies: %d %v %+v", resp.StatusCode, err, listed)
	}
	leaders := 0
	for _, p := range listed {
		if p.Leader {
			leaders++
		}
	}
	if leaders != 1 {
		t.Fatalf("GET /api/proxies shows %d leaders: %+v", leaders, listed)
	}

	// A bad namespace written to etcd behind config put's back.
	if _, err := cli.Put(context.Background(), fleet.Prefix("it")+"namespaces/bad", "name: bad\nusers: [{name: app}]\nslices: []\n"); err != nil {
		t.Fatal(err)
	}
	for i, m := range ms {
		deadline := time.Now().Add(10 * time.Second)
		for m.Proxy().ConfigStatus().Rejected == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("proxy %d did not reject the bad namespace", i)
			}
			time.Sleep(5 * time.Millisecond)
		}
		// The bad change is rejected and the good configuration stays.
		// (Its revision may have moved past rev: writes under the
		// cluster's prefix that leave the configuration as it is, such as
		// registrations, advance the revision the proxy reports.)
		st := m.Proxy().ConfigStatus()
		if st.Revision < rev || st.LastError == "" || st.LastErrorRevision <= rev || slices.Contains(st.Namespaces, "bad") {
			t.Fatalf("proxy %d after a bad change (good revision %d): %+v", i, rev, st)
		}
	}
	before := ops.Load()
	deadline = time.Now().Add(10 * time.Second)
	for ops.Load() < before+100 {
		if time.Now().After(deadline) {
			t.Fatal("the load stalled after the bad change")
		}
		time.Sleep(5 * time.Millisecond)
	}
	stop()
	wg.Wait()
	if fails.Load() != 0 {
		t.Fatalf("%d client errors (of %d); first: %v", fails.Load(), ops.Load(), firstErr.Load())
	}
	t.Logf("%d statements through 3 proxies, 0 errors", ops.Load())
}

// TestFleetFailover runs 2 proxies on one etcd in front of a private
// topology: the primary is killed and a replica promoted; the elected
// leader decides, both proxies resume writes on the same new primary; then
// the leader leaves and the other proxy takes over the leadership.
func TestFleetFailover(t *testing.T) {
	topo := testtopo.StartPrivate(t, 1, 2, 0)
	s := topo.Slices[0]
	srv := etcdtest.Start(t)
	cli, err := fleet.Dial(srv.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	st := &fleet.Store{Client: cli, Cluster: "fo"}
	ns := fmt.Sprintf(`namespaces:
  - name: itest
    users: [{name: %s, password: %s, rw_split: true}]
    backend: {user: %s, password: %s}
    pool: {connect_timeout: 500ms}
    slices: [{name: %s, primary: %s, replicas: [%s, %s]}]
`, splitUser, splitPass, topo.BackendUser, topo.BackendPassword, s.Name, s.Primary.Addr, s.Replicas[0].Addr, s.Replicas[1].Addr)
	putNamespaces(t, st, ns)
	local := fleetLocal + "monitor: {interval: 200ms, timeout: 300ms, down_after: 2}\nfailover_hold_timeout: 20s\n"
	ms := []*fleet.Member{startMember(t, srv.Endpoint, "fo", local), startMember(t, srv.Endpoint, "fo", local)}
	leader := waitLeader(t, ms, nil)
	topo.Exec(t, s.Primary, "CREATE DATABASE it_fo")

	var loads []*harnessLoad
	for _, m := range ms {
		h := &harness{t: t, topo: topo, proxy: m.Proxy(), addr: m.Proxy().Addr().String()}
		loads = append(loads, &harnessLoad{h: h, l: startLoad(t, h)})
	}
	time.Sleep(500 * time.Millisecond) // let the load run before the failure
	topo.Signal(t, s.Primary, syscall.SIGKILL)
	time.Sleep(700 * time.Millisecond) // the operator promotes a moment later
	topo.Promote(t, s.Replicas[0])
	promoted := time.Now()
	topo.Repoint(t, s.Replicas[1], s.Replicas[0], "slave_pos")
	for i, hl := range loads {
		resumed, ok := hl.l.WaitWrites(promoted, 10*time.Second)
		if !ok {
			t.Fatalf("proxy %d: writes did not resume within 10s of the promotion", i)
		}
		t.Logf("proxy %d (leader %v): writes resumed %v after the promotion", i, ms[i] == leader, resumed.Sub(promoted).Round(time.Millisecond))
	}
	for i, hl := range loads {
		r := hl.l.Stop(topo.RootDB(t, s.Replicas[0], "it_fo"))
		t.Logf("proxy %d: %v", i, r)
		if r.MissingWrites != 0 || r.AckedWrites == 0 {
			t.Errorf("proxy %d: %d acknowledged writes missing, %d acknowledged", i, r.MissingWrites, r.AckedWrites)
		}
	}
	// Both proxies follow the new primary.
	for _, m := range ms {
		waitFollows(t, m.Proxy().Topology().Namespaces["itest"].Default, s.Replicas[0].Addr)
	}
	resp, err := cli.Get(context.Background(), fleet.Prefix("fo")+"primaries/itest/"+s.Name)
	if err != nil || len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != s.Replicas[0].Addr {
		t.Fatalf("published primary: %v %v", resp, err)
	}

	// Leader loss: the other proxy is elected.
	leader.Close()
	var rest []*fleet.Member
	for _, m := range ms {
		if m != leader {
			rest = append(rest, m)
		}
	}
	waitLeader(t, rest, leader)
}

type harnessLoad struct {
	h *harness
	l *loadgen.Load
}

// waitLeader waits until exactly one of ms leads and returns it.
func waitLeader(t *testing.T, ms []*fleet.Member, not *fleet.Member) *fleet.Member {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var leaders []*fleet.Member
		for _, m := range ms {
			if m.IsLeader() {
				leaders = append(leaders, m)
			}
		}
		if len(leaders) == 1 && leaders[0] != not {
			return leaders[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no single leader after 15s (%d)", len(leaders))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestFleetEtcdLoss stops etcd under 2 proxies: both enter degraded mode
// (metric, state) and keep serving with their last configuration; when
// etcd is back they leave it and apply a change made meanwhile.
func TestFleetEtcdLoss(t *testing.T) {
	topo := testtopo.Require(t)
	srv := etcdtest.Start(t)
	cli, err := fleet.Dial(srv.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	st := &fleet.Store{Client: cli, Cluster: "loss"}
	putNamespaces(t, st, fleetNamespace(topo, []string{"app:app_pw"}, false))
	ms := []*fleet.Member{startMember(t, srv.Endpoint, "loss", fleetLocal), startMember(t, srv.Endpoint, "loss", fleetLocal)}
	waitLeader(t, ms, nil)
	srv.Stop()
	for i, m := range ms {
		deadline := time.Now().Add(10 * time.Second)
		for m.Healthy() {
			if time.Now().After(deadline) {
				t.Fatalf("proxy %d did not notice etcd's loss", i)
			}
			time.Sleep(10 * time.Millisecond)
		}
		h := &harness{t: t, topo: topo, proxy: m.Proxy(), addr: m.Proxy().Addr().String()}
		if !strings.Contains(h.scrape(t), "switchyard_etcd_up 0") {
			t.Errorf("proxy %d: switchyard_etcd_up is not 0 in degraded mode", i)
		}
		db := h.open("app", "app_pw", "", "")
		if got := queryString(t, db, "SELECT 1"); got != "1" {
			t.Fatalf("proxy %d in degraded mode: %s", i, got)
		}
	}
	// A proxy stops while etcd is away: it does not hang.
	closed := make(chan error, 1)
	go func() { closed <- ms[1].Close() }()
	select {
	case <-closed:
	case <-time.After(15 * time.Second):
		t.Fatal("a proxy did not stop within 15s while etcd was unreachable")
	}
	ms = ms[:1]
	srv.Restart(t)
	rev := putNamespaces(t, st, fleetNamespace(topo, []string{"app:app_pw", "u3:u3_pw"}, false))
	waitRevision(t, ms, rev, time.Now())
	for i, m := range ms {
		deadline := time.Now().Add(10 * time.Second)
		for !m.Healthy() {
			if time.Now().After(deadline) {
				t.Fatalf("proxy %d stayed in degraded mode", i)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}
