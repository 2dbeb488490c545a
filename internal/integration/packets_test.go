package integration

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-db/switchyard/internal/protocol"
)

// rawClient is a minimal MySQL client with chosen capabilities that keeps
// every response packet as it arrived, for byte-level comparisons.
type rawClient struct {
	c    *protocol.Conn
	caps uint32
}

// Capability sets of the byte comparison: what common clients send.
var rawCapSets = []struct {
	name string
	caps uint32
	ext  uint32
}{
	// MariaDB Connector/C, Connector/J, mysql2: OK-terminated results,
	// session tracking, extended type info.
	{"deprecate-eof+session-track+ext-metadata", protocol.ClientLongFlag | protocol.ClientProtocol41 | protocol.ClientTransactions |
		protocol.ClientSecureConnection | protocol.ClientMultiStatements | protocol.ClientMultiResults | protocol.ClientPSMultiResults |
		protocol.ClientPluginAuth | protocol.ClientPluginAuthLenencClientData | protocol.ClientSessionTrack | protocol.ClientDeprecateEOF |
		protocol.ClientConnectWithDB, protocol.MariaDBClientExtendedMetadata},
	// PHP mysqlnd: classic EOF packets, no session tracking.
	{"classic-eof (mysqlnd)", protocol.ClientLongPassword | protocol.ClientLongFlag | protocol.ClientProtocol41 | protocol.ClientTransactions |
		protocol.ClientSecureConnection | protocol.ClientMultiResults | protocol.ClientPSMultiResults | protocol.ClientPluginAuth |
		protocol.ClientConnectWithDB, 0},
	// FOUND_ROWS, session tracking with classic EOF (libmysqlclient-like).
	{"found-rows+session-track+classic-eof", protocol.ClientLongPassword | protocol.ClientFoundRows | protocol.ClientLongFlag | protocol.ClientProtocol41 |
		protocol.ClientTransactions | protocol.ClientSecureConnection | protocol.ClientMultiStatements | protocol.ClientMultiResults |
		protocol.ClientPluginAuth | protocol.ClientSessionTrack | protocol.ClientConnectWithDB, 0},
}

// dialRaw logs in with mysql_native_password or caching_sha2_password
// (fast path only) using exactly caps/ext.
func dialRaw(t *testing.T, addr, user, pass, db string, caps, ext uint32) *rawClient {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(30 * time.Second))
	c := protocol.NewConn(nc)
	p, err := c.ReadPacket()
	if err != nil {
		t.Fatal(err)
	}
	g, err := protocol.ParseGreeting(p)
	if err != nil {
		t.Fatal(err)
	}
	if g.Capabilities&protocol.ClientLongPassword != 0 {
		ext = 0
	}
	plugin := g.AuthPlugin
	scramble := g.Scramble[:20]
	auth := func() []byte {
		if plugin == protocol.AuthCachingSHA2Password {
			return protocol.ScrambleCachingSHA2(scramble, pass)
		}
		return protocol.ScrambleNative(scramble, pass)
	}
	resp := &protocol.HandshakeResponse{Capabilities: caps, MaxPacket: 1 << 24, Charset: protocol.CharsetUTF8MB4GeneralCI,
		User: user, AuthResponse: auth(), Database: db, AuthPlugin: plugin, ExtCapabilities: ext}
	if err := c.WriteFlush(protocol.AppendHandshakeResponse(nil, resp, false)); err != nil {
		t.Fatal(err)
	}
	for {
		p, err := c.ReadPacket()
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case protocol.IsOK(p):
			c.ExtCaps = ext
			return &rawClient{c: c, caps: caps}
		case protocol.IsErr(p):
			t.Fatalf("login %s@%s: %v", user, addr, protocol.ParseErr(p))
		case p[0] == protocol.AuthSwitchRequest:
			name, data, err := protocol.ParseAuthSwitch(p)
			if err != nil {
				t.Fatal(err)
			}
			plugin, scramble = name, data[:20]
			if err := c.WriteFlush(auth()); err != nil {
				t.Fatal(err)
			}
		case p[0] == protocol.AuthMoreData && len(p) > 1 && p[1] == 3:
		default:
			t.Fatalf("login %s@%s: unexpected packet %x", user, addr, p)
		}
	}
}

// query sends COM_QUERY and returns the response packets, copied.
func (r *rawClient) query(t *testing.T, sql string) [][]byte {
	t.Helper()
	r.c.Seq = 0
	if err := r.c.WriteFlush(append([]byte{protocol.ComQuery}, sql...)); err != nil {
		t.Fatal(err)
	}
	return r.response(t, sql)
}

