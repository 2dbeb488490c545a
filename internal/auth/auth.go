// Package auth checks client credentials on the proxy's side of the
// handshake: mysql_native_password and caching_sha2_password (fast path,
// and full authentication over TLS or with RSA key exchange).
package auth

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"sync"
	"time"

	"github.com/switchyard-db/switchyard/internal/config"
	"github.com/switchyard-db/switchyard/internal/protocol"
)

// Lookup finds a configured user.
type Lookup func(user string) (*config.Namespace, *config.User, bool)

// Authenticator verifies client logins. It is safe for concurrent use.
type Authenticator struct {
	lookup        Lookup
	defaultPlugin string

	keyOnce sync.Once
	key     *rsa.PrivateKey
	keyErr  error
	pubPEM  []byte

	mu    sync.Mutex
	cache map[string][32]byte // user -> SHA256(password): caching_sha2 fast path

	throttle *Throttle // nil: failed logins are not throttled
}

// SetThrottle throttles failed logins (nil: no throttling).
func (a *Authenticator) SetThrottle(t *Throttle) {
	a.mu.Lock()
	a.throttle = t
	a.mu.Unlock()
}

// Throttle returns the failed-login throttle (nil when none).
func (a *Authenticator) Throttle() *Throttle {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.throttle
}

// New returns an Authenticator. defaultPlugin is offered in the handshake.
func New(lookup Lookup, defaultPlugin string) *Authenticator {
	if defaultPlugin == "" {
		defaultPlugin = protocol.AuthNativePassword
	}
	return &Authenticator{lookup: lookup, defaultPlugin: defaultPlugin, cache: map[string][32]byte{}}
}

// DefaultPlugin is the plugin named in the initial handshake.
func (a *Authenticator) DefaultPlugin() string { return a.defaultPlugin }

// SetLookup replaces the user lookup (after a configuration reload).
func (a *Authenticator) SetLookup(l Lookup) {
	a.mu.Lock()
	a.lookup = l
	a.cache = map[string][32]byte{}
	a.mu.Unlock()
}

func (a *Authenticator) rsaKey() (*rsa.PrivateKey, []byte, error) {
	a.keyOnce.Do(func() {
		a.key, a.keyErr = rsa.GenerateKey(rand.Reader, 2048)
		if a.keyErr == nil {
			a.pubPEM = protocol.MarshalPublicKey(&a.key.PublicKey)
		}
	})
	return a.key, a.pubPEM, a.keyErr
}

// Request is one login attempt.
type Request struct {
	User     string
	Host     string
	Plugin   string // plugin the client used for Response
	Response []byte
	Scramble []byte
	// Secure: the connection is TLS (clear-text password exchange allowed).
	Secure bool
	// ForceSwitch asks the client to re-authenticate with a fresh scramble
	// (COM_CHANGE_USER).
	ForceSwitch bool
	// Check, when set, vets a known user before its password is checked
	// (allowed client addresses); its error is the answer.
	Check func(*config.Namespace, *config.User) error
}

// Verify completes authentication on cl, exchanging auth-switch and
// caching_sha2 packets as needed. On success it returns the user's
// namespace and user; the caller sends the final OK. On failure it returns
// a *protocol.Error (1045) for the caller to send. While the throttle
// blocks the address or the user the login is refused (1129, 4151) before
// any password check, and failures beyond its delay_after are answered
// late.
func (a *Authenticator) Verify(cl *protocol.Conn, r Request) (*config.Namespace, *config.User, error) {
	t := a.Throttle()
	if e := t.Blocked(r.Host, r.User); e != nil {
		return nil, nil, e
	}
	ns, u, err := a.verify(cl, r)
	var pe *protocol.Error
	switch {
	case err == nil:
		t.Success(r.Host, r.User)
	case errors.As(err, &pe) && pe.Code == protocol.ErrAccessDenied:
		if d := t.Fail(r.Host, r.User); d > 0 {
			time.Sleep(d)
		}
	}
	return ns, u, err
}

