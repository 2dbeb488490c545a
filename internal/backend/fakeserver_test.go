package backend_test

import (
	"bytes"
	"cmp"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard-db/switchyard/internal/auth"
	"github.com/switchyard-db/switchyard/internal/config"
	"github.com/switchyard-db/switchyard/internal/protocol"
)

// Capabilities the fake server offers, as internal/server does.
const fakeServerCaps = protocol.ClientLongPassword | protocol.ClientFoundRows | protocol.ClientLongFlag |
	protocol.ClientConnectWithDB | protocol.ClientProtocol41 | protocol.ClientTransactions |
	protocol.ClientSecureConnection | protocol.ClientMultiStatements | protocol.ClientMultiResults |
	protocol.ClientPSMultiResults | protocol.ClientPluginAuth | protocol.ClientConnectAttrs |
	protocol.ClientPluginAuthLenencClientData | protocol.ClientSessionTrack | protocol.ClientDeprecateEOF

// fakeServer is a minimal MySQL server: it sends a greeting, authenticates
// with auth.Authenticator.Verify like internal/server's login does, and then
// answers commands.
type fakeServer struct {
	t  testing.TB
	ln net.Listener

	// Configuration; set before the first connection.
	auth     *auth.Authenticator // nil: any login succeeds without checking
	plugin   string              // greeting plugin; "" = auth.DefaultPlugin()
	caps     uint32              // greeting capabilities; 0 = fakeServerCaps
	tls      *tls.Config         // non-nil: TLS is offered
	version  string              // server version; "" = a MariaDB 10.11
	greeting func() []byte       // overrides the whole greeting payload
	// afterGreeting, when set, replaces authentication: it is called with
	// the client's first packet and must finish the login exchange.
	afterGreeting func(sc *serverConn, resp []byte)
	// query answers COM_QUERY; returning false falls back to a plain OK.
	query func(sc *serverConn, q string) bool
	// command sees every command first; returning true means handled.
	command func(sc *serverConn, p []byte) bool
	// delay is slept before answering the handshake response (to widen
	// races in pool tests).
	delay time.Duration

	accepted atomic.Int64
	open     atomic.Int64
	peak     atomic.Int64
	logins   atomic.Int64
	nextStmt atomic.Uint32

	mu    sync.Mutex
	conns []*serverConn
	wg    sync.WaitGroup
}

// serverConn is the server side of one client connection.
type serverConn struct {
	id   int
	nc   net.Conn // the accepted TCP connection
	pc   *protocol.Conn
	caps uint32 // negotiated; written before the login OK

	mu     sync.Mutex
	rec    *recConn // records the (post-TLS) traffic
	secure bool
	user   string
	cmds   []string
	done   chan struct{}
}

func (sc *serverConn) recorder() *recConn {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return sc.rec
}

func (sc *serverConn) isSecure() bool {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return sc.secure
}

func (sc *serverConn) log(s string) {
	sc.mu.Lock()
	sc.cmds = append(sc.cmds, s)
	sc.mu.Unlock()
}

// commands returns the commands received after login.
func (sc *serverConn) commands() []string {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return append([]string(nil), sc.cmds...)
}

// writeOK sends an OK packet.
func (sc *serverConn) writeOK(status uint16) error {
	return sc.pc.WriteFlush(protocol.AppendOK(nil, protocol.OKHeader, &protocol.OK{Status: status}, sc.caps))
}

// recConn records everything read and written through it.
type recConn struct {
	net.Conn
	mu     sync.Mutex
	rd, wr bytes.Buffer
}

func newRecConn(c net.Conn) *recConn { return &recConn{Conn: c} }

func (c *recConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	c.rd.Write(p[:n])
	c.mu.Unlock()
	return n, err
}

func (c *recConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.wr.Write(p)
	c.mu.Unlock()
	return c.Conn.Write(p)
}

func (c *recConn) written() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]byte(nil), c.wr.Bytes()...)
}

func (c *recConn) read() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]byte(nil), c.rd.Bytes()...)
}

// payloads splits a recorded byte stream into packet payloads.
func payloads(b []byte) [][]byte {
	var out [][]byte
	for len(b) >= 4 {
		n := int(b[0]) | int(b[1])<<8 | int(b[2])<<16
		if len(b) < 4+n {
			break
		}
		out = append(out, b[4:4+n])
		b = b[4+n:]
	}
	return out
}

