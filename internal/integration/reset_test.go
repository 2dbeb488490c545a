package integration

import (
	"bytes"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/switchyard-db/switchyard/internal/testtopo"
)

// resetter is a TCP relay in front of a backend that, once armed, closes
// with a reset the first connection whose client sends a packet containing
// marker, without forwarding it: the server never sees the statement, as
// when it dies just before the statement arrives.
type resetter struct {
	ln     net.Listener
	target string
	marker []byte
	armed  atomic.Bool
	resets atomic.Int32
	wg     sync.WaitGroup
}

func newResetter(t *testing.T, target, marker string) *resetter {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &resetter{ln: ln, target: target, marker: []byte(marker)}
	r.wg.Add(1)
	go r.accept()
	t.Cleanup(func() { ln.Close(); r.wg.Wait() })
	return r
}

func (r *resetter) accept() {
	defer r.wg.Done()
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", r.target)
		if err != nil {
			c.Close()
			continue
		}
		go func() { io.Copy(c, s); c.Close() }()
		go func() {
			buf := make([]byte, 64<<10)
			for {
				n, err := c.Read(buf)
				if n > 0 && bytes.Contains(buf[:n], r.marker) && r.armed.CompareAndSwap(true, false) {
					r.resets.Add(1)
					c.(*net.TCPConn).SetLinger(0) // close with RST
					c.Close()
					s.Close()
					return
				}
				if n > 0 {
					if _, werr := s.Write(buf[:n]); werr != nil {
						break
					}
				}
				if err != nil {
					break
				}
			}
			s.Close()
		}()
	}
}

// TestStatementResetUnreadIsRetried: a statement whose backend connection
// is reset before the server read it runs again on another connection and
// succeeds, exactly once; a prepare is retried the same way.
func TestStatementResetUnreadIsRetried(t *testing.T) {
	topo := testtopo.Require(t)
	p := topo.Slices[0].Primary
	r := newResetter(t, p.Addr, "RESETME")
	via := *topo
	via.Slices = append([]testtopo.Slice(nil), topo.Slices...)
	via.Slices[0].Primary.Addr = r.ln.Addr().String()
	via.Slices[0].Replicas = nil
	h := startProxyOn(t, &via, options{})
	topo.Exec(t, p, "DROP DATABASE IF EXISTS it_reset", "CREATE DATABASE it_reset", "CREATE TABLE it_reset.t (id INT PRIMARY KEY)")
	t.Cleanup(func() { topo.Exec(t, p, "DROP DATABASE IF EXISTS it_reset") })
	db := h.open(plainUser, plainPass, "it_reset", "interpolateParams=true")
	mustExec(t, db, "SELECT 1") // a pooled backend connection exists
	r.armed.Store(true)
	mustExec(t, db, "INSERT INTO t VALUES (1) /* RESETME */")
	if r.resets.Load() != 1 {
		t.Fatalf("%d resets, want 1", r.resets.Load())
	}
	if got := queryString(t, topo.RootDB(t, p, "it_reset"), "SELECT COUNT(*) FROM t"); got != "1" {
		t.Fatalf("%s rows after the retried insert, want exactly 1", got)
	}
	// Server-side prepare (go-sql-driver without interpolateParams).
	ps := h.open(plainUser, plainPass, "it_reset", "")
	r.armed.Store(true)
	if _, err := ps.Exec("INSERT INTO t VALUES (?) /* RESETME */", 2); err != nil {
		t.Fatal(err)
	}
	if r.resets.Load() != 2 {
		t.Fatalf("%d resets, want 2", r.resets.Load())
	}
	if got := queryString(t, topo.RootDB(t, p, "it_reset"), "SELECT GROUP_CONCAT(id ORDER BY id) FROM t"); got != "1,2" {
		t.Fatalf("rows %s, want 1,2", got)
	}
}
