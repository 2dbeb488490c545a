package auth

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-db/switchyard/internal/config"
	"github.com/switchyard-db/switchyard/internal/protocol"
)

var (
	keyOnce sync.Once
	key1024 *rsa.PrivateKey
)

// newAuth returns an Authenticator over user -> password whose RSA key is a
// pre-generated 1024-bit key (fast under -race).
func newAuth(t testing.TB, pws map[string]string, plugin string) *Authenticator {
	t.Helper()
	keyOnce.Do(func() {
		var err error
		if key1024, err = rsa.GenerateKey(rand.Reader, 1024); err != nil {
			panic(err)
		}
	})
	a := New(lookupOf(pws), plugin)
	a.keyOnce.Do(func() {
		a.key = key1024
		a.pubPEM = protocol.MarshalPublicKey(&key1024.PublicKey)
	})
	return a
}

func lookupOf(pws map[string]string) Lookup {
	ns := &config.Namespace{Name: "ns"}
	return func(user string) (*config.Namespace, *config.User, bool) {
		pw, ok := pws[user]
		if !ok {
			return nil, nil, false
		}
		return ns, &config.User{Name: user, Password: pw}, true
	}
}

// exchange runs Verify on the server end of a pipe while client plays the
// other end. It returns Verify's results.
func exchange(t *testing.T, a *Authenticator, r Request, client func(pc *protocol.Conn) error) (*config.User, error) {
	t.Helper()
	sEnd, cEnd := net.Pipe()
	defer sEnd.Close()
	defer cEnd.Close()
	_ = sEnd.SetDeadline(time.Now().Add(5 * time.Second))
	_ = cEnd.SetDeadline(time.Now().Add(5 * time.Second))
	type result struct {
		u   *config.User
		err error
	}
	done := make(chan result, 1)
	go func() {
		spc := protocol.NewConn(sEnd)
		_, u, err := a.Verify(spc, r)
		if err == nil {
			err = spc.Flush() // the fast-path byte is only buffered
		}
		sEnd.Close()
		done <- result{u, err}
	}()
	cpc := protocol.NewConn(cEnd)
	if client != nil {
		if err := client(cpc); err != nil {
			t.Errorf("client: %v", err)
		}
	}
	// Drain whatever else the server sends until it is done.
	go func() {
		for {
			if _, err := cpc.ReadPacket(); err != nil {
				return
			}
		}
	}()
	res := <-done
	return res.u, res.err
}

func expect(pc *protocol.Conn, want []byte) error {
	p, err := pc.ReadPacket()
	if err != nil {
		return err
	}
	if !bytes.Equal(p, want) {
		return errors.New("got " + string(p) + ", want " + string(want))
	}
	return nil
}

func isDenied(err error, yes string) bool {
	var pe *protocol.Error
	return errors.As(err, &pe) && pe.Code == protocol.ErrAccessDenied && pe.State == "28000" &&
		strings.HasSuffix(pe.Message, "(using password: "+yes+")")
}

var pws = map[string]string{"app": "secret", "empty": "", "other": "other-pw"}

func TestNewDefaultPlugin(t *testing.T) {
	if p := New(lookupOf(pws), "").DefaultPlugin(); p != protocol.AuthNativePassword {
		t.Errorf("default plugin %q", p)
	}
	if p := New(lookupOf(pws), protocol.AuthCachingSHA2Password).DefaultPlugin(); p != protocol.AuthCachingSHA2Password {
		t.Errorf("default plugin %q", p)
	}
}

func TestVerifyNative(t *testing.T) {
	a := newAuth(t, pws, protocol.AuthNativePassword)
	s := protocol.NewScramble()
	tests := []struct {
		name string
		user string
		resp []byte
		ok   bool
		yes  string
	}{
		{"right", "app", protocol.ScrambleNative(s, "secret"), true, ""},
		{"wrong", "app", protocol.ScrambleNative(s, "wrong"), false, "YES"},
		{"none", "app", nil, false, "NO"},
		{"unknown user", "ghost", protocol.ScrambleNative(s, "secret"), false, "YES"},
		{"unknown user no password", "ghost", nil, false, "NO"},
		{"empty password", "empty", nil, true, ""},
		{"empty password with NUL", "empty", []byte{0}, true, ""},
		{"empty password account given one", "empty", protocol.ScrambleNative(s, "x"), false, "YES"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := exchange(t, a, Request{User: tt.user, Host: "10.0.0.1", Plugin: protocol.AuthNativePassword, Response: tt.resp, Scramble: s}, nil)
			if tt.ok {
				if err != nil || u == nil || u.Name != tt.user {
					t.Fatalf("Verify = %v, %v", u, err)
				}
				return
			}
			if !isDenied(err, tt.yes) {
				t.Fatalf("Verify err = %v, want access denied (using password: %s)", err, tt.yes)
			}
			if !strings.Contains(err.Error(), "'"+tt.user+"'@'10.0.0.1'") {
				t.Errorf("message %q lacks user@host", err)
			}
		})
	}
}

