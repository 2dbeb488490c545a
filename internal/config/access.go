package config

import (
	"net/netip"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// NamespaceAccess says what the clients of a namespace may use.
type NamespaceAccess struct {
	// AllowedDatabases lists the databases the namespace's clients may use
	// (exact names). The logical databases of sharding rules are added. When
	// both are empty the namespace is open:
	// every database except the reserved ones and those of other namespaces.
	AllowedDatabases []string
	// AllowedIPs are the client addresses or CIDR ranges allowed to log in
	// (empty: any).
	AllowedIPs []string
	// RequireTLS refuses logins without TLS.
	RequireTLS bool

	nets []netip.Prefix
}

// UserAccess narrows a user's access below its namespace's.
type UserAccess struct {
	// Databases narrows the namespace's databases for this user (empty:
	// all of them).
	Databases []string
	// ReadOnly refuses statements that write.
	ReadOnly bool
	// AllowedIPs are the client addresses or CIDR ranges the user may log
	// in from (empty: any allowed by the namespace).
	AllowedIPs []string
	// RequireTLS refuses the user's logins without TLS.
	RequireTLS bool
	// MaxConnections limits the user's concurrent client connections
	// (0: no limit).
	MaxConnections int
	// MaxExecutionTime limits every statement of the user (0: none).
	MaxExecutionTime time.Duration
	// MaxResultRows and MaxResultBytes limit the user's result sets.
	MaxResultRows  int
	MaxResultBytes int

	nets []netip.Prefix
}

// IPAllowed reports whether addr (an IP address) matches AllowedIPs (true
// when the list is empty).
func (a *NamespaceAccess) IPAllowed(addr string) bool { return ipAllowed(a.nets, a.AllowedIPs, addr) }

// IPAllowed reports whether addr (an IP address) matches AllowedIPs (true
// when the list is empty).
func (a *UserAccess) IPAllowed(addr string) bool { return ipAllowed(a.nets, a.AllowedIPs, addr) }

func ipAllowed(nets []netip.Prefix, raw []string, addr string) bool {
	if len(raw) == 0 {
		return true
	}
	if nets == nil {
		nets = parseNets(raw)
	}
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return false
	}
	ip = ip.Unmap()
	for _, n := range nets {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}

func parseNets(raw []string) []netip.Prefix {
	out := make([]netip.Prefix, 0, len(raw))
	for _, s := range raw {
		if n, err := parseNet(s); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// parseNet parses "10.0.0.0/8", "::1/128" or a single address.
func parseNet(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		n, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		if n.Addr().Is4In6() {
			n = netip.PrefixFrom(n.Addr().Unmap(), n.Bits()-96)
		}
		return n.Masked(), nil
	}
	ip, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	ip = ip.Unmap()
	return netip.PrefixFrom(ip, ip.BitLen()), nil
}

// ReservedDatabases are never visible to clients: the server's own schemas.
// information_schema is visible but answered for the client's databases
// only.
var ReservedDatabases = []string{"mysql", "performance_schema", "sys"}

// InternalDatabases returns the databases the proxy itself uses in the
// namespace (two-phase commit decisions, sequences, "switchyard").
func (ns *Namespace) InternalDatabases() []string {
	out := []string{"switchyard"}
	add := func(db string) {
		if db == "" {
			return
		}
		for _, x := range out {
			if x == db {
				return
			}
		}
		out = append(out, db)
	}
	add(ns.XADatabase)
	if i := strings.IndexByte(ns.SequenceTable, '.'); i > 0 {
		add(ns.SequenceTable[:i])
	}
	return out
}

// ClientDatabases returns the databases the namespace lists for its
// clients: allowed_databases and the logical databases of sharding rules.
// closed is false when there are none (an open namespace).
func (ns *Namespace) ClientDatabases() (dbs []string, closed bool) {
	seen := map[string]bool{}
	for _, d := range ns.Access.AllowedDatabases {
		if !seen[d] {
			seen[d] = true
			dbs = append(dbs, d)
		}
	}
	for _, d := range ns.Databases {
		if !seen[d.Name] {
			seen[d.Name] = true
			dbs = append(dbs, d.Name)
		}
	}
	return dbs, len(dbs) > 0
}

// LoginThrottle delays and then refuses clients that keep failing to log
// in, counted per source address and per user name.
type LoginThrottle struct {
	// DelayAfter failures, each further failure is answered after Delay.
	DelayAfter int
	// Delay is how long a failed login waits before its error.
	Delay time.Duration
	// BlockAfter failures the address (or user) is refused for CoolDown,
	// even with the right password. 0 disables the throttle.
	BlockAfter int
	// CoolDown is how long a block lasts, and how long failures are
	// remembered after the last one.
	CoolDown time.Duration
}

// DefaultLoginThrottle applies when login_throttle is not set.
var DefaultLoginThrottle = LoginThrottle{DelayAfter: 3, Delay: time.Second, BlockAfter: 10, CoolDown: 5 * time.Minute}

func (p *parser) loginThrottle(dst *LoginThrottle) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		p.mapping(n, path, "in login_throttle", fields{
			"delay_after": p.integer(&dst.DelayAfter),
			"delay":       p.duration(&dst.Delay),
			"block_after": p.integer(&dst.BlockAfter),
			"cool_down":   p.duration(&dst.CoolDown),
		})
	}
}