func hasPayload(pkts [][]byte, want []byte) bool {
	for _, p := range pkts {
		if bytes.Equal(p, want) {
			return true
		}
	}
	return false
}

func newFakeServer(t testing.TB) *fakeServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &fakeServer{t: t, ln: ln}
	t.Cleanup(s.Close)
	return s
}

// start begins accepting; call after configuring the server.
func (s *fakeServer) start() *fakeServer {
	s.wg.Add(1)
	go s.serve()
	return s
}

func (s *fakeServer) addr() string { return s.ln.Addr().String() }

func (s *fakeServer) Close() {
	s.ln.Close()
	s.mu.Lock()
	for _, sc := range s.conns {
		sc.nc.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// conn returns the i-th accepted connection.
func (s *fakeServer) conn(i int) *serverConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i >= len(s.conns) {
		return nil
	}
	return s.conns[i]
}

func (s *fakeServer) allCommands() []string {
	s.mu.Lock()
	conns := append([]*serverConn(nil), s.conns...)
	s.mu.Unlock()
	var out []string
	for _, sc := range conns {
		for _, c := range sc.commands() {
			out = append(out, fmt.Sprintf("%d:%s", sc.id, c))
		}
	}
	return out
}

func (s *fakeServer) serve() {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.accepted.Add(1)
		n := s.open.Add(1)
		for {
			p := s.peak.Load()
			if n <= p || s.peak.CompareAndSwap(p, n) {
				break
			}
		}
		rec := newRecConn(nc)
		sc := &serverConn{nc: nc, pc: protocol.NewConn(rec), rec: rec, done: make(chan struct{})}
		s.mu.Lock()
		sc.id = len(s.conns)
		s.conns = append(s.conns, sc)
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer close(sc.done)
			defer s.open.Add(-1)
			defer nc.Close()
			s.handle(sc, nc)
		}()
	}
}