func TestVerifyAuthSwitch(t *testing.T) {
	tests := []struct {
		name        string
		def         string
		plugin      string
		forceSwitch bool
		user, pw    string
		wantSwitch  string
		ok          bool
	}{
		{"unsupported plugin to native", protocol.AuthNativePassword, "auth_gssapi_client", false, "app", "secret", protocol.AuthNativePassword, true},
		{"empty plugin to native", protocol.AuthNativePassword, "", false, "app", "secret", protocol.AuthNativePassword, true},
		{"clear password to native, wrong", protocol.AuthNativePassword, protocol.AuthClearPassword, false, "app", "bad", protocol.AuthNativePassword, false},
		{"unknown user is switched too", protocol.AuthNativePassword, "dialog", false, "ghost", "secret", protocol.AuthNativePassword, false},
		{"COM_CHANGE_USER native", protocol.AuthNativePassword, protocol.AuthNativePassword, true, "app", "secret", protocol.AuthNativePassword, true},
		{"COM_CHANGE_USER keeps caching_sha2", protocol.AuthNativePassword, protocol.AuthCachingSHA2Password, true, "empty", "", protocol.AuthCachingSHA2Password, true},
		{"COM_CHANGE_USER native on a caching default", protocol.AuthCachingSHA2Password, protocol.AuthNativePassword, true, "empty", "", protocol.AuthCachingSHA2Password, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAuth(t, pws, tt.def)
			orig := protocol.NewScramble()
			var switched string
			_, err := exchange(t, a, Request{User: tt.user, Plugin: tt.plugin, Response: []byte("junk"), Scramble: orig, ForceSwitch: tt.forceSwitch}, func(pc *protocol.Conn) error {
				p, err := pc.ReadPacket()
				if err != nil {
					return err
				}
				plugin, data, err := protocol.ParseAuthSwitch(p)
				if err != nil {
					return err
				}
				switched = plugin
				if len(data) != 20 || bytes.Equal(data, orig) {
					return errors.New("switch without a fresh 20-byte scramble")
				}
				var resp []byte
				switch plugin {
				case protocol.AuthNativePassword:
					resp = protocol.ScrambleNative(data, tt.pw)
				case protocol.AuthCachingSHA2Password:
					resp = protocol.ScrambleCachingSHA2(data, tt.pw)
				}
				return pc.WriteFlush(resp)
			})
			if switched != tt.wantSwitch {
				t.Errorf("switched to %q, want %q", switched, tt.wantSwitch)
			}
			if tt.ok && err != nil {
				t.Errorf("Verify: %v", err)
			}
			if !tt.ok && !isDenied(err, "YES") {
				t.Errorf("Verify err = %v, want access denied", err)
			}
		})
	}
}

