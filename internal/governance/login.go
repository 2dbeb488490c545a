package governance

import (
	"sync"

	"github.com/switchyard-db/switchyard/internal/config"
	"github.com/switchyard-db/switchyard/internal/protocol"
)

// CheckHost refuses a client address the namespace or the user does not
// allow (1130, as MariaDB answers a host without an account). It runs
// before the password is checked.
func CheckHost(ns *config.Namespace, u *config.User, host string) *protocol.Error {
	if ns.Access.IPAllowed(host) && u.Access.IPAllowed(host) {
		return nil
	}
	return protocol.NewError(1130, "HY000", "Host '%s' is not allowed to connect to this MariaDB server", host)
}

// Refusal names why an authenticated login was refused (for metrics).
type Refusal string

// Reasons a login is refused after authentication.
const (
	RefusedTLS         Refusal = "tls_required"
	RefusedConnections Refusal = "max_user_connections"
	RefusedHost        Refusal = "host_not_allowed"
	RefusedBlocked     Refusal = "blocked"
)

// Gate admits authenticated logins: TLS when required, and the user's
// connection limit. It counts the open connections of every user.
type Gate struct {
	mu    sync.Mutex
	conns map[string]int
	// Limiter holds the budgets of limit rules.
	Limiter *Limiter
}

// NewGate returns an empty gate.
func NewGate() *Gate { return &Gate{conns: map[string]int{}, Limiter: NewLimiter()} }

// Admit checks an authenticated login. On success release must be called
// once when the connection ends (or changes user).
func (g *Gate) Admit(ns *config.Namespace, u *config.User, host string, secure bool) (release func(), why Refusal, err *protocol.Error) {
	if (ns.Access.RequireTLS || u.Access.RequireTLS) && !secure {
		// MariaDB answers a REQUIRE SSL account without TLS like a wrong
		// password; the proxy's log says why.
		return nil, RefusedTLS, protocol.NewError(protocol.ErrAccessDenied, "28000", "Access denied for user '%s'@'%s' (using password: YES)", u.Name, host)
	}
	if g == nil {
		return func() {}, "", nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if max := u.Access.MaxConnections; max > 0 && g.conns[u.Name] >= max {
		return nil, RefusedConnections, protocol.NewError(1203, "42000", "User %s already has more than 'max_user_connections' active connections", u.Name)
	}
	g.conns[u.Name]++
	name := u.Name
	var once sync.Once
	return func() {
		once.Do(func() {
			g.mu.Lock()
			if g.conns[name]--; g.conns[name] <= 0 {
				delete(g.conns, name)
			}
			g.mu.Unlock()
		})
	}, "", nil
}

// Connections returns the open connections of user.
func (g *Gate) Connections(user string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.conns[user]
}
