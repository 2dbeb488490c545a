package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Error is one problem found in a configuration file. Parse and Load return
// all of them joined with errors.Join; use errors.As or the Unwrap() []error
// method of the joined error to inspect them individually.
type Error struct {
	// File is the name passed to Parse (or the path passed to Load).
	File string
	// Line is the 1-based line the problem was found on; 0 when unknown.
	Line int
	// Msg describes the problem.
	Msg string
}

// Error formats the problem as "file:line: msg" (or "file: msg" without a line).
func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// parser turns a yaml.Node tree into a Config, remembering the line of every
// field (keyed by its path, e.g. "namespaces[0].slices[1].primary") so that
// validation errors can point at the file.
type parser struct {
	file  string
	dir   string
	errs  []*Error
	lines map[string]int
	bad   map[string]bool // paths that failed to decode; validation stays quiet about them

	nulls    map[string]bool // keys present without a value (they keep their defaults)
	reported map[string]bool // paths with a validation error
}

func newParser(name string) *parser {
	if name == "" {
		name = "config"
	}
	return &parser{
		file:     name,
		dir:      filepath.Dir(name),
		lines:    make(map[string]int),
		bad:      make(map[string]bool),
		nulls:    make(map[string]bool),
		reported: make(map[string]bool),
	}
}

func (p *parser) failed() bool { return len(p.errs) > 0 }

// err joins all errors, ordered by line (errors without a line last).
func (p *parser) err() error {
	sort.SliceStable(p.errs, func(i, j int) bool {
		li, lj := p.errs[i].Line, p.errs[j].Line
		if li == 0 || lj == 0 {
			return li != 0 && lj == 0
		}
		return li < lj
	})
	errs := make([]error, len(p.errs))
	for i, e := range p.errs {
		errs[i] = e
	}
	return errors.Join(errs...)
}

// fail records a decoding error at node n and marks path as bad.
func (p *parser) fail(n *yaml.Node, path, format string, args ...any) {
	p.bad[path] = true
	p.errs = append(p.errs, &Error{File: p.file, Line: n.Line, Msg: fmt.Sprintf(format, args...)})
}

// errorf records a validation error about path, located at the closest
// known line (the path itself or one of its parents). Errors about paths
// that already failed to decode are suppressed.
func (p *parser) errorf(path, format string, args ...any) {
	for q := path; q != ""; q = parentPath(q) {
		if p.bad[q] {
			return
		}
	}
	p.reported[path] = true
	p.errs = append(p.errs, &Error{File: p.file, Line: p.line(path), Msg: fmt.Sprintf(format, args...)})
}

// A Checker checks rules that this package decodes but does not resolve
// (package shard checks where sharding rules place tables). It runs as
// part of validation, on the decoded configuration even when the document
// has errors, so that one run reports every problem.
type Checker func(c *Config, r *Report)

// Report collects the problems a Checker finds.
type Report struct {
	p     *parser
	known map[string]bool // paths with an error found by this package
}

// Error records a problem about the key at path (a YAML path such as
// "namespaces[0].databases[1].tables[2].ranges[0]"), which gives its line.
// A problem about a key that already has an error, or lies under one, is
// dropped: a Checker need not repeat this package's checks.
func (r *Report) Error(path, msg string) {
	for q := path; q != ""; q = parentPath(q) {
		if r.known[q] {
			return
		}
	}
	r.p.errorf(path, "%s", msg)
}

// Failed reports whether this package found a problem at path or under
// it, so that a Checker can leave alone what depends on it.
func (r *Report) Failed(path string) bool {
	for k := range r.known {
		if k == path || strings.HasPrefix(k, path) && (k[len(path)] == '.' || k[len(path)] == '[') {
			return true
		}
	}
	return false
}

// check runs a Checker on c.
func (p *parser) check(c *Config, check Checker) {
	r := &Report{p: p, known: make(map[string]bool, len(p.reported)+len(p.bad))}
	for k := range p.reported {
		r.known[k] = true
	}
	for k := range p.bad {
		r.known[k] = true
	}
	check(c, r)
}

// line returns the line of path or of its closest parent with a known line.
func (p *parser) line(path string) int {
	for q := path; q != ""; q = parentPath(q) {
		if l, ok := p.lines[q]; ok {
			return l
		}
	}
	return 0
}