// response reads the response to a COM_QUERY or COM_STMT_EXECUTE (all its
// results) and returns its packets, copied.
func (r *rawClient) response(t *testing.T, sql string) [][]byte {
	t.Helper()
	var out [][]byte
	read := func() []byte {
		p, err := r.c.ReadPacket()
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		p = append([]byte(nil), p...)
		out = append(out, p)
		return p
	}
	deprecate := r.caps&protocol.ClientDeprecateEOF != 0
	for {
		p := read()
		var status uint16
		switch {
		case protocol.IsErr(p):
			return out
		case protocol.IsOK(p):
			ok, err := protocol.ParseOK(p, r.caps)
			if err != nil {
				t.Fatal(err)
			}
			status = ok.Status
		default:
			n, _, _ := protocol.ReadLenEncInt(p)
			for i := uint64(0); i < n; i++ {
				read()
			}
			if !deprecate {
				read()
			}
			for {
				p = read()
				if protocol.IsErr(p) {
					return out
				}
				if protocol.IsEOF(p) {
					break
				}
			}
			if deprecate {
				ok, _ := protocol.ParseOK(p, r.caps)
				status = ok.Status
			} else {
				_, status = protocol.ParseEOF(p)
			}
		}
		if status&protocol.StatusMoreResultsExists == 0 {
			return out
		}
	}
}

// command sends a command answered by one packet and returns it.
func (r *rawClient) command(t *testing.T, cmd []byte) [][]byte {
	t.Helper()
	r.c.Seq = 0
	if err := r.c.WriteFlush(cmd); err != nil {
		t.Fatal(err)
	}
	p, err := r.c.ReadPacket()
	if err != nil {
		t.Fatal(err)
	}
	return [][]byte{append([]byte(nil), p...)}
}

// fieldList sends COM_FIELD_LIST and returns the response packets.
func (r *rawClient) fieldList(t *testing.T, table string) [][]byte {
	t.Helper()
	r.c.Seq = 0
	if err := r.c.WriteFlush(append(append([]byte{protocol.ComFieldList}, table...), 0)); err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for {
		p, err := r.c.ReadPacket()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, append([]byte(nil), p...))
		if protocol.IsErr(p) || protocol.IsEOF(p) {
			return out
		}
	}
}

