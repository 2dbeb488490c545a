package backend_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-db/switchyard/internal/auth"
	"github.com/switchyard-db/switchyard/internal/backend"
	"github.com/switchyard-db/switchyard/internal/protocol"
)

var testUsers = map[string]string{
	"app":     "secret",
	"nopw":    "",
	"alice":   "alice-pw",
	"bob":     "bob-pw",
	"carol":   "carol-pw",
	"tlsuser": "tls-pw",
	"tlsbad":  "tls-pw2",
	"switch":  "switch-pw",
	"long":    strings.Repeat("L", 80),
}

// The caching_sha2 authenticator is shared so that its RSA key is generated
// once; every test uses its own users to control the fast-path cache.
var (
	sha2AuthOnce sync.Once
	sha2Auth     *auth.Authenticator
)

func cachingAuth() *auth.Authenticator {
	sha2AuthOnce.Do(func() { sha2Auth = auth.New(users(testUsers), protocol.AuthCachingSHA2Password) })
	return sha2Auth
}

// freshCachingAuth returns the shared caching_sha2 authenticator with an
// empty fast-path cache (SetLookup clears it but keeps the RSA key).
func freshCachingAuth() *auth.Authenticator {
	a := cachingAuth()
	a.SetLookup(users(testUsers))
	return a
}

func dial(t testing.TB, addr, user, pw string) (*backend.Conn, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return backend.Dial(ctx, addr, backend.DialOptions{User: user, Password: pw, ConnectTimeout: 5 * time.Second})
}

// wantAccessDenied checks that err is ER_ACCESS_DENIED_ERROR.
func wantAccessDenied(t *testing.T, err error, user, usingPassword string) {
	t.Helper()
	var pe *protocol.Error
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v (%T), want *protocol.Error", err, err)
	}
	if pe.Code != 1045 || pe.State != "28000" {
		t.Errorf("err = %v, want 1045 (28000)", pe)
	}
	if want := fmt.Sprintf("'%s'@", user); !strings.Contains(pe.Message, want) || !strings.Contains(pe.Message, "using password: "+usingPassword) {
		t.Errorf("message %q, want user %s and using password: %s", pe.Message, user, usingPassword)
	}
}

// waitFor polls cond for up to 5 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestDialNativePassword(t *testing.T) {
	s := newFakeServer(t)
	s.auth = auth.New(users(testUsers), protocol.AuthNativePassword)
	s.start()
	tests := []struct {
		name, user, pw string
		ok             bool
		usingPassword  string
	}{
		{"right password", "app", "secret", true, ""},
		{"wrong password", "app", "Secret", false, "YES"},
		{"no password given", "app", "", false, "NO"},
		{"unknown user", "mallory", "secret", false, "YES"},
		{"empty password account", "nopw", "", true, ""},
		{"password for empty-password account", "nopw", "x", false, "YES"},
		{"long password", "long", strings.Repeat("L", 80), true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := dial(t, s.addr(), tt.user, tt.pw)
			if !tt.ok {
				if c != nil {
					c.Close()
				}
				wantAccessDenied(t, err, tt.user, tt.usingPassword)
				return
			}
			if err != nil {
				t.Fatalf("Dial: %v", err)
			}
			defer c.Close()
			if !strings.Contains(c.Version, "MariaDB") || !c.IsMariaDB() {
				t.Errorf("Version = %q", c.Version)
			}
			if c.Caps&protocol.ClientDeprecateEOF == 0 || c.Caps&protocol.ClientSessionTrack == 0 || c.Caps&protocol.ClientProtocol41 == 0 {
				t.Errorf("Caps = %#x", c.Caps)
			}
			if c.Status&protocol.StatusAutocommit == 0 {
				t.Errorf("Status = %#x", c.Status)
			}
			if c.Broken() {
				t.Error("fresh connection is broken")
			}
		})
	}
	// Every successful login ran the session-tracking SET, and Close sent
	// COM_QUIT.
	waitFor(t, "COM_QUIT from every successful login", func() bool {
		return strings.Count(strings.Join(s.allCommands(), "\n"), "COM_QUIT") == 3
	})
	cmds := s.allCommands()
	if n := strings.Count(strings.Join(cmds, "\n"), "COM_QUERY SET SESSION session_track_system_variables='*'"); n != 3 {
		t.Errorf("session tracking enabled %d times, want 3; commands: %q", n, cmds)
	}
}