// parentPath strips the last element: "a.b[2]" -> "a.b", "a.b" -> "a", "a" -> "".
func parentPath(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

func indexPath(parent string, i int) string {
	return parent + "[" + strconv.Itoa(i) + "]"
}

var yamlLineErr = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxError converts a yaml.v3 parse error into an *Error.
func (p *parser) syntaxError(err error) {
	msg := err.Error()
	line := 0
	if m := yamlLineErr.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	p.errs = append(p.errs, &Error{File: p.file, Line: line, Msg: "invalid YAML: " + msg})
}

// parse decodes data into a Config with defaults filled in. It returns nil
// when the document could not be parsed at all.
func (p *parser) parse(data []byte) *Config {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.errs = append(p.errs, &Error{File: p.file, Msg: "configuration is empty"})
		} else {
			p.syntaxError(err)
		}
		return nil
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		p.errs = append(p.errs, &Error{File: p.file, Line: extra.Line, Msg: "only one YAML document is allowed"})
		return nil
	} else if !errors.Is(err, io.EOF) {
		p.syntaxError(err)
		return nil
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	root = resolve(root)
	if isNull(root) {
		p.errs = append(p.errs, &Error{File: p.file, Line: root.Line, Msg: "configuration is empty"})
		return nil
	}
	if root.Kind != yaml.MappingNode {
		p.errs = append(p.errs, &Error{File: p.file, Line: root.Line, Msg: "top level: expected a mapping, got " + describe(root)})
		return nil
	}

	c := &Config{
		Listen:             DefaultListen,
		Admin:              Admin{Listen: DefaultAdminListen},
		Log:                Log{Level: DefaultLogLevel, Format: DefaultLogFormat},
		AuthPlugin:         DefaultAuthPlugin,
		MaxConnections:     DefaultMaxConnections,
		MaxPacketSize:      DefaultMaxPacketSize,
		MergeMemory:        DefaultMergeMemory,
		SlowQueryThreshold: DefaultSlowQueryThreshold,
		IdleClientTimeout:  DefaultIdleClientTimeout,
		Monitor:            Monitor{Interval: DefaultMonitorInterval, DownAfter: DefaultMonitorDownAfter},
		FailoverHold:       DefaultFailoverHold,
		Source:             p.file,
		LoginThrottle:      DefaultLoginThrottle,
		Digests:            Digests{MaxEntries: 2000, MetricsTop: 20},
		SlowLog:            SlowLog{MaxSize: 100 << 20, MaxFiles: 5},
	}
	p.mapping(root, "", "at top level", fields{
		"listen": p.str(&c.Listen),
		"admin": func(n *yaml.Node, path string) {
			p.mapping(n, path, "in admin", fields{
				"listen":   p.str(&c.Admin.Listen),
				"user":     p.str(&c.Admin.User),
				"password": p.str(&c.Admin.Password),
			})
		},
		"log": func(n *yaml.Node, path string) {
			p.mapping(n, path, "in log", fields{
				"level":  p.str(&c.Log.Level),
				"format": p.str(&c.Log.Format),
			})
		},
		"tls": func(n *yaml.Node, path string) {
			t := &TLS{}
			if p.mapping(n, path, "in tls", fields{
				"cert": p.str(&t.Cert),
				"key":  p.str(&t.Key),
			}) {
				c.TLS = t
			}
		},
		"auth_plugin":          p.str(&c.AuthPlugin),
		"max_connections":      p.integer(&c.MaxConnections),
		"max_packet_size":      p.size(&c.MaxPacketSize),
		"merge_memory":         p.size(&c.MergeMemory),
		"slow_query_threshold": p.duration(&c.SlowQueryThreshold),
		"idle_client_timeout":  p.duration(&c.IdleClientTimeout),
		"monitor": func(n *yaml.Node, path string) {
			p.mapping(n, path, "in monitor", fields{
				"interval":        p.duration(&c.Monitor.Interval),
				"timeout":         p.duration(&c.Monitor.Timeout),
				"down_after":      p.integer(&c.Monitor.DownAfter),
				"max_replica_lag": p.duration(&c.Monitor.MaxReplicaLag),
			})
		},
		"failover_hold_timeout": p.duration(&c.FailoverHold),
		"login_throttle":        p.loginThrottle(&c.LoginThrottle),
		"digests":               p.digestsConfig(&c.Digests),
		"slow_log":              p.slowLogConfig(&c.SlowLog),
		"namespaces": func(n *yaml.Node, path string) {
			p.sequence(n, path, func(item *yaml.Node, path string) {
				c.Namespaces = append(c.Namespaces, p.namespace(item, path))
			})
		},
	})
	return c
}

