// Package server accepts client connections, performs the MySQL handshake
// (capability negotiation, TLS, authentication) and hands each logged-in
// client to a session.
package server

import (
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchyard-db/switchyard/internal/auth"
	"github.com/switchyard-db/switchyard/internal/protocol"
	"github.com/switchyard-db/switchyard/internal/session"
)

// Capabilities the proxy offers clients. Like a MariaDB server it leaves out
// CLIENT_LONG_PASSWORD (CLIENT_MYSQL), which announces MariaDB's extended
// capabilities (serverExtCaps).
const serverCaps = protocol.ClientFoundRows | protocol.ClientLongFlag |
	protocol.ClientConnectWithDB | protocol.ClientNoSchema | protocol.ClientODBC | protocol.ClientIgnoreSpace |
	protocol.ClientProtocol41 | protocol.ClientInteractive | protocol.ClientIgnoreSigpipe |
	protocol.ClientTransactions | protocol.ClientSecureConnection | protocol.ClientMultiStatements |
	protocol.ClientMultiResults | protocol.ClientPSMultiResults | protocol.ClientPluginAuth |
	protocol.ClientConnectAttrs | protocol.ClientPluginAuthLenencClientData |
	protocol.ClientSessionTrack | protocol.ClientDeprecateEOF

// serverExtCaps are the MariaDB extended capabilities the proxy offers:
// extended type info in column definitions (e.g. JSON).
const serverExtCaps = protocol.MariaDBClientExtendedMetadata

// DefaultServerVersion is announced in the handshake. The "5.5.5-" prefix
// is what MariaDB servers send, so that MySQL drivers treat the server as
// MariaDB-compatible rather than as MySQL 8.
const DefaultServerVersion = "5.5.5-10.11.0-MariaDB-switchyard"

// Options configure a Server.
type Options struct {
	Listen         string
	TLS            *tls.Config // nil: TLS not offered
	MaxConnections int
	MaxPacket      int
	ServerVersion  string
	// IdleTimeout closes client connections idle that long (0 = never).
	IdleTimeout time.Duration
	// HandshakeTimeout bounds the login exchange.
	HandshakeTimeout time.Duration
}

// Server is the client-facing listener.
type Server struct {
	opts Options
	env  *session.Env
	log  *slog.Logger

	ln      net.Listener
	version atomic.Pointer[string] // see SetVersion
	nextID  atomic.Uint32
	conns   atomic.Int64
	wg      sync.WaitGroup
	closed  atomic.Bool

	mu   sync.Mutex
	live map[net.Conn]struct{}

	loginLog *auth.LogLimiter // rate-limits the "login refused" log line
}

// New creates a server; call Start to listen.
func New(opts Options, env *session.Env) *Server {
	if opts.ServerVersion == "" {
		opts.ServerVersion = DefaultServerVersion
	}
	if opts.HandshakeTimeout == 0 {
		opts.HandshakeTimeout = 10 * time.Second
	}
	return &Server{opts: opts, env: env, log: env.Log, live: map[net.Conn]struct{}{}, loginLog: auth.NewLogLimiter(loginLogPerSecond)}
}

// SetVersion sets the version announced in the handshake (the backends'
// own, so that drivers pick the features of the real server).
func (s *Server) SetVersion(v string) {
	if v != "" {
		s.version.Store(&v)
	}
}

// Version returns the version announced in the handshake.
func (s *Server) Version() string {
	if v := s.version.Load(); v != nil {
		return *v
	}
	return s.opts.ServerVersion
}

// Start listens and serves in the background.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", s.opts.Listen)
	if err != nil {
		return err
	}
	s.ln = ln
	s.wg.Add(1)
	go s.serve()
	return nil
}

// Addr returns the listening address.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Connections returns the number of open client connections.
func (s *Server) Connections() int64 { return s.conns.Load() }