func (a *Authenticator) verify(cl *protocol.Conn, r Request) (*config.Namespace, *config.User, error) {
	a.mu.Lock()
	lookup := a.lookup
	a.mu.Unlock()
	ns, u, found := lookup(r.User)
	usedPassword := len(r.Response) > 0
	denied := func() error {
		yes := "NO"
		if usedPassword {
			yes = "YES"
		}
		return protocol.NewError(protocol.ErrAccessDenied, "28000", "Access denied for user '%s'@'%s' (using password: %s)", r.User, r.Host, yes)
	}
	plugin := r.Plugin
	resp := r.Response
	if r.ForceSwitch || (plugin != protocol.AuthNativePassword && plugin != protocol.AuthCachingSHA2Password) {
		plugin = a.defaultPlugin
		if r.ForceSwitch && r.Plugin == protocol.AuthCachingSHA2Password {
			plugin = r.Plugin
		}
		r.Scramble = protocol.NewScramble()
		if err := cl.WriteFlush(protocol.AppendAuthSwitch(nil, plugin, r.Scramble)); err != nil {
			return nil, nil, err
		}
		p, err := cl.ReadPacket()
		if err != nil {
			return nil, nil, err
		}
		resp = append([]byte(nil), p...)
		usedPassword = len(resp) > 0 && !(len(resp) == 1 && resp[0] == 0)
	}
	if found && r.Check != nil {
		if err := r.Check(ns, u); err != nil {
			return nil, nil, err
		}
	}
	if !found {
		if plugin == protocol.AuthCachingSHA2Password && usedPassword {
			// Walk an unknown user through the same full-authentication
			// exchange as a known one, so that replies do not reveal which
			// user names exist.
			a.fakeFullAuth(cl, r.Secure)
		}
		return nil, nil, denied()
	}
	switch plugin {
	case protocol.AuthNativePassword:
		if !protocol.CheckScramble(plugin, r.Scramble, resp, u.Password) {
			return nil, nil, denied()
		}
		return ns, u, nil
	case protocol.AuthCachingSHA2Password:
		if u.Password == "" {
			if len(resp) == 0 || (len(resp) == 1 && resp[0] == 0) {
				return ns, u, nil
			}
			return nil, nil, denied()
		}
		if a.cached(u) && protocol.CheckScramble(plugin, r.Scramble, resp, u.Password) {
			// fast_auth_success
			if err := cl.WritePacket([]byte{protocol.AuthMoreData, 3}); err != nil {
				return nil, nil, err
			}
			return ns, u, nil
		}
		// perform_full_authentication
		if err := cl.WriteFlush([]byte{protocol.AuthMoreData, 4}); err != nil {
			return nil, nil, err
		}
		p, err := cl.ReadPacket()
		if err != nil {
			return nil, nil, err
		}
		var password string
		switch {
		case r.Secure:
			password = string(bytes.TrimRight(p, "\x00"))
		case len(p) == 1 && p[0] == 2:
			key, pub, err := a.rsaKey()
			if err != nil {
				return nil, nil, protocol.NewError(protocol.ErrUnknown, "HY000", "cannot create RSA key: %v", err)
			}
			if err := cl.WriteFlush(append([]byte{protocol.AuthMoreData}, pub...)); err != nil {
				return nil, nil, err
			}
			enc, err := cl.ReadPacket()
			if err != nil {
				return nil, nil, err
			}
			password, err = protocol.DecryptPasswordRSA(enc, r.Scramble, key)
			if err != nil {
				return nil, nil, denied()
			}
		default:
			// A client that sends a clear-text password over an insecure
			// connection is refused, as MySQL does.
			return nil, nil, denied()
		}
		if subtle.ConstantTimeCompare([]byte(password), []byte(u.Password)) != 1 {
			return nil, nil, denied()
		}
		a.remember(u)
		return ns, u, nil
	}
	return nil, nil, denied()
}

// fakeFullAuth plays the server side of caching_sha2 full authentication
// and ignores the answer.
func (a *Authenticator) fakeFullAuth(cl *protocol.Conn, secure bool) {
	if cl.WriteFlush([]byte{protocol.AuthMoreData, 4}) != nil {
		return
	}
	p, err := cl.ReadPacket()
	if err != nil || secure || len(p) != 1 || p[0] != 2 {
		return
	}
	if _, pub, err := a.rsaKey(); err == nil && cl.WriteFlush(append([]byte{protocol.AuthMoreData}, pub...)) == nil {
		_, _ = cl.ReadPacket()
	}
}

func (a *Authenticator) cached(u *config.User) bool {
	a.mu.Lock()
	h, ok := a.cache[u.Name]
	a.mu.Unlock()
	want := sha256.Sum256([]byte(u.Password))
	return ok && h == want
}

func (a *Authenticator) remember(u *config.User) {
	a.mu.Lock()
	a.cache[u.Name] = sha256.Sum256([]byte(u.Password))
	a.mu.Unlock()
}