func (p *parser) namespace(n *yaml.Node, path string) *Namespace {
	ns := &Namespace{PrimaryReads: DefaultPrimaryReads, ConsistencyTimeout: DefaultConsistencyTimeout,
		MergeMaxRows: DefaultMergeMaxRows, MergeMaxBytes: DefaultMergeMaxBytes,
		SequenceTable: "switchyard.sequences", Transactions: TxnXA, XADatabase: "switchyard", ScatterParallel: 8, Pool: Pool{
			MaxOpen:        DefaultPoolMaxOpen,
			MinIdle:        DefaultPoolMinIdle,
			IdleTimeout:    DefaultPoolIdleTimeout,
			MaxLifetime:    DefaultPoolMaxLifetime,
			WaitTimeout:    DefaultPoolWaitTimeout,
			ConnectTimeout: DefaultPoolConnectTimeout,
			MaxPrepared:    DefaultPoolMaxPrepared,
		}}
	p.mapping(n, path, "in namespace ("+path+")", fields{
		"name": p.str(&ns.Name),
		"users": func(n *yaml.Node, path string) {
			p.sequence(n, path, func(item *yaml.Node, path string) {
				var u User
				p.mapping(item, path, "in user ("+path+")", fields{
					"name":               p.str(&u.Name),
					"password":           p.str(&u.Password),
					"rw_split":           p.boolean(&u.RWSplit),
					"read_consistency":   p.str(&u.ReadConsistency),
					"databases":          p.strList(&u.Access.Databases),
					"read_only":          p.boolean(&u.Access.ReadOnly),
					"allowed_ips":        p.strList(&u.Access.AllowedIPs),
					"require_tls":        p.boolean(&u.Access.RequireTLS),
					"max_connections":    p.integer(&u.Access.MaxConnections),
					"max_execution_time": p.duration(&u.Access.MaxExecutionTime),
					"max_result_rows":    p.integer(&u.Access.MaxResultRows),
					"max_result_bytes":   p.size(&u.Access.MaxResultBytes),
					"shadow":             p.boolean(&u.Shadow),
				})
				ns.Users = append(ns.Users, u)
			})
		},
		"backend": func(n *yaml.Node, path string) {
			p.mapping(n, path, "in backend ("+path+")", fields{
				"user":     p.str(&ns.Backend.User),
				"password": p.str(&ns.Backend.Password),
			})
		},
		"default_slice":       p.str(&ns.DefaultSlice),
		"primary_reads":       p.str((*string)(&ns.PrimaryReads)),
		"consistency_timeout": p.duration(&ns.ConsistencyTimeout),
		"merge_max_rows":      p.integer(&ns.MergeMaxRows),
		"merge_max_bytes":     p.size(&ns.MergeMaxBytes),
		"scatter_parallel":    p.integer(&ns.ScatterParallel),
		"sequence_table":      p.str(&ns.SequenceTable),
		"worker_id":           p.integer(&ns.WorkerID),
		"transactions":        p.str((*string)(&ns.Transactions)),
		"xa_database":         p.str(&ns.XADatabase),
		"admin_backend": func(n *yaml.Node, path string) {
			ns.AdminBackend = &Credentials{}
			p.mapping(n, path, "in admin_backend ("+path+")", fields{
				"user":     p.str(&ns.AdminBackend.User),
				"password": p.str(&ns.AdminBackend.Password),
			})
		},
		"replication": func(n *yaml.Node, path string) {
			ns.Replication = &Credentials{}
			p.mapping(n, path, "in replication ("+path+")", fields{
				"user":     p.str(&ns.Replication.User),
				"password": p.str(&ns.Replication.Password),
			})
		},
		"pool": func(n *yaml.Node, path string) {
			p.mapping(n, path, "in pool ("+path+")", fields{
				"max_open":        p.integer(&ns.Pool.MaxOpen),
				"min_idle":        p.integer(&ns.Pool.MinIdle),
				"idle_timeout":    p.duration(&ns.Pool.IdleTimeout),
				"max_lifetime":    p.duration(&ns.Pool.MaxLifetime),
				"wait_timeout":    p.duration(&ns.Pool.WaitTimeout),
				"connect_timeout": p.duration(&ns.Pool.ConnectTimeout),
				"max_prepared":    p.integer(&ns.Pool.MaxPrepared),
			})
		},
		"slices": func(n *yaml.Node, path string) {
			p.sequence(n, path, func(item *yaml.Node, path string) {
				s := &Slice{}
				p.mapping(item, path, "in slice ("+path+")", fields{
					"name":    p.str(&s.Name),
					"primary": p.str(&s.Primary),
					"replicas": func(n *yaml.Node, path string) {
						p.sequence(n, path, func(item *yaml.Node, path string) {
							s.Replicas = append(s.Replicas, p.replica(item, path))
						})
					},
				})
				ns.Slices = append(ns.Slices, s)
			})
		},
		"datasources":          func(n *yaml.Node, path string) { p.dataSources(n, path, ns) },
		"shadow":               p.shadowConfig(ns),
		"allowed_databases":    p.strList(&ns.Access.AllowedDatabases),
		"allowed_ips":          p.strList(&ns.Access.AllowedIPs),
		"require_tls":          p.boolean(&ns.Access.RequireTLS),
		"sql_rules":            p.sqlRules(ns),
		"max_execution_time":   p.duration(&ns.MaxExecutionTime),
		"slow_query_threshold": p.optDuration(&ns.SlowQueryThreshold),
		"databases": func(n *yaml.Node, path string) {
			p.sequence(n, path, func(item *yaml.Node, path string) {
				ns.Databases = append(ns.Databases, p.database(item, path))
			})
		},
	})
	return ns
}

