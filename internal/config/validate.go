package config

import (
	"crypto/tls"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// validate checks every rule and records all violations; it also finishes
// the snapshot (absolute TLS paths, defaulted default_slice).
func (p *parser) validate(c *Config) {
	listenOK := p.checkAddr("listen", c.Listen, true)
	adminOK := p.checkAddr("admin.listen", c.Admin.Listen, true)
	if listenOK && adminOK && sameListener(c.Listen, c.Admin.Listen) {
		p.errorf("admin.listen", "admin.listen %q must differ from listen %q", c.Admin.Listen, c.Listen)
	}
	if c.Admin.User == "" && c.Admin.Password != "" {
		p.errorf("admin.password", "admin.password is set but admin.user is empty")
	}

	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		p.errorf("log.level", "log.level %q is invalid (want debug, info, warn or error)", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		p.errorf("log.format", "log.format %q is invalid (want text or json)", c.Log.Format)
	}
	switch c.AuthPlugin {
	case AuthNativePassword, AuthCachingSHA2:
	default:
		p.errorf("auth_plugin", "auth_plugin %q is invalid (want %s or %s)", c.AuthPlugin, AuthNativePassword, AuthCachingSHA2)
	}

	if c.Monitor.Interval < 10*time.Millisecond {
		p.errorf("monitor.interval", "monitor.interval must be at least 10ms, got %v", c.Monitor.Interval)
	}
	if c.Monitor.Timeout < 0 {
		p.errorf("monitor.timeout", "monitor.timeout must not be negative, got %v", c.Monitor.Timeout)
	}
	if c.Monitor.DownAfter < 1 {
		p.errorf("monitor.down_after", "monitor.down_after must be at least 1, got %d", c.Monitor.DownAfter)
	}
	if c.Monitor.MaxReplicaLag < 0 {
		p.errorf("monitor.max_replica_lag", "monitor.max_replica_lag must not be negative, got %v", c.Monitor.MaxReplicaLag)
	}
	if c.FailoverHold < 0 {
		p.errorf("failover_hold_timeout", "failover_hold_timeout must not be negative, got %v", c.FailoverHold)
	}

	if c.MaxConnections < 1 {
		p.errorf("max_connections", "max_connections must be at least 1, got %d", c.MaxConnections)
	}
	if c.MergeMemory < 0 {
		p.errorf("merge_memory", "merge_memory %d is negative", c.MergeMemory)
	}
	if c.MaxPacketSize < MinPacketSize || c.MaxPacketSize > MaxPacketSize {
		p.errorf("max_packet_size", "max_packet_size %d is out of range (want 1024 bytes to 1GiB)", c.MaxPacketSize)
	}
	if c.SlowQueryThreshold < 0 {
		p.errorf("slow_query_threshold", "slow_query_threshold %s must not be negative", c.SlowQueryThreshold)
	}
	if c.IdleClientTimeout < 0 {
		p.errorf("idle_client_timeout", "idle_client_timeout %s must not be negative", c.IdleClientTimeout)
	}

	p.validateTLS(c)

	if len(c.Namespaces) == 0 {
		p.errorf("namespaces", "at least one namespace is required")
	}
	nsNames := make(map[string]string)   // name -> path
	userNames := make(map[string]string) // user -> path
	for i, ns := range c.Namespaces {
		path := indexPath("namespaces", i)
		if ns.Name == "" {
			p.errorf(path+".name", "%s.name is required", path)
		} else if prev, dup := nsNames[ns.Name]; dup {
			p.errorf(path+".name", "%s.name %q is already used by %s", path, ns.Name, prev)
		} else {
			nsNames[ns.Name] = path
		}
		p.validateNamespace(ns, path, userNames)
		p.validateAccess(ns, path)
		p.validateSQLRules(ns, path)
		p.validateShadow(ns, path)
	}
	p.validateLoginThrottle(c)
	p.validateObservability(c)
}

func (p *parser) validateTLS(c *Config) {
	t := c.TLS
	if t == nil {
		return
	}
	switch {
	case t.Cert == "" && t.Key == "":
		c.TLS = nil
		return
	case t.Cert == "":
		p.errorf("tls", "tls.cert is required when tls.key is set")
		return
	case t.Key == "":
		p.errorf("tls", "tls.key is required when tls.cert is set")
		return
	}
	t.Cert = p.absPath(t.Cert)
	t.Key = p.absPath(t.Key)
	if _, err := tls.LoadX509KeyPair(t.Cert, t.Key); err != nil {
		p.errorf("tls", "tls: cannot load certificate %q and key %q: %v", t.Cert, t.Key, err)
	}
}

// absPath resolves path against the config file's directory.
func (p *parser) absPath(path string) string {
	if !filepath.IsAbs(path) {
		path = filepath.Join(p.dir, path)
	}
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return path
}

func (p *parser) validateNamespace(ns *Namespace, path string, userNames map[string]string) {
	if len(ns.Users) == 0 {
		p.errorf(path+".users", "%s.users: at least one user is required", path)
	}
	for j, u := range ns.Users {
		up := indexPath(path+".users", j)
		if u.Name == "" {
			p.errorf(up+".name", "%s.name is required", up)
		} else if prev, dup := userNames[u.Name]; dup {
			p.errorf(up+".name", "%s.name %q is already used by %s (a user name must be unique across all namespaces)", up, u.Name, prev)
		} else {
			userNames[u.Name] = up
		}
		switch u.ReadConsistency {
		case "":
			ns.Users[j].ReadConsistency = "eventual"
		case "eventual", "session", "global":
		default:
			p.errorf(up+".read_consistency", "%s.read_consistency %q is invalid (want eventual, session or global)", up, u.ReadConsistency)
		}
	}
	switch ns.PrimaryReads {
	case PrimaryReadsFallback, PrimaryReadsAlways, PrimaryReadsNever:
	default:
		p.errorf(path+".primary_reads", "%s.primary_reads %q is invalid (want fallback, always or never)", path, ns.PrimaryReads)
	}
	switch ns.Transactions {
	case TxnXA, TxnBestEffort, TxnSingleSlice:
	default:
		p.errorf(path+".transactions", "%s.transactions %q is invalid (want xa, best_effort or single_slice_only)", path, ns.Transactions)
	}
	if ns.WorkerID < 0 || ns.WorkerID > 1023 {
		p.errorf(path+".worker_id", "%s.worker_id must be between 0 and 1023", path)
	}
	if ns.SequenceTable == "" || !strings.Contains(ns.SequenceTable, ".") {
		p.errorf(path+".sequence_table", "%s.sequence_table must be db.table", path)
	}
	if ns.ScatterParallel < 1 {
		p.errorf(path+".scatter_parallel", "%s.scatter_parallel must be at least 1", path)
	}
	if ns.MergeMaxRows <= 0 || ns.MergeMaxBytes <= 0 {
		p.errorf(path+".merge_max_rows", "%s.merge_max_rows and merge_max_bytes must be positive", path)
	}
	if ns.ConsistencyTimeout <= 0 {
		p.errorf(path+".consistency_timeout", "%s.consistency_timeout must be positive, got %v", path, ns.ConsistencyTimeout)
	}
	if ns.Backend.User == "" {
		p.errorf(path+".backend.user", "%s.backend.user is required", path)
	}

	if len(ns.Slices) == 0 {
		p.errorf(path+".slices", "%s.slices: at least one slice is required", path)
	}
	sliceNames := make(map[string]string) // name -> path
	nodes := make(map[string]string)      // normalized address -> path
	useNode := func(np, addr string) {
		if !p.checkAddr(np, addr, false) {
			return
		}
		key := normalizeAddr(addr)
		if prev, dup := nodes[key]; dup {
			p.errorf(np, "%s %q is already used by %s", np, addr, prev)
			return
		}
		nodes[key] = np
	}
	for j, s := range ns.Slices {
		sp := indexPath(path+".slices", j)
		if s.Name == "" {
			p.errorf(sp+".name", "%s.name is required", sp)
		} else if prev, dup := sliceNames[s.Name]; dup {
			p.errorf(sp+".name", "%s.name %q is already used by %s", sp, s.Name, prev)
		} else {
			sliceNames[s.Name] = sp
		}
		if s.Primary == "" {
			p.errorf(sp+".primary", "%s.primary is required", sp)
		} else {
			useNode(sp+".primary", s.Primary)
		}
		for k, r := range s.Replicas {
			rp := indexPath(sp+".replicas", k)
			if r.Weight < 1 {
				p.errorf(rp, "%s %q: weight must be at least 1", rp, r.Addr+"@"+strconv.Itoa(r.Weight))
			}
			useNode(rp, r.Addr)
		}
	}

	switch {
	case ns.DefaultSlice == "" && len(ns.Slices) == 1:
		ns.DefaultSlice = ns.Slices[0].Name
	case ns.DefaultSlice == "" && len(ns.Slices) > 1:
		p.errorf(path+".default_slice", "%s.default_slice is required when a namespace has more than one slice", path)
	case ns.DefaultSlice != "" && len(ns.Slices) > 0:
		if _, ok := sliceNames[ns.DefaultSlice]; !ok {
			p.errorf(path+".default_slice", "%s.default_slice %q does not name a slice of this namespace", path, ns.DefaultSlice)
		}
	}

	p.validateSharding(ns, path, sliceNames)

	pp := path + ".pool"
	pool := ns.Pool
	if pool.MaxOpen < 1 {
		p.errorf(pp+".max_open", "%s.max_open must be at least 1, got %d", pp, pool.MaxOpen)
	}
	if pool.MinIdle < 0 || (pool.MaxOpen >= 1 && pool.MinIdle > pool.MaxOpen) {
		p.errorf(pp+".min_idle", "%s.min_idle must be between 0 and max_open (%d), got %d", pp, pool.MaxOpen, pool.MinIdle)
	}
	for _, d := range []struct {
		key       string
		v         int64
		zeroValid bool
	}{
		{"idle_timeout", int64(pool.IdleTimeout), true},
		{"max_lifetime", int64(pool.MaxLifetime), true},
		{"wait_timeout", int64(pool.WaitTimeout), false},
		{"connect_timeout", int64(pool.ConnectTimeout), false},
	} {
		switch {
		case d.v < 0:
			p.errorf(pp+"."+d.key, "%s.%s must not be negative", pp, d.key)
		case d.v == 0 && !d.zeroValid:
			p.errorf(pp+"."+d.key, "%s.%s must be greater than 0", pp, d.key)
		}
	}
	if pool.MaxPrepared < 1 {
		p.errorf(pp+".max_prepared", "%s.max_prepared must be at least 1, got %d", pp, pool.MaxPrepared)
	}
}

// checkAddr verifies host:port with a port in 1–65535; listeners may omit
// the host (":13306" = all interfaces).
func (p *parser) checkAddr(path, addr string, listener bool) bool {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		p.errorf(path, "%s %q is not host:port", path, addr)
		return false
	}
	if host == "" && !listener {
		p.errorf(path, "%s %q has no host", path, addr)
		return false
	}
	n, err := strconv.Atoi(port)
	lowest := 1
	if listener {
		lowest = 0 // port 0: any free port (tests)
	}
	if err != nil || n < lowest || n > 65535 {
		p.errorf(path, "%s %q has an invalid port (want %d-65535)", path, addr, lowest)
		return false
	}
	return true
}

func normalizeAddr(addr string) string {
	host, port, _ := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(port)
	return net.JoinHostPort(strings.ToLower(host), strconv.Itoa(n))
}

// sameListener reports whether two valid listen addresses would collide.
func sameListener(a, b string) bool {
	ha, pa, _ := net.SplitHostPort(a)
	hb, pb, _ := net.SplitHostPort(b)
	na, _ := strconv.Atoi(pa)
	nb, _ := strconv.Atoi(pb)
	if na == 0 || nb == 0 {
		return false
	}
	if na != nb {
		return false
	}
	wild := func(h string) bool { return h == "" || h == "0.0.0.0" || h == "::" }
	return wild(ha) || wild(hb) || strings.EqualFold(ha, hb)
}