func TestDialConnectAttrsAndServerID(t *testing.T) {
	s := newFakeServer(t)
	var got *protocol.HandshakeResponse
	var mu sync.Mutex
	s.afterGreeting = func(sc *serverConn, p []byte) {
		r, err := protocol.ParseHandshakeResponse(p)
		if err != nil {
			t.Errorf("client response: %v", err)
			return
		}
		mu.Lock()
		got = r
		mu.Unlock()
		sc.caps = r.Capabilities
		_ = sc.writeOK(protocol.StatusAutocommit)
		s.commandLoop(sc)
	}
	s.start()
	c, err := dial(t, s.addr(), "app", "")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.ServerID != 100 {
		t.Errorf("ServerID = %d, want 100", c.ServerID)
	}
	mu.Lock()
	defer mu.Unlock()
	if got.Attrs["_client_name"] != "switchyard" || got.User != "app" || got.AuthPlugin != protocol.AuthNativePassword || got.Charset != protocol.CharsetUTF8MB4GeneralCI {
		t.Errorf("handshake response = %+v", *got)
	}
	if got.Capabilities&protocol.ClientFoundRows != 0 {
		t.Error("CLIENT_FOUND_ROWS requested without FoundRows")
	}
	if len(got.AuthResponse) != 0 {
		t.Errorf("empty password sent %d auth bytes", len(got.AuthResponse))
	}
	if !strings.HasPrefix(c.String(), s.addr()+"#") {
		t.Errorf("String() = %q", c.String())
	}
}

func TestDialCachingSHA2(t *testing.T) {
	s := newFakeServer(t)
	s.auth = freshCachingAuth()
	s.start()

	fastOK := []byte{protocol.AuthMoreData, 3}
	fullAuth := []byte{protocol.AuthMoreData, 4}
	steps := []struct {
		name, user, pw string
		ok             bool
		wantFast       bool // server answered 0x01 0x03
		wantRSA        bool // full authentication with the public key
	}{
		{"first login: full auth with RSA", "alice", "alice-pw", true, false, true},
		{"second login: fast path", "alice", "alice-pw", true, true, false},
		{"third login: fast path again", "alice", "alice-pw", true, true, false},
		{"wrong password after caching", "alice", "wrong", false, false, true},
		{"wrong password, never cached", "bob", "wrong", false, false, true},
		{"right password after a failure", "bob", "bob-pw", true, false, true},
		// For an unknown user only the error is checked: whether the exchange
		// should look like a known user's (no user enumeration) is left open.
		{"unknown user", "nobody", "x", false, false, false},
		{"empty password account", "nopw", "", true, false, false},
	}
	for i, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			c, err := dial(t, s.addr(), st.user, st.pw)
			if st.ok {
				if err != nil {
					t.Fatalf("Dial: %v", err)
				}
				c.Close()
			} else {
				wantAccessDenied(t, err, st.user, "YES")
			}
			sc := s.conn(i)
			if sc == nil {
				t.Fatal("no server connection recorded")
			}
			<-sc.done
			if st.user == "nobody" {
				return
			}
			written := payloads(sc.recorder().written())
			read := payloads(sc.recorder().read())
			if got := hasPayload(written, fastOK); got != st.wantFast {
				t.Errorf("server sent fast_auth_success: %v, want %v", got, st.wantFast)
			}
			if got := hasPayload(written, fullAuth); got != st.wantRSA {
				t.Errorf("server asked for full authentication: %v, want %v", got, st.wantRSA)
			}
			sentKey := false
			for _, p := range written {
				if len(p) > 1 && p[0] == protocol.AuthMoreData && bytes.Contains(p, []byte("BEGIN PUBLIC KEY")) {
					sentKey = true
				}
			}
			if sentKey != st.wantRSA || hasPayload(read, []byte{2}) != st.wantRSA {
				t.Errorf("public key requested %v / sent %v, want %v", hasPayload(read, []byte{2}), sentKey, st.wantRSA)
			}
			// Over plain TCP the password never travels in clear text.
			if st.pw != "" && bytes.Contains(sc.recorder().read(), []byte(st.pw)) {
				t.Error("the clear-text password crossed the insecure connection")
			}
		})
	}
}