// Close stops accepting, closes every client connection and waits for the
// sessions to end.
func (s *Server) Close() error {
	s.mu.Lock()
	if !s.closed.CompareAndSwap(false, true) {
		s.mu.Unlock()
		return nil
	}
	s.mu.Unlock()
	err := s.ln.Close()
	s.mu.Lock()
	// TLS connections first: tls.Conn.Close sends close_notify, so that
	// clients see a clean end of stream (2013, reconnectable) rather than
	// a TLS error; closing the TCP connection first would prevent it.
	for c := range s.live {
		if tc, ok := c.(*tls.Conn); ok {
			_ = tc.SetWriteDeadline(time.Now().Add(time.Second))
			tc.Close()
		}
	}
	for c := range s.live {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

func (s *Server) serve() {
	defer s.wg.Done()
	var delay time.Duration
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			if s.closed.Load() {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || isTemporary(err) {
				delay = min(max(delay*2, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			s.log.Error("accept failed", "err", err)
			return
		}
		delay = 0
		s.wg.Add(1)
		go s.handle(nc)
	}
}

func isTemporary(err error) bool {
	type temporary interface{ Temporary() bool }
	var t temporary
	return errors.As(err, &t) && t.Temporary()
}

func (s *Server) track(nc net.Conn, add bool) {
	s.mu.Lock()
	if add {
		s.live[nc] = struct{}{}
		if s.closed.Load() {
			// Accepted just as Close went over the live connections:
			// close it too, or Close would wait for it forever.
			nc.Close()
		}
	} else {
		delete(s.live, nc)
	}
	s.mu.Unlock()
}

func (s *Server) handle(nc net.Conn) {
	defer s.wg.Done()
	s.track(nc, true)
	defer s.track(nc, false)
	n := s.conns.Add(1)
	defer s.conns.Add(-1)
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
		_ = tc.SetKeepAlive(true)
	}
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("internal error during login", "panic", r, "stack", string(debug.Stack()))
			nc.Close()
		}
	}()
	pc := protocol.NewConn(nc)
	id := s.nextID.Add(1)
	if s.opts.MaxConnections > 0 && n > int64(s.opts.MaxConnections) {
		pc.Seq = 0
		_ = pc.WriteFlush(protocol.AppendErr(nil, protocol.NewError(protocol.ErrConCount, "08004", "Too many connections")))
		nc.Close()
		return
	}
	sess := s.login(pc, id)
	if sess == nil {
		nc.Close()
		return
	}
	if tc, ok := pc.Conn.(*tls.Conn); ok {
		// Tracked for the session's life: Close ends it with close_notify.
		s.track(tc, true)
		defer s.track(tc, false)
	}
	s.env.Register(sess)
	defer s.env.Unregister(sess)
	m := sess.Metrics()
	m.ClientConnected()
	defer m.ClientDisconnected()
	sess.Run()
}

// login runs the handshake; it returns nil when the client did not log in
// (an error was sent where possible).
func (s *Server) login(pc *protocol.Conn, id uint32) *session.Session {
	_ = pc.SetDeadline(time.Now().Add(s.opts.HandshakeTimeout))
	host, _, _ := net.SplitHostPort(pc.RemoteAddr().String())
	caps := serverCaps
	if s.opts.TLS != nil {
		caps |= protocol.ClientSSL
	}
	scramble := protocol.NewScramble()
	g := &protocol.Greeting{
		ServerVersion: s.Version(),
		ConnectionID:  id,
		Scramble:      scramble,
		Capabilities:  caps,
		Charset:       protocol.CharsetUTF8MB4GeneralCI,
		Status:        protocol.StatusAutocommit,
		AuthPlugin:    s.env.Auth.DefaultPlugin(),

		ExtCapabilities: serverExtCaps,
	}
	pc.Seq = 0
	if err := pc.WriteFlush(protocol.AppendGreeting(nil, g)); err != nil {
		return nil
	}
	pc.MaxPacket = 64 << 10
	p, err := pc.ReadPacket()
	if err != nil {
		return nil
	}
	fail := func(e *protocol.Error) *session.Session {
		_ = pc.WriteFlush(protocol.AppendErr(nil, e))
		return nil
	}
	secure := false
	if protocol.IsSSLRequest(p) {
		if s.opts.TLS == nil {
			return fail(protocol.NewError(protocol.ErrHandshake, "08S01", "Bad handshake: TLS is not configured on this proxy"))
		}
		tc, err := pc.StartTLS(s.opts.TLS, true)
		if err != nil {
			return nil
		}
		secure = true
		s.track(tc, true)
		defer s.track(tc, false)
		if p, err = pc.ReadPacket(); err != nil {
			return nil
		}
	}
	resp, err := protocol.ParseHandshakeResponse(p)
	if err != nil {
		return fail(protocol.NewError(protocol.ErrHandshake, "08S01", "Bad handshake"))
	}
	clientCaps := resp.Capabilities & caps
	if resp.Capabilities&protocol.ClientLongPassword == 0 {
		pc.ExtCaps = resp.ExtCapabilities & serverExtCaps
	}
	ns, user, err := s.env.Auth.Verify(pc, auth.Request{
		User: resp.User, Host: host, Plugin: resp.AuthPlugin, Response: resp.AuthResponse,
		Scramble: scramble, Secure: secure, Check: s.checkHost(host),
	})
	if err != nil {
		var pe *protocol.Error
		if errors.As(err, &pe) {
			s.loginRefused(id, resp.User, host, pe)
			return fail(pe)
		}
		return nil
	}
	release, why, e := s.env.Gate.Admit(ns, user, host, secure)
	if e != nil {
		s.env.Metrics.LoginRefused(string(why))
		s.logRefusal(id, resp.User, host, string(why))
		return fail(e)
	}
	if clientCaps&protocol.ClientConnectWithDB == 0 {
		resp.Database = ""
	}
	pc.MaxPacket = s.opts.MaxPacket
	// An idle client is disconnected after IdleTimeout (0 = never).
	pc.ReadTimeout = s.opts.IdleTimeout
	sess := session.New(s.env, session.Login{
		ID: id, Conn: pc, Caps: clientCaps, Secure: secure, Host: host,
		Namespace: ns, User: user, DB: resp.Database, Collation: resp.Charset,
	})
	sess.Admitted(release)
	if e := sess.UseDB(resp.Database); e != nil {
		release()
		fail(e)
		return nil
	}
	ok := protocol.OK{Status: protocol.StatusAutocommit}
	if err := pc.WriteFlush(protocol.AppendOK(nil, protocol.OKHeader, &ok, clientCaps)); err != nil {
		sess.Close()
		return nil
	}
	_ = pc.SetDeadline(time.Time{})
	return sess
}