// TestPacketsByteIdentical compares, packet by packet and byte by byte, the
// responses of the proxy (a sharded namespace over s0 and s1, where the
// proxy builds OK, EOF, column definitions and rows itself when it merges
// scattered results, and plain tables it relays) with those of a MariaDB
// server (slice s2, not used by the namespace) holding the same tables
// unsharded, for several capability sets. Nothing is masked: the statements
// carry no connection ids, and the status flags must agree too.
func TestPacketsByteIdentical(t *testing.T) {
	h := startProxy(t, options{slices: 2, nsExtra: `    default_slice: s0
    databases:
      - name: it_bytes
        tables:
          - {name: t, type: sharded, key: id, algorithm: hash, slices: [s0, s1], tables_per_slice: 2}
`})
	ref := h.topo.Slices[2].Primary
	for _, n := range []int{0, 1} {
		h.topo.Exec(t, h.topo.Slices[n].Primary, "DROP DATABASE IF EXISTS it_bytes", "CREATE DATABASE it_bytes")
	}
	h.topo.Exec(t, ref, "DROP DATABASE IF EXISTS it_bytes", "CREATE DATABASE it_bytes")
	t.Cleanup(func() {
		for _, n := range []int{0, 1, 2} {
			h.topo.Exec(t, h.topo.Slices[n].Primary, "DROP DATABASE IF EXISTS it_bytes")
		}
	})
	schema := []string{
		"CREATE TABLE t (id BIGINT PRIMARY KEY, name VARCHAR(20) NOT NULL DEFAULT '', amount DECIMAL(10,2), at DATETIME(6), doc JSON, bin BLOB, note TEXT)",
		"CREATE TABLE p (id INT PRIMARY KEY AUTO_INCREMENT, v INT)",
	}
	data := []string{
		`INSERT INTO t VALUES (1, 'one', 1.50, '2024-01-02 03:04:05.123456', '{"a": 1}', x'00ff', NULL), (2, 'two', NULL, NULL, '[1, 2]', NULL, 'x'), (3, '', -3.25, '1999-12-31 23:59:59.000000', NULL, x'', '')`,
		"INSERT INTO p (v) VALUES (10), (20)",
	}
	// Statements whose answers are compared. The sharded ones make the
	// proxy merge (ORDER BY, COUNT, scattered UPDATE) or route.
	stmts := []string{
		"SELECT * FROM t ORDER BY id",
		"SELECT id, name, doc FROM t WHERE id = 2",
		"SELECT COUNT(*) FROM t",
		"SELECT COUNT(*) AS n, SUM(amount) AS s FROM t",
		"SELECT id, amount FROM t ORDER BY amount DESC LIMIT 2",
		"SELECT * FROM t WHERE id = 99",
		"UPDATE t SET name = 'uno' WHERE id = 1",
		"UPDATE t SET note = 'n' WHERE id = 1",
		"UPDATE t SET note = 'all'",
		"DELETE FROM t WHERE id = 3",
		"INSERT INTO t (id, name) VALUES (10, 'a'), (11, 'b'), (12, 'c'), (13, 'd')",
		"INSERT INTO t (id, name) VALUES (20, 'e')",
		"INSERT INTO t (id, name) VALUES (1, 'dup')",
		"UPDATE t SET name = 'z' WHERE id IN (10, 11, 12)",
		"DELETE FROM t WHERE id >= 10",
		"SELECT ROW_COUNT()",
		"SELECT FOUND_ROWS()",
		"INSERT INTO p (v) VALUES (30), (40)",
		"UPDATE p SET v = v + 1",
		"SELECT * FROM p ORDER BY id",
		"INSERT INTO p (v) VALUES (50)",
		"SELECT LAST_INSERT_ID()",
		"SELECT * FROM missing_table",
		"SELECT 1, 'a', NULL, 2.5",
		"DO 1",
	}
	for i, cs := range rawCapSets {
		t.Run(cs.name, func(t *testing.T) {
			direct := dialRaw(t, ref.Addr, h.topo.RootUser, h.topo.RootPassword, "it_bytes", cs.caps, cs.ext)
			proxied := dialRaw(t, h.addr, plainUser, plainPass, "it_bytes", cs.caps, cs.ext)
			for _, q := range []string{"DROP TABLE IF EXISTS t", "DROP TABLE IF EXISTS p"} {
				direct.query(t, q)
				proxied.query(t, q)
			}
			for _, q := range append(schema, data...) {
				for _, c := range []*rawClient{direct, proxied} {
					if p := c.query(t, q); protocol.IsErr(p[0]) {
						t.Fatalf("%s: %v", q, protocol.ParseErr(p[0]))
					}
				}
			}
			_ = i
			for _, q := range stmts {
				want := maskIndexHints(direct.query(t, q))
				got := maskIndexHints(proxied.query(t, q))
				if d := diffPackets(want, got); d != "" {
					t.Errorf("%s:\n%s", q, d)
				}
			}
			// The same reads prepared and executed: binary rows, built by
			// the proxy for merged results.
			for _, q := range []string{
				"SELECT * FROM t ORDER BY id",
				"SELECT id, name, doc FROM t WHERE id = 2",
				"SELECT COUNT(*) FROM t",
				"SELECT COUNT(*) AS n, SUM(amount) AS s FROM t",
				"SELECT id, amount FROM t ORDER BY amount DESC LIMIT 2",
				"SELECT * FROM t WHERE id = 99",
				"SELECT * FROM p ORDER BY id",
				"SELECT LAST_INSERT_ID()",
				"SELECT ROW_COUNT()",
				"SELECT 1, 'a', NULL, 2.5",
			} {
				want := maskIndexHints(direct.execute(t, q))
				got := maskIndexHints(proxied.execute(t, q))
				if d := diffPackets(want, got); d != "" {
					t.Errorf("prepared %s:\n%s", q, d)
				}
			}
			// COM_SET_OPTION (multi-statements off and on): an EOF, or an
			// OK with the EOF header under DEPRECATE_EOF.
			for _, opt := range []byte{1, 0} {
				want := direct.command(t, []byte{protocol.ComSetOption, opt, 0})
				got := proxied.command(t, []byte{protocol.ComSetOption, opt, 0})
				if d := diffPackets(want, got); d != "" {
					t.Errorf("COM_SET_OPTION %d:\n%s", opt, d)
				}
			}
			// COM_FIELD_LIST of a sharded and of a plain table.
			for _, table := range []string{"t", "p"} {
				want := direct.fieldList(t, table)
				got := proxied.fieldList(t, table)
				if d := diffPackets(want, got); d != "" {
					t.Errorf("COM_FIELD_LIST %s:\n%s", table, d)
				}
			}
		})
	}
}

// maskIndexHints clears SERVER_QUERY_NO_GOOD_INDEX_USED and
// SERVER_QUERY_NO_INDEX_USED (0x10, 0x20) in the status of OK and EOF
// packets: the only thing masked. They say whether the server scanned
// without an index; the proxy does not carry them from the physical
// statements of a merged result into the status it builds.
func maskIndexHints(ps [][]byte) [][]byte {
	const hints = 0x10 | 0x20
	for _, p := range ps {
		switch {
		case len(p) == 5 && p[0] == protocol.EOFHeader:
			p[3] &^= hints
		case len(p) >= 7 && (p[0] == protocol.OKHeader || p[0] == protocol.EOFHeader):
			_, _, n := protocol.ReadLenEncInt(p[1:])
			_, _, m := protocol.ReadLenEncInt(p[1+n:])
			if pos := 1 + n + m; n > 0 && m > 0 && pos+2 <= len(p) {
				p[pos] &^= hints
			}
		}
	}
	return ps
}

// diffPackets describes the first difference between two packet lists.
func diffPackets(want, got [][]byte) string {
	var b strings.Builder
	for i := 0; i < max(len(want), len(got)); i++ {
		var w, g []byte
		if i < len(want) {
			w = want[i]
		}
		if i < len(got) {
			g = got[i]
		}
		if !bytes.Equal(w, g) {
			fmt.Fprintf(&b, "packet %d differs\n  mariadb: %x %q\n  proxy:   %x %q\n", i, w, w, g, g)
		}
	}
	if len(want) != len(got) {
		fmt.Fprintf(&b, "mariadb sent %d packets, the proxy %d\n", len(want), len(got))
	}
	return b.String()
}

var _ = errors.New
