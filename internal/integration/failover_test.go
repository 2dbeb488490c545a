package integration

import (
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/switchyard-db/switchyard/internal/loadgen"
	"github.com/switchyard-db/switchyard/internal/testtopo"
	"github.com/switchyard-db/switchyard/internal/topology"
)

// failoverSetup starts a private topology (1 slice: primary + 2 replicas),
// a proxy watching it closely, and a database for the load.
func failoverSetup(t *testing.T) (*harness, *testtopo.Topology) {
	t.Helper()
	topo := testtopo.StartPrivate(t, 1, 2, 0)
	h := startProxyOn(t, topo, options{
		extraTop: "monitor: {interval: 200ms, timeout: 300ms, down_after: 2}\nfailover_hold_timeout: 20s",
		pool:     "{connect_timeout: 500ms}",
	})
	topo.Exec(t, topo.Slices[0].Primary, "CREATE DATABASE it_fo")
	return h, topo
}

func startLoad(t *testing.T, h *harness) *loadgen.Load {
	t.Helper()
	l, err := loadgen.Start(loadgen.Options{
		DSN:     h.dsn(splitUser, splitPass, "it_fo", "timeout=5s"),
		Table:   "events",
		Writers: 4, Readers: 2, Idle: 20,
		Interval: 10 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// checkReport asserts what every failover must give clients.
func checkReport(t *testing.T, r loadgen.Report, check *sql.DB) {
	t.Helper()
	t.Logf("load: %v", r)
	if r.IdleDropped != 0 {
		t.Errorf("%d idle client connections were dropped", r.IdleDropped)
	}
	if r.MissingWrites != 0 {
		t.Errorf("%d acknowledged writes are missing on the primary", r.MissingWrites)
	}
	if r.AckedWrites == 0 {
		t.Errorf("no write succeeded")
	}
}

func TestFailoverPrimaryKilled(t *testing.T) {
	h, topo := failoverSetup(t)
	s := topo.Slices[0]
	l := startLoad(t, h)
	time.Sleep(500 * time.Millisecond)
	killed := time.Now()
	topo.Signal(t, s.Primary, syscall.SIGKILL)
	// The operator (or the cloud) promotes a replica a moment later.
	time.Sleep(700 * time.Millisecond)
	topo.Promote(t, s.Replicas[0])
	promoted := time.Now()
	topo.Repoint(t, s.Replicas[1], s.Replicas[0], "slave_pos")
	resumed, ok := l.WaitWrites(promoted, 10*time.Second)
	if !ok {
		t.Fatalf("writes did not resume within 10s of the promotion")
	}
	time.Sleep(300 * time.Millisecond)
	r := l.Stop(topo.RootDB(t, s.Replicas[0], "it_fo"))
	t.Logf("primary killed at 0; promoted at %v; writes resumed %v after the promotion", promoted.Sub(killed).Round(time.Millisecond), resumed.Sub(promoted).Round(time.Millisecond))
	checkReport(t, r, nil)
	// The proxy follows the new primary.
	waitFollows(t, h.proxy.Topology().Namespaces["itest"].Default, s.Replicas[0].Addr)
	db := h.open(plainUser, plainPass, "it_fo", "")
	if got := queryString(t, db, "SELECT @@port"); got != strconv.Itoa(s.Replicas[0].Port) {
		t.Fatalf("writes go to port %s", got)
	}
}

func TestFailoverPrimaryFrozen(t *testing.T) {
	h, topo := failoverSetup(t)
	s := topo.Slices[0]
	l := startLoad(t, h)
	time.Sleep(500 * time.Millisecond)
	topo.Signal(t, s.Primary, syscall.SIGSTOP)
	frozen := true
	t.Cleanup(func() {
		if frozen {
			topo.Signal(t, s.Primary, syscall.SIGCONT)
		}
	})
	time.Sleep(700 * time.Millisecond)
	topo.Promote(t, s.Replicas[0])
	promoted := time.Now()
	topo.Repoint(t, s.Replicas[1], s.Replicas[0], "slave_pos")
	resumed, ok := l.WaitWrites(promoted, 10*time.Second)
	if !ok {
		t.Fatalf("writes did not resume within 10s of the promotion")
	}
	t.Logf("writes resumed %v after the promotion", resumed.Sub(promoted).Round(time.Millisecond))
	// The old primary thaws, still writable: two writable nodes. The proxy
	// must stop writes rather than write to both.
	topo.Signal(t, s.Primary, syscall.SIGCONT)
	frozen = false
	deadline := time.Now().Add(5 * time.Second)
	for h.proxy.Topology().Namespaces["itest"].Default.Primary() != nil {
		if time.Now().After(deadline) {
			t.Fatal("two writable nodes, but the proxy still routes writes")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// While it is writable without being the primary it serves no reads.
	time.Sleep(400 * time.Millisecond)
	reads := h.open(splitUser, splitPass, "it_fo", "")
	for i := 0; i < 10; i++ {
		if got := queryString(t, reads, "SELECT @@port"); got == strconv.Itoa(s.Primary.Port) {
			t.Fatal("the thawed, still writable old primary served a read")
		}
	}
	// The operator demotes it; writes go on against the new primary.
	topo.Repoint(t, s.Primary, s.Replicas[0], "current_pos")
	if _, ok := l.WaitWrites(time.Now(), 10*time.Second); !ok {
		t.Fatal("writes did not resume after the split brain was resolved")
	}
	r := l.Stop(topo.RootDB(t, s.Replicas[0], "it_fo"))
	checkReport(t, r, nil)
}

func TestReplicaKilledAndRestarted(t *testing.T) {
	h, topo := failoverSetup(t)
	s := topo.Slices[0]
	l := startLoad(t, h)
	time.Sleep(300 * time.Millisecond)
	topo.Signal(t, s.Replicas[0], syscall.SIGKILL)
	// Reads keep flowing: the other replica and the primary serve them.
	time.Sleep(time.Second)
	db := h.open(splitUser, splitPass, "it_fo", "")
	for i := 0; i < 10; i++ {
		if got := queryString(t, db, "SELECT @@port"); got == strconv.Itoa(s.Replicas[0].Port) {
			t.Fatalf("read served by the killed replica")
		}
	}
	topo.StartNodes(t)
	// The replica comes back into rotation.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if queryString(t, db, "SELECT @@port") == strconv.Itoa(s.Replicas[0].Port) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the restarted replica never served reads again")
		}
		time.Sleep(50 * time.Millisecond)
	}
	r := l.Stop(topo.RootDB(t, s.Primary, "it_fo"))
	checkReport(t, r, nil)
	if r.FailedWrites != 0 {
		t.Errorf("a replica failure failed %d writes", r.FailedWrites)
	}
}

func TestPlannedSwitchover(t *testing.T) {
	h, topo := failoverSetup(t)
	s := topo.Slices[0]
	l := startLoad(t, h)
	time.Sleep(500 * time.Millisecond)
	url := fmt.Sprintf("http://%s/api/switchover?namespace=itest&slice=%s&target=%s", h.proxy.AdminAddr(), s.Name, s.Replicas[0].Addr)
	req, _ := http.NewRequest(http.MethodPost, url, nil)
	req.SetBasicAuth("admin", "admin")
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("switchover: %d %s", resp.StatusCode, body)
	}
	t.Logf("switchover took %v: %s", time.Since(start).Round(time.Millisecond), body)
	if _, ok := l.WaitWrites(time.Now(), 5*time.Second); !ok {
		t.Fatal("no write after the switchover")
	}
	time.Sleep(300 * time.Millisecond)
	r := l.Stop(topo.RootDB(t, s.Replicas[0], "it_fo"))
	checkReport(t, r, nil)
	if r.FailedWrites != 0 || r.FailedReads != 0 {
		t.Errorf("planned switchover failed statements: %v (first: %s)", r.Errors, r.FirstErrorText)
	}
	// The old primary is now a read-only replica of the new one.
	old := topo.RootDB(t, s.Primary, "")
	if got := queryString(t, old, "SELECT @@read_only"); got != "1" {
		t.Errorf("old primary read_only = %s", got)
	}
}

// waitFollows waits until slice's primary is addr. With the failover
// tests' 300 ms check timeout, a check that a loaded machine delays can
// mark the node down for a moment (writes are held until the next
// check): the state is waited for, not sampled once.
func waitFollows(t *testing.T, slice *topology.Slice, addr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		p := slice.Primary()
		if p != nil && p.Addr == addr {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the proxy's primary is %v, want %s", p, addr)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
