package session

import (
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-db/switchyard/internal/config"
	"github.com/switchyard-db/switchyard/internal/fakedb"
	"github.com/switchyard-db/switchyard/internal/metrics"
	"github.com/switchyard-db/switchyard/internal/protocol"
	"github.com/switchyard-db/switchyard/internal/topology"
)

// The session harness: real sessions over fake backends (internal/fakedb,
// packet level), driven by a minimal client over an in-memory pipe. It
// tests session logic without MariaDB; answers that need real data stay in
// internal/integration.

// harness is a sharded namespace over two fake slices.
type harness struct {
	t      *testing.T
	env    *Env
	ns     *config.Namespace
	slices []*fakedb.Server
}

func newHarness(t *testing.T, transactions string) *harness {
	t.Helper()
	s0, s1 := fakedb.Start(t), fakedb.Start(t)
	yaml := fmt.Sprintf(`listen: 127.0.0.1:0
namespaces:
  - name: ns
    users:
      - {name: app, password: pw}
    backend: {user: proxy, password: proxy}
    transactions: %s
    default_slice: s0
    slices:
      - {name: s0, primary: %s}
      - {name: s1, primary: %s}
    databases:
      - name: db
        tables:
          - {name: t_user, type: sharded, key: id, algorithm: mod, slices: [s0, s1], tables_per_slice: 1}
`, transactions, s0.Addr(), s1.Addr())
	return harnessOn(t, yaml, s0, s1)
}

// harnessOn starts the environment of a harness whose configuration is
// yaml (one namespace) over the fake servers.
func harnessOn(t *testing.T, yaml string, servers ...*fakedb.Server) *harness {
	t.Helper()
	cfg, err := config.Parse([]byte(yaml), "harness.yaml")
	if err != nil {
		t.Fatal(err)
	}
	topo, err := topology.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(topo.Close)
	env := &Env{Topology: topo, Metrics: metrics.New(), Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Config: cfg, Started: time.Now(), FailoverHold: time.Second, ProxyID: "h1"}
	return &harness{t: t, env: env, ns: cfg.Namespaces[0], slices: servers}
}

// client is the client end of one session.
type client struct {
	t  *testing.T
	pc *protocol.Conn
}

const clientCaps = protocol.ClientProtocol41 | protocol.ClientDeprecateEOF | protocol.ClientTransactions |
	protocol.ClientSecureConnection | protocol.ClientMultiResults | protocol.ClientPSMultiResults |
	protocol.ClientPluginAuth | protocol.ClientSessionTrack

// connect starts a session in database db and returns its client end.
func (h *harness) connect() *client {
	h.t.Helper()
	cs, ss := net.Pipe()
	s := New(h.env, Login{ID: 1, Conn: protocol.NewConn(ss), Caps: clientCaps, Host: "127.0.0.1",
		Namespace: h.ns, User: &h.ns.Users[0], Collation: protocol.CharsetUTF8MB4GeneralCI})
	if e := s.UseDB("db"); e != nil {
		h.t.Fatal(e)
	}
	done := make(chan struct{})
	go func() { s.Run(); close(done) }()
	h.t.Cleanup(func() { cs.Close(); <-done })
	return &client{t: h.t, pc: protocol.NewConn(cs)}
}

// result is a statement's answer: an error, or the end status and the
// number of rows.
type result struct {
	err    *protocol.Error
	status uint16
	rows   int
}

func (c *client) send(cmd byte, body []byte) {
	c.t.Helper()
	c.pc.Seq = 0
	if err := c.pc.WriteFlush(append([]byte{cmd}, body...)); err != nil {
		c.t.Fatal(err)
	}
}

func (c *client) read() []byte {
	c.t.Helper()
	p, err := c.pc.ReadPacket()
	if err != nil {
		c.t.Fatal(err)
	}
	return p
}

// readResult reads an OK, an ERR or a result set.
func (c *client) readResult() result {
	c.t.Helper()
	p := c.read()
	switch {
	case protocol.IsErr(p):
		return result{err: protocol.ParseErr(p)}
	case protocol.IsOK(p):
		ok, err := protocol.ParseOK(p, clientCaps)
		if err != nil {
			c.t.Fatal(err)
		}
		return result{status: ok.Status}
	}
	n, _, _ := protocol.ReadLenEncInt(p)
	for i := uint64(0); i < n; i++ {
		c.read()
	}
	r := result{}
	for {
		p := c.read()
		if p[0] == protocol.EOFHeader && len(p) < 0xffffff {
			ok, err := protocol.ParseOK(p, clientCaps)
			if err != nil {
				c.t.Fatal(err)
			}
			r.status = ok.Status
			return r
		}
		if protocol.IsErr(p) {
			return result{err: protocol.ParseErr(p)}
		}
		r.rows++
	}
}

// query runs sql as COM_QUERY.
func (c *client) query(sql string) result {
	c.t.Helper()
	c.send(protocol.ComQuery, []byte(sql))
	return c.readResult()
}

// exec runs sql as COM_STMT_PREPARE + COM_STMT_EXECUTE (no parameters).
func (c *client) exec(sql string) result {
	c.t.Helper()
	c.send(protocol.ComStmtPrepare, []byte(sql))
	p := c.read()
	if protocol.IsErr(p) {
		return result{err: protocol.ParseErr(p)}
	}
	id := binary.LittleEndian.Uint32(p[1:])
	cols, params := binary.LittleEndian.Uint16(p[5:]), binary.LittleEndian.Uint16(p[7:])
	for i := 0; i < int(cols)+int(params); i++ {
		c.read()
	}
	body := binary.LittleEndian.AppendUint32(nil, id)
	body = append(body, 0, 1, 0, 0, 0)
	c.send(protocol.ComStmtExecute, body)
	r := c.readResult()
	c.send(protocol.ComStmtClose, binary.LittleEndian.AppendUint32(nil, id))
	return r
}

// run sends sql in the given protocol and fails the test on an error.
func (c *client) run(prepared bool, sql string) result {
	c.t.Helper()
	var r result
	if prepared {
		r = c.exec(sql)
	} else {
		r = c.query(sql)
	}
	if r.err != nil {
		c.t.Fatalf("%s: %v", sql, r.err)
	}
	return r
}

// userWrites lists the committed writes of t_user on each slice. A write
// must name the slice's physical table (t_user_0000 on s0, t_user_0001 on
// s1): one naming the logical table, or another slice's table, fails the
// test.
func (h *harness) userWrites() [2]int {
	h.t.Helper()
	var n [2]int
	for i, s := range h.slices {
		phys := fmt.Sprintf("`t_user_%04d`", i)
		for _, w := range s.Committed() {
			if !strings.Contains(w, "t_user") {
				continue
			}
			if !strings.Contains(w, phys) {
				h.t.Errorf("slice %d committed %q, which does not name its physical table %s", i, w, phys)
			}
			n[i]++
		}
	}
	return n
}