// readRaw reads one packet directly from nc, without read-ahead, so that a
// TLS handshake that follows an SSLRequest finds its bytes unread.
func readRaw(nc net.Conn) (seq byte, payload []byte, err error) {
	var hdr [4]byte
	if _, err := io.ReadFull(nc, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := int(hdr[0]) | int(hdr[1])<<8 | int(hdr[2])<<16
	payload = make([]byte, n)
	if _, err := io.ReadFull(nc, payload); err != nil {
		return 0, nil, err
	}
	return hdr[3], payload, nil
}

func (s *fakeServer) handle(sc *serverConn, nc net.Conn) {
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	caps := s.caps
	if caps == 0 {
		caps = fakeServerCaps
	}
	if s.tls != nil {
		caps |= protocol.ClientSSL
	}
	plugin := s.plugin
	if plugin == "" && s.auth != nil {
		plugin = s.auth.DefaultPlugin()
	}
	if plugin == "" {
		plugin = protocol.AuthNativePassword
	}
	scramble := protocol.NewScramble()
	var greeting []byte
	if s.greeting != nil {
		greeting = s.greeting()
	} else {
		greeting = protocol.AppendGreeting(nil, &protocol.Greeting{
			ServerVersion: cmp.Or(s.version, "5.5.5-10.11.0-MariaDB-fake"), ConnectionID: uint32(sc.id + 100), Scramble: scramble,
			Capabilities: caps, Charset: protocol.CharsetUTF8MB4GeneralCI, Status: protocol.StatusAutocommit,
			AuthPlugin: plugin,
		})
	}
	sc.pc.Seq = 0
	if err := sc.pc.WriteFlush(greeting); err != nil {
		return
	}
	seq, p, err := readRaw(sc.recorder())
	if err != nil {
		return
	}
	sc.pc.Seq = seq + 1
	if s.afterGreeting != nil {
		s.afterGreeting(sc, p)
		return
	}
	if protocol.IsSSLRequest(p) {
		if s.tls == nil {
			return
		}
		tc := tls.Server(nc, s.tls)
		if err := tc.Handshake(); err != nil {
			s.t.Logf("server TLS handshake: %v", err)
			return
		}
		// readRaw left nothing buffered, so a fresh framing Conn over the
		// (recorded) TLS connection can take over.
		rec := newRecConn(tc)
		seq := sc.pc.Seq
		sc.pc = protocol.NewConn(rec)
		sc.pc.Seq = seq
		sc.mu.Lock()
		sc.rec, sc.secure = rec, true
		sc.mu.Unlock()
		if p, err = sc.pc.ReadPacket(); err != nil {
			return
		}
	}
	resp, err := protocol.ParseHandshakeResponse(p)
	if err != nil {
		_ = sc.pc.WriteFlush(protocol.AppendErr(nil, protocol.NewError(protocol.ErrHandshake, "08S01", "Bad handshake")))
		return
	}
	sc.caps = resp.Capabilities & caps
	sc.mu.Lock()
	sc.user = resp.User
	sc.mu.Unlock()
	if s.delay > 0 {
		time.Sleep(s.delay)
	}
	if s.auth != nil {
		_, _, err := s.auth.Verify(sc.pc, auth.Request{
			User: resp.User, Host: "127.0.0.1", Plugin: resp.AuthPlugin, Response: resp.AuthResponse,
			Scramble: scramble, Secure: sc.secure,
		})
		if err != nil {
			var pe *protocol.Error
			if errors.As(err, &pe) {
				_ = sc.pc.WriteFlush(protocol.AppendErr(nil, pe))
			}
			return
		}
	}
	if err := sc.writeOK(protocol.StatusAutocommit); err != nil {
		return
	}
	s.logins.Add(1)
	_ = nc.SetDeadline(time.Time{})
	s.commandLoop(sc)
}

func (s *fakeServer) commandLoop(sc *serverConn) {
	for {
		p, err := sc.pc.ReadPacket()
		if err != nil || len(p) == 0 {
			return
		}
		arg := string(p[1:])
		if s.command != nil && s.command(sc, p) {
			continue
		}
		switch p[0] {
		case protocol.ComQuit:
			sc.log("COM_QUIT")
			return
		case protocol.ComQuery:
			sc.log("COM_QUERY " + arg)
			if s.query != nil && s.query(sc, arg) {
				continue
			}
			err = sc.writeOK(protocol.StatusAutocommit)
		case protocol.ComStmtPrepare:
			id := s.nextStmt.Add(1)
			sc.log(fmt.Sprintf("COM_STMT_PREPARE %d %s", id, arg))
			err = sc.pc.WriteFlush(protocol.AppendStmtPrepareOK(nil, &protocol.StmtPrepareOK{StmtID: id}))
		case protocol.ComStmtClose:
			if len(p) >= 5 {
				sc.log(fmt.Sprintf("COM_STMT_CLOSE %d", binary.LittleEndian.Uint32(p[1:])))
			}
		case protocol.ComInitDB:
			sc.log("COM_INIT_DB " + arg)
			err = sc.writeOK(protocol.StatusAutocommit)
		default:
			sc.log(protocol.CommandName(p[0]))
			err = sc.writeOK(protocol.StatusAutocommit)
		}
		if err != nil {
			return
		}
	}
}

// users builds an auth.Lookup over user -> password.
func users(m map[string]string) auth.Lookup {
	ns := &config.Namespace{Name: "test"}
	us := map[string]*config.User{}
	for name, pw := range m {
		us[name] = &config.User{Name: name, Password: pw}
	}
	return func(user string) (*config.Namespace, *config.User, bool) {
		u, ok := us[user]
		return ns, u, ok
	}
}

// selfSignedTLS returns a server config with a fresh self-signed
// certificate for 127.0.0.1.
func selfSignedTLS(t testing.TB) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "switchyard-test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}

// resultSet encodes a DEPRECATE_EOF text result set.
func resultSet(caps uint32, status uint16, cols []string, rows [][]*string) [][]byte {
	var out [][]byte
	out = append(out, protocol.AppendLenEncInt(nil, uint64(len(cols))))
	for _, c := range cols {
		out = append(out, protocol.AppendColumnDef(nil, &protocol.ColumnDef{Name: c, OrgName: c, Type: protocol.TypeVarString, Charset: 45}))
	}
	for _, r := range rows {
		var p []byte
		for _, v := range r {
			if v == nil {
				p = append(p, 0xfb)
			} else {
				p = protocol.AppendLenEncString(p, *v)
			}
		}
		out = append(out, p)
	}
	out = append(out, protocol.AppendOK(nil, protocol.EOFHeader, &protocol.OK{Status: status}, caps))
	return out
}

func writeAll(sc *serverConn, pkts ...[]byte) bool {
	for _, p := range pkts {
		if err := sc.pc.WritePacket(p); err != nil {
			return true
		}
	}
	_ = sc.pc.Flush()
	return true
}

func strp(s string) *string { return &s }