// replica decodes "host:port" or "host:port@weight".
func (p *parser) replica(n *yaml.Node, path string) Replica {
	r := Replica{Weight: 1}
	var s string
	p.str(&s)(n, path)
	if p.bad[path] {
		return r
	}
	r.Addr = s
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		r.Addr = s[:i]
		w, err := strconv.Atoi(s[i+1:])
		if err != nil {
			p.fail(n, path, "%s %q: weight after \"@\" must be an integer", path, s)
			return r
		}
		r.Weight = w
	}
	return r
}

// fields maps the allowed keys of a mapping to their decoders.
type fields map[string]func(n *yaml.Node, path string)

// mapping decodes a mapping node with the given allowed keys. where
// describes the mapping in "unknown key" errors ("in user (...)"). It
// returns false when the node is null (key present without value) or not a
// mapping.
func (p *parser) mapping(n *yaml.Node, path, where string, f fields) bool {
	n = resolve(n)
	if isNull(n) {
		return false
	}
	if n.Kind != yaml.MappingNode {
		p.fail(n, path, "%s: expected a mapping, got %s", path, describe(n))
		return false
	}
	seen := make(map[string]int, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			p.fail(k, path, "%s: keys must be plain strings, got %s", orTop(path), describe(k))
			continue
		}
		key := k.Value
		child := joinPath(path, key)
		if first, dup := seen[key]; dup {
			p.fail(k, child, "duplicate key %q %s (first set on line %d)", key, where, first)
			continue
		}
		seen[key] = k.Line
		decode, ok := f[key]
		if !ok {
			msg := fmt.Sprintf("unknown key %q %s", key, where)
			if s := suggest(key, f); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			}
			p.fail(k, child, "%s", msg)
			continue
		}
		p.lines[child] = k.Line
		if isNull(resolve(v)) {
			p.nulls[child] = true
		}
		decode(v, child)
	}
	return true
}

// sequence decodes a sequence node, calling each for every item.
func (p *parser) sequence(n *yaml.Node, path string, each func(item *yaml.Node, path string)) {
	n = resolve(n)
	if isNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		p.fail(n, path, "%s: expected a list, got %s", path, describe(n))
		return
	}
	for i, item := range n.Content {
		ip := indexPath(path, i)
		p.lines[ip] = item.Line
		each(item, ip)
	}
}