func TestDialCachingSHA2OverTLS(t *testing.T) {
	s := newFakeServer(t)
	s.auth = freshCachingAuth()
	s.tls = selfSignedTLS(t)
	s.start()
	clientTLS := &tls.Config{InsecureSkipVerify: true}
	tests := []struct {
		name, user, pw string
		ok             bool
	}{
		{"full auth sends the clear-text password", "tlsuser", "tls-pw", true},
		{"wrong password over TLS", "tlsbad", "nope", false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			c, err := backend.Dial(ctx, s.addr(), backend.DialOptions{User: tt.user, Password: tt.pw, TLS: clientTLS, ConnectTimeout: 5 * time.Second})
			if tt.ok {
				if err != nil {
					t.Fatalf("Dial: %v", err)
				}
				if _, ok := c.Conn.Conn.(*tls.Conn); !ok {
					t.Errorf("client connection is %T, want *tls.Conn", c.Conn.Conn)
				}
				if c.Caps&protocol.ClientSSL == 0 {
					t.Error("CLIENT_SSL not in the negotiated capabilities")
				}
				// The connection works after the upgrade.
				if err := c.Ping(); err != nil {
					t.Errorf("Ping over TLS: %v", err)
				}
				c.Close()
			} else {
				wantAccessDenied(t, err, tt.user, "YES")
			}
			sc := s.conn(i)
			<-sc.done
			if !sc.isSecure() {
				t.Fatal("server side did not upgrade to TLS")
			}
			written := payloads(sc.recorder().written())
			if !hasPayload(written, []byte{protocol.AuthMoreData, 4}) {
				t.Error("no perform_full_authentication")
			}
			read := payloads(sc.recorder().read())
			if !hasPayload(read, append([]byte(tt.pw), 0)) {
				t.Errorf("the client did not send its clear-text password over TLS; got %q", read)
			}
			if hasPayload(read, []byte{2}) {
				t.Error("the client asked for the RSA key over TLS")
			}
		})
	}
	// The fast path works over TLS too once cached.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := backend.Dial(ctx, s.addr(), backend.DialOptions{User: "tlsuser", Password: "tls-pw", TLS: clientTLS})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	sc := s.conn(2)
	<-sc.done
	if !hasPayload(payloads(sc.recorder().written()), []byte{protocol.AuthMoreData, 3}) {
		t.Error("no fast_auth_success on the second TLS login")
	}
}

