package config

import (
	"reflect"
	"strings"
	"unicode"
)

// restartKeys names the configuration keys of Config fields whose YAML key
// is not simply the field name in snake case.
var restartKeys = map[string]string{
	"FailoverHold": "failover_hold_timeout",
	"TLS":          "tls",
}

// LocalChanges lists the proxy-local settings (every top-level key but
// namespaces) that differ between two snapshots. They are read at start
// only: a reload that changes one is refused (restart the proxy instead).
func LocalChanges(a, b *Config) []string {
	var out []string
	va, vb := reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem()
	t := va.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() || f.Name == "Namespaces" || f.Name == "Source" {
			continue
		}
		if reflect.DeepEqual(va.Field(i).Interface(), vb.Field(i).Interface()) {
			continue
		}
		key, ok := restartKeys[f.Name]
		if !ok {
			key = snake(f.Name)
		}
		out = append(out, key)
	}
	return out
}

// snake turns a Go field name into its YAML key (MaxPacketSize ->
// max_packet_size).
func snake(name string) string {
	var b strings.Builder
	rs := []rune(name)
	for i, r := range rs {
		if unicode.IsUpper(r) {
			if i > 0 && (unicode.IsLower(rs[i-1]) || i+1 < len(rs) && unicode.IsLower(rs[i+1])) {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
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