func TestVerifyCachingSHA2(t *testing.T) {
	a := newAuth(t, pws, protocol.AuthCachingSHA2Password)
	fullRSA := func(pw string, s []byte) func(pc *protocol.Conn) error {
		return func(pc *protocol.Conn) error {
			if err := expect(pc, []byte{protocol.AuthMoreData, 4}); err != nil {
				return err
			}
			if err := pc.WriteFlush([]byte{2}); err != nil {
				return err
			}
			kp, err := pc.ReadPacket()
			if err != nil {
				return err
			}
			pub, err := protocol.ParsePublicKey(kp[1:])
			if err != nil {
				return err
			}
			enc, err := protocol.EncryptPasswordRSA(pw, s, pub)
			if err != nil {
				return err
			}
			return pc.WriteFlush(enc)
		}
	}
	login := func(pw string, secure bool, client func(s []byte) func(pc *protocol.Conn) error) error {
		s := protocol.NewScramble()
		_, err := exchange(t, a, Request{User: "app", Plugin: protocol.AuthCachingSHA2Password, Response: protocol.ScrambleCachingSHA2(s, pw), Scramble: s, Secure: secure}, client(s))
		return err
	}
	// Not cached yet: full authentication.
	if err := login("secret", false, func(s []byte) func(*protocol.Conn) error { return fullRSA("secret", s) }); err != nil {
		t.Fatalf("full auth: %v", err)
	}
	// Cached: fast path.
	if err := login("secret", false, func([]byte) func(*protocol.Conn) error {
		return func(pc *protocol.Conn) error { return expect(pc, []byte{protocol.AuthMoreData, 3}) }
	}); err != nil {
		t.Fatalf("fast auth: %v", err)
	}
	// Wrong scramble while cached: full auth, which fails.
	if err := login("wrong", false, func(s []byte) func(*protocol.Conn) error { return fullRSA("wrong", s) }); !isDenied(err, "YES") {
		t.Fatalf("wrong password: %v", err)
	}
	// Clear text over an insecure connection is refused.
	if err := login("x", false, func([]byte) func(*protocol.Conn) error {
		return func(pc *protocol.Conn) error {
			if err := expect(pc, []byte{protocol.AuthMoreData, 4}); err != nil {
				return err
			}
			return pc.WriteFlush([]byte("secret\x00"))
		}
	}); !isDenied(err, "YES") {
		t.Fatalf("clear text without TLS: %v", err)
	}
	// Garbage instead of RSA ciphertext.
	if err := login("x", false, func([]byte) func(*protocol.Conn) error {
		return func(pc *protocol.Conn) error {
			if err := expect(pc, []byte{protocol.AuthMoreData, 4}); err != nil {
				return err
			}
			if err := pc.WriteFlush([]byte{2}); err != nil {
				return err
			}
			if _, err := pc.ReadPacket(); err != nil {
				return err
			}
			return pc.WriteFlush([]byte("not rsa"))
		}
	}); !isDenied(err, "YES") {
		t.Fatalf("garbage ciphertext: %v", err)
	}
	// Over TLS the clear-text password is accepted.
	a.SetLookup(lookupOf(pws)) // also empties the cache
	for _, pw := range []string{"secret\x00", "secret"} {
		if err := login("x", true, func([]byte) func(*protocol.Conn) error {
			return func(pc *protocol.Conn) error {
				if err := expect(pc, []byte{protocol.AuthMoreData, 4}); err != nil {
					return err
				}
				return pc.WriteFlush([]byte(pw))
			}
		}); err != nil {
			t.Fatalf("clear text over TLS (%q): %v", pw, err)
		}
		a.SetLookup(lookupOf(pws))
	}
	// Wrong clear-text password over TLS.
	if err := login("x", true, func([]byte) func(*protocol.Conn) error {
		return func(pc *protocol.Conn) error {
			if err := expect(pc, []byte{protocol.AuthMoreData, 4}); err != nil {
				return err
			}
			return pc.WriteFlush([]byte("secret2\x00"))
		}
	}); !isDenied(err, "YES") {
		t.Fatalf("wrong clear text over TLS: %v", err)
	}
}

func TestVerifyCachingSHA2EmptyPassword(t *testing.T) {
	a := newAuth(t, pws, protocol.AuthCachingSHA2Password)
	s := protocol.NewScramble()
	for _, resp := range [][]byte{nil, {0}} {
		if _, err := exchange(t, a, Request{User: "empty", Plugin: protocol.AuthCachingSHA2Password, Response: resp, Scramble: s}, nil); err != nil {
			t.Errorf("empty password with response % x: %v", resp, err)
		}
	}
	if _, err := exchange(t, a, Request{User: "empty", Plugin: protocol.AuthCachingSHA2Password, Response: protocol.ScrambleCachingSHA2(s, "x"), Scramble: s}, nil); !isDenied(err, "YES") {
		t.Errorf("password for an empty-password account: %v", err)
	}
}

// TestCacheInvalidation: the fast path needs a cached hash of the current
// password; SetLookup forgets everything.
func TestCacheInvalidation(t *testing.T) {
	a := newAuth(t, pws, protocol.AuthCachingSHA2Password)
	u := &config.User{Name: "app", Password: "secret"}
	if a.cached(u) {
		t.Fatal("cached before any login")
	}
	a.remember(u)
	if !a.cached(u) {
		t.Fatal("not cached after remember")
	}
	if a.cached(&config.User{Name: "app", Password: "changed"}) {
		t.Error("cache hit for a changed password")
	}
	a.SetLookup(lookupOf(pws))
	if a.cached(u) {
		t.Error("cache survived SetLookup")
	}
}

func TestVerifyConcurrent(t *testing.T) {
	a := New(lookupOf(pws), protocol.AuthNativePassword) // real lazy key path
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				a.SetLookup(lookupOf(pws))
			}
			a.remember(&config.User{Name: "app", Password: "secret"})
			a.cached(&config.User{Name: "app", Password: "secret"})
		}()
	}
	wg.Wait()
}

// TestVerifyClientGone: I/O errors are returned as they are, not as
// access-denied errors.
func TestVerifyClientGone(t *testing.T) {
	a := newAuth(t, pws, protocol.AuthNativePassword)
	sEnd, cEnd := net.Pipe()
	cEnd.Close()
	_, _, err := a.Verify(protocol.NewConn(sEnd), Request{User: "app", Plugin: "dialog", Scramble: protocol.NewScramble()})
	var pe *protocol.Error
	if err == nil || errors.As(err, &pe) {
		t.Errorf("err = %v, want an I/O error", err)
	}
}