func TestDialNativeOverTLS(t *testing.T) {
	s := newFakeServer(t)
	s.auth = auth.New(users(testUsers), protocol.AuthNativePassword)
	s.tls = selfSignedTLS(t)
	s.start()
	c, err := backend.Dial(context.Background(), s.addr(), backend.DialOptions{User: "app", Password: "secret", TLS: &tls.Config{InsecureSkipVerify: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !s.conn(0).isSecure() {
		t.Error("not upgraded")
	}
	// A client without TLS configured logs in in clear.
	c2, err := dial(t, s.addr(), "app", "secret")
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if s.conn(1).isSecure() {
		t.Error("upgraded without a client TLS config")
	}
	// A certificate the client does not trust fails the dial.
	_, err = backend.Dial(context.Background(), s.addr(), backend.DialOptions{User: "app", Password: "secret", TLS: &tls.Config{ServerName: "127.0.0.1"}})
	if err == nil || !strings.Contains(err.Error(), "TLS") {
		t.Errorf("untrusted certificate: err = %v", err)
	}
}

// TestAuthSwitchForUnsupportedClientPlugin plays the client by hand and
// offers a plugin the Authenticator does not know: it must be switched to
// the default plugin with a fresh scramble.
func TestAuthSwitchForUnsupportedClientPlugin(t *testing.T) {
	tests := []struct {
		name         string
		defPlugin    string
		clientPlugin string
		user, pw     string
		answer       func(scramble []byte, pw string) []byte
		ok           bool
	}{
		{"gssapi to native", protocol.AuthNativePassword, "auth_gssapi_client", "switch", "switch-pw", protocol.ScrambleNative, true},
		{"clear to native, wrong", protocol.AuthNativePassword, protocol.AuthClearPassword, "switch", "bad", protocol.ScrambleNative, false},
		{"dialog to caching_sha2 (cached)", protocol.AuthCachingSHA2Password, "dialog", "carol", "carol-pw", protocol.ScrambleCachingSHA2, true},
		{"empty plugin name", protocol.AuthNativePassword, "", "switch", "switch-pw", protocol.ScrambleNative, true},
	}
	// Cache carol so that the caching_sha2 case takes the fast path.
	{
		s := newFakeServer(t)
		s.auth = freshCachingAuth()
		s.start()
		c, err := dial(t, s.addr(), "carol", "carol-pw")
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newFakeServer(t)
			if tt.defPlugin == protocol.AuthCachingSHA2Password {
				s.auth = cachingAuth()
			} else {
				s.auth = auth.New(users(testUsers), tt.defPlugin)
			}
			s.start()
			nc, err := net.Dial("tcp", s.addr())
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			_ = nc.SetDeadline(time.Now().Add(5 * time.Second))
			pc := protocol.NewConn(nc)
			gp, err := pc.ReadPacket()
			if err != nil {
				t.Fatal(err)
			}
			g, err := protocol.ParseGreeting(gp)
			if err != nil {
				t.Fatal(err)
			}
			resp := &protocol.HandshakeResponse{
				Capabilities: protocol.ClientProtocol41 | protocol.ClientSecureConnection | protocol.ClientPluginAuth | protocol.ClientPluginAuthLenencClientData,
				User:         tt.user, AuthResponse: []byte("opaque"), AuthPlugin: tt.clientPlugin,
			}
			if err := pc.WriteFlush(protocol.AppendHandshakeResponse(nil, resp, false)); err != nil {
				t.Fatal(err)
			}
			sw, err := pc.ReadPacket()
			if err != nil {
				t.Fatal(err)
			}
			plugin, data, err := protocol.ParseAuthSwitch(sw)
			if err != nil {
				t.Fatalf("expected an AuthSwitchRequest, got % x: %v", sw, err)
			}
			if plugin != tt.defPlugin {
				t.Errorf("switched to %q, want %q", plugin, tt.defPlugin)
			}
			if len(data) != 20 || bytes.Equal(data, g.Scramble) {
				t.Errorf("switch scramble % x: want 20 fresh bytes", data)
			}
			if err := pc.WriteFlush(tt.answer(data, tt.pw)); err != nil {
				t.Fatal(err)
			}
			p, err := pc.ReadPacket()
			if err != nil {
				t.Fatal(err)
			}
			if tt.defPlugin == protocol.AuthCachingSHA2Password && tt.ok {
				if !bytes.Equal(p, []byte{protocol.AuthMoreData, 3}) {
					t.Fatalf("got % x, want fast_auth_success", p)
				}
				if p, err = pc.ReadPacket(); err != nil {
					t.Fatal(err)
				}
			}
			switch {
			case tt.ok && !protocol.IsOK(p):
				t.Errorf("got % x, want OK", p)
			case !tt.ok && !protocol.IsErr(p):
				t.Errorf("got % x, want ERR", p)
			case !tt.ok:
				if e := protocol.ParseErr(p); e.Code != 1045 {
					t.Errorf("err = %v, want 1045", e)
				}
			}
		})
	}
}

// TestDialAuthSwitch: the backend's greeting names a plugin the backend's
// authenticator then switches away from; Dial follows the switch.
func TestDialAuthSwitch(t *testing.T) {
	s := newFakeServer(t)
	s.auth = auth.New(users(testUsers), protocol.AuthNativePassword)
	s.plugin = protocol.AuthClearPassword
	s.start()
	c, err := dial(t, s.addr(), "switch", "switch-pw")
	if err != nil {
		t.Fatalf("Dial through an auth switch: %v", err)
	}
	c.Close()
	sc := s.conn(0)
	<-sc.done
	// Dial answers the clear-text greeting with mysql_native_password (which
	// this server accepts without a switch): the password never crosses the
	// wire in clear.
	for _, p := range payloads(sc.recorder().read()) {
		if bytes.Contains(p, []byte("switch-pw")) {
			t.Error("the password was sent in clear text")
		}
	}
	// And with a wrong password the login ends in 1045.
	_, err = dial(t, s.addr(), "switch", "nope")
	var pe *protocol.Error
	if !errors.As(err, &pe) || pe.Code != 1045 {
		t.Errorf("err = %v, want 1045", err)
	}
}

// TestDialNoClearTextPasswordWithoutTLS: when a backend's greeting names
// mysql_clear_password, Dial must not put the password on an unencrypted
// connection (it refuses exactly that for an AuthSwitchRequest, conn.go
// line ~197, but not for the initial handshake response).
func TestDialNoClearTextPasswordWithoutTLS(t *testing.T) {
	s := newFakeServer(t)
	s.auth = auth.New(users(testUsers), protocol.AuthNativePassword)
	s.plugin = protocol.AuthClearPassword
	s.start()
	c, err := dial(t, s.addr(), "switch", "switch-pw")
	if err == nil {
		c.Close()
	}
	sc := s.conn(0)
	<-sc.done
	if bytes.Contains(sc.recorder().read(), []byte("switch-pw")) {
		t.Errorf("BUG: backend.Dial sent the clear-text password %q in its HandshakeResponse over plain TCP because the greeting named %s", "switch-pw", protocol.AuthClearPassword)
	}
}

// noPanic runs f and turns a panic into a test error.
func noPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("BUG: %s panicked: %v", what, r)
		}
	}()
	f()
}