// scalar returns the scalar node behind n, or nil (after recording an
// error) when n is not a scalar. Null values also yield nil, without an
// error: a key without a value keeps its default.
func (p *parser) scalar(n *yaml.Node, path, want string) *yaml.Node {
	n = resolve(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.ScalarNode {
		p.fail(n, path, "%s: expected %s, got %s", path, want, describe(n))
		return nil
	}
	return n
}

// str decodes any scalar as its literal text, so that `password: 0123`
// keeps its leading zero.
func (p *parser) str(dst *string) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		if n = p.scalar(n, path, "a string"); n != nil {
			*dst = n.Value
		}
	}
}

func (p *parser) integer(dst *int) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		if n = p.scalar(n, path, "an integer"); n == nil {
			return
		}
		var v int
		if n.ShortTag() != "!!int" || n.Decode(&v) != nil {
			p.fail(n, path, "%s: expected an integer, got %s", path, describe(n))
			return
		}
		*dst = v
	}
}

func (p *parser) boolean(dst *bool) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		if n = p.scalar(n, path, "true or false"); n == nil {
			return
		}
		var v bool
		if n.ShortTag() != "!!bool" || n.Decode(&v) != nil {
			p.fail(n, path, "%s: expected true or false, got %s", path, describe(n))
			return
		}
		*dst = v
	}
}

// duration decodes a Go duration string ("500ms", "30s", "1h30m"); the
// bare number 0 is accepted too.
func (p *parser) duration(dst *time.Duration) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		if n = p.scalar(n, path, "a duration"); n == nil {
			return
		}
		tag := n.ShortTag()
		d, err := time.ParseDuration(n.Value)
		if (tag != "!!str" && tag != "!!int") || err != nil {
			p.fail(n, path, "%s: invalid duration %q: use a Go duration such as \"500ms\", \"30s\" or \"5m\"", path, n.Value)
			return
		}
		*dst = d
	}
}

// size decodes a byte count: an integer or a string such as "64MiB".
func (p *parser) size(dst *int) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		if n = p.scalar(n, path, "a size"); n == nil {
			return
		}
		tag := n.ShortTag()
		v, err := ParseSize(n.Value)
		if (tag != "!!str" && tag != "!!int") || err != nil {
			p.fail(n, path, "%s: invalid size %q: use a number of bytes or a size such as \"16MiB\", \"64MB\" or \"1GiB\"", path, n.Value)
			return
		}
		*dst = v
	}
}

var sizeUnits = map[string]int64{
	"":    1,
	"b":   1,
	"k":   1 << 10,
	"kb":  1000,
	"kib": 1 << 10,
	"m":   1 << 20,
	"mb":  1000 * 1000,
	"mib": 1 << 20,
	"g":   1 << 30,
	"gb":  1000 * 1000 * 1000,
	"gib": 1 << 30,
}

// ParseSize parses a byte count such as "1024", "64KiB", "16MB" or "1GiB".
// Units are case-insensitive: B; KB, MB, GB are powers of 1000; KiB, MiB,
// GiB and the MySQL-style K, M, G are powers of 1024. A space may separate
// the number from the unit.
func ParseSize(s string) (int, error) {
	s = strings.TrimSpace(s)
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("invalid size %q", s)
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid size %q", s)
	}
	mult, ok := sizeUnits[strings.ToLower(strings.TrimSpace(s[i:]))]
	if !ok {
		return 0, fmt.Errorf("invalid size %q: unknown unit", s)
	}
	const maxInt = int64(^uint(0) >> 1)
	if n > maxInt/mult {
		return 0, fmt.Errorf("invalid size %q: too large", s)
	}
	return int(n * mult), nil
}

// resolve follows aliases (&anchor / *alias).
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == 0 || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// describe names a node for error messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
			return "the quoted string " + strconv.Quote(n.Value)
		}
		return strconv.Quote(n.Value)
	}
	return "an unexpected YAML node"
}

func orTop(path string) string {
	if path == "" {
		return "top level"
	}
	return path
}

// suggest returns the allowed key closest to key when it is a likely typo.
func suggest(key string, f fields) string {
	best, bestDist := "", 3
	for k := range f {
		d := editDistance(strings.ToLower(key), k)
		if d < bestDist || (d == bestDist && best != "" && k < best) {
			best, bestDist = k, d
		}
	}
	if bestDist > 2 || bestDist >= len(key) {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
