package config

import "reflect"

// LocalChanges lists the proxy-local settings (everything but namespaces)
// that differ between two snapshots. They are read at start only: a
// reload that changes one is refused (restart the proxy instead).
func LocalChanges(a, b *Config) []string {
	var out []string
	check := func(key string, x, y any) {
		if !reflect.DeepEqual(x, y) {
			out = append(out, key)
		}
	}
	check("listen", a.Listen, b.Listen)
	check("admin", a.Admin, b.Admin)
	check("log", a.Log, b.Log)
	check("tls", a.TLS, b.TLS)
	check("auth_plugin", a.AuthPlugin, b.AuthPlugin)
	check("max_connections", a.MaxConnections, b.MaxConnections)
	check("max_packet_size", a.MaxPacketSize, b.MaxPacketSize)
	check("slow_query_threshold", a.SlowQueryThreshold, b.SlowQueryThreshold)
	check("idle_client_timeout", a.IdleClientTimeout, b.IdleClientTimeout)
	check("monitor", a.Monitor, b.Monitor)
	check("failover_hold_timeout", a.FailoverHold, b.FailoverHold)
	return out
}

// NamespaceByName returns the namespace with the given name, or nil.
func (c *Config) NamespaceByName(name string) *Namespace {
	for _, ns := range c.Namespaces {
		if ns.Name == name {
			return ns
		}
	}
	return nil
}