func TestDialMalformedServer(t *testing.T) {
	scramble := []byte("abcdefghij0123456789")
	tests := []struct {
		name     string
		greeting func() []byte
		after    func(sc *serverConn, resp []byte)
		wantErr  string // substring; "" = any error
		code     uint16
	}{
		{
			name: "ERR instead of greeting",
			greeting: func() []byte {
				return protocol.AppendErr(nil, protocol.NewError(1040, "08004", "Too many connections"))
			},
			code: 1040,
		},
		{
			name:     "protocol version 9",
			greeting: func() []byte { return []byte{9, 'v', 0} },
			wantErr:  "protocol version",
		},
		{
			name: "no protocol 4.1",
			greeting: func() []byte {
				return protocol.AppendGreeting(nil, &protocol.Greeting{ServerVersion: "4.0", Scramble: scramble, Capabilities: protocol.ClientSecureConnection | protocol.ClientPluginAuth, AuthPlugin: protocol.AuthNativePassword})
			},
			wantErr: "4.1",
		},
		{
			// Without CLIENT_SECURE_CONNECTION the greeting carries only 8
			// scramble bytes; ScrambleNative slices scramble[:20].
			name: "8-byte scramble",
			greeting: func() []byte {
				return protocol.AppendGreeting(nil, &protocol.Greeting{ServerVersion: "old", Scramble: scramble, Capabilities: protocol.ClientProtocol41 | protocol.ClientLongPassword})
			},
		},
		{
			name: "unsupported plugin",
			greeting: func() []byte {
				return protocol.AppendGreeting(nil, &protocol.Greeting{ServerVersion: "v", Scramble: scramble, Capabilities: fakeServerCaps, AuthPlugin: "auth_gssapi_client"})
			},
			// Dial answers an unknown plugin with mysql_native_password.
			wantErr: "1045",
		},
		{
			name:  "empty packet after the response",
			after: func(sc *serverConn, _ []byte) { _ = sc.pc.WriteFlush(nil) },
		},
		{
			name:  "connection closed after the response",
			after: func(sc *serverConn, _ []byte) {},
		},
		{
			name:    "unknown packet after the response",
			after:   func(sc *serverConn, _ []byte) { _ = sc.pc.WriteFlush([]byte{0x42}) },
			wantErr: "unexpected packet",
		},
		{
			name:    "caching_sha2 state byte for a native login",
			after:   func(sc *serverConn, _ []byte) { _ = sc.pc.WriteFlush([]byte{protocol.AuthMoreData, 3}) },
			wantErr: "unexpected packet",
		},
		{
			name: "switch to an unsupported plugin",
			after: func(sc *serverConn, _ []byte) {
				_ = sc.pc.WriteFlush(protocol.AppendAuthSwitch(nil, "dialog", scramble))
			},
			wantErr: "unsupported auth plugin",
		},
		{
			name: "switch to clear text without TLS",
			after: func(sc *serverConn, _ []byte) {
				_ = sc.pc.WriteFlush(protocol.AppendAuthSwitch(nil, protocol.AuthClearPassword, nil))
			},
			wantErr: "clear-text",
		},
		{
			name: "garbage public key",
			greeting: func() []byte {
				return protocol.AppendGreeting(nil, &protocol.Greeting{ServerVersion: "8.0", Scramble: scramble, Capabilities: fakeServerCaps, AuthPlugin: protocol.AuthCachingSHA2Password})
			},
			after: func(sc *serverConn, _ []byte) {
				_ = sc.pc.WriteFlush([]byte{protocol.AuthMoreData, 4})
				if _, err := sc.pc.ReadPacket(); err != nil {
					return
				}
				_ = sc.pc.WriteFlush(append([]byte{protocol.AuthMoreData}, "not a key"...))
				_, _ = sc.pc.ReadPacket()
			},
			wantErr: "PEM",
		},
		{
			name: "unknown caching_sha2 state",
			greeting: func() []byte {
				return protocol.AppendGreeting(nil, &protocol.Greeting{ServerVersion: "8.0", Scramble: scramble, Capabilities: fakeServerCaps, AuthPlugin: protocol.AuthCachingSHA2Password})
			},
			after:   func(sc *serverConn, _ []byte) { _ = sc.pc.WriteFlush([]byte{protocol.AuthMoreData, 9}) },
			wantErr: "state 9",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newFakeServer(t)
			s.greeting = tt.greeting
			s.afterGreeting = tt.after
			if s.afterGreeting == nil {
				s.afterGreeting = func(sc *serverConn, _ []byte) {
					_ = sc.pc.WriteFlush(protocol.AppendErr(nil, protocol.NewError(1045, "28000", "denied")))
				}
			}
			s.start()
			noPanic(t, "backend.Dial", func() {
				c, err := dial(t, s.addr(), "app", "secret")
				if err == nil {
					c.Close()
					t.Fatal("Dial succeeded")
				}
				if tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("err = %v, want it to mention %q", err, tt.wantErr)
				}
				if tt.code != 0 {
					var pe *protocol.Error
					if !errors.As(err, &pe) || pe.Code != tt.code {
						t.Errorf("err = %v, want *protocol.Error %d", err, tt.code)
					}
				}
			})
		})
	}
}