func (p *parser) validateLoginThrottle(c *Config) {
	t := c.LoginThrottle
	if t.DelayAfter < 0 {
		p.errorf("login_throttle.delay_after", "login_throttle.delay_after must not be negative, got %d", t.DelayAfter)
	}
	if t.Delay < 0 || t.Delay > time.Minute {
		p.errorf("login_throttle.delay", "login_throttle.delay must be between 0 and 1m, got %v", t.Delay)
	}
	if t.BlockAfter < 0 {
		p.errorf("login_throttle.block_after", "login_throttle.block_after must not be negative, got %d", t.BlockAfter)
	}
	if t.BlockAfter > 0 && t.CoolDown <= 0 {
		p.errorf("login_throttle.cool_down", "login_throttle.cool_down must be positive when block_after is set, got %v", t.CoolDown)
	}
}

// validateAccess checks the access settings of a namespace and its users.
func (p *parser) validateAccess(ns *Namespace, path string) {
	reserved := func(db string) bool {
		for _, r := range append(append([]string{"information_schema"}, ReservedDatabases...), ns.InternalDatabases()...) {
			if strings.EqualFold(r, db) {
				return true
			}
		}
		return false
	}
	for i, d := range ns.Access.AllowedDatabases {
		dp := indexPath(path+".allowed_databases", i)
		switch {
		case d == "":
			p.errorf(dp, "%s: a database name is required", dp)
		case reserved(d):
			p.errorf(dp, "%s %q is reserved (system schemas and the proxy's own databases cannot be given to clients)", dp, d)
		}
	}
	ns.Access.nets = p.checkNets(ns.Access.AllowedIPs, path+".allowed_ips")
	dbs, closed := ns.ClientDatabases()
	for j := range ns.Users {
		u := &ns.Users[j]
		up := indexPath(path+".users", j)
		for i, d := range u.Access.Databases {
			dp := indexPath(up+".databases", i)
			switch {
			case d == "":
				p.errorf(dp, "%s: a database name is required", dp)
			case reserved(d):
				p.errorf(dp, "%s %q is reserved (system schemas and the proxy's own databases cannot be given to clients)", dp, d)
			case closed && !containsExact(dbs, d):
				p.errorf(dp, "%s %q is not one of the namespace's databases (allowed_databases and sharding rules)", dp, d)
			}
		}
		if u.Access.MaxConnections < 0 {
			p.errorf(up+".max_connections", "%s.max_connections must not be negative, got %d", up, u.Access.MaxConnections)
		}
		u.Access.nets = p.checkNets(u.Access.AllowedIPs, up+".allowed_ips")
	}
}

func (p *parser) checkNets(raw []string, path string) []netip.Prefix {
	if len(raw) == 0 {
		return nil
	}
	out := make([]netip.Prefix, 0, len(raw))
	for i, s := range raw {
		n, err := parseNet(s)
		if err != nil {
			ip := indexPath(path, i)
			p.errorf(ip, "%s %q is not an IP address or CIDR range (e.g. 10.0.0.0/8)", ip, s)
			continue
		}
		out = append(out, n)
	}
	return out
}

func containsExact(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