func TestDialConnectTimeout(t *testing.T) {
	// A server that accepts but never greets.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var accepted []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			accepted = append(accepted, c)
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		for _, c := range accepted {
			c.Close()
		}
		mu.Unlock()
	}()
	start := time.Now()
	_, err = backend.Dial(context.Background(), ln.Addr().String(), backend.DialOptions{User: "u", ConnectTimeout: 100 * time.Millisecond})
	if err == nil {
		t.Fatal("Dial succeeded")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Dial took %v with a 100ms connect timeout", d)
	}
	// A cancelled context fails at once too.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := backend.Dial(ctx, ln.Addr().String(), backend.DialOptions{User: "u"}); err == nil {
		t.Error("Dial with a cancelled context succeeded")
	}
}

// TestMySQLTracksOwnGTID: on MySQL the session also reports the GTID of
// each commit (session_track_gtids=OWN_GTID) for read-your-writes.
func TestMySQLTracksOwnGTID(t *testing.T) {
	s := newFakeServer(t)
	s.version = "8.0.36"
	s.start()
	c, err := backend.Dial(context.Background(), s.addr(), backend.DialOptions{User: "u", Password: "p"})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	want := "COM_QUERY SET SESSION session_track_system_variables='*', session_track_gtids='OWN_GTID'"
	if cmds := strings.Join(s.allCommands(), "\n"); !strings.Contains(cmds, want) {
		t.Fatalf("commands %q lack %q", cmds, want)
	}
}
