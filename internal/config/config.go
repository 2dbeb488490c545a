// Package config loads, strictly parses and validates Switchyard's YAML
// configuration file. It decodes the document and checks what can be
// checked in it alone; it does not resolve sharding rules into physical
// tables (package shard does, and shard.LoadConfig is the one way to load
// and fully validate a configuration).
//
// A *Config returned by Load or Parse is an immutable snapshot: nothing in
// this package modifies it afterwards and callers must not modify it either.
// The proxy replaces whole snapshots atomically when it reloads.
package config

import (
	"fmt"
	"os"
	"time"
)

// Defaults applied to keys that are absent (or null) in the file.
const (
	DefaultListen             = "127.0.0.1:13306"
	DefaultAdminListen        = "127.0.0.1:13399"
	DefaultLogLevel           = "info"
	DefaultLogFormat          = "text"
	DefaultAuthPlugin         = AuthNativePassword
	DefaultMaxConnections     = 10000
	DefaultMaxPacketSize      = 64 << 20 // 64 MiB
	DefaultMergeMemory        = 1 << 30  // 1 GiB
	DefaultSlowQueryThreshold = time.Second
	DefaultIdleClientTimeout  = 0 // never

	DefaultPoolMaxOpen        = 64
	DefaultPoolMinIdle        = 0
	DefaultPoolIdleTimeout    = 60 * time.Second
	DefaultPoolMaxLifetime    = 30 * time.Minute
	DefaultPoolWaitTimeout    = 5 * time.Second
	DefaultPoolConnectTimeout = 2 * time.Second
	DefaultPoolMaxPrepared    = 256
	DefaultMonitorInterval    = 500 * time.Millisecond
	DefaultMonitorDownAfter   = 2
	DefaultFailoverHold       = 30 * time.Second
	DefaultPrimaryReads       = PrimaryReadsFallback
	DefaultConsistencyTimeout = time.Second
	DefaultMergeMaxRows       = 1000000
	DefaultMergeMaxBytes      = 256 << 20
)

// Limits on max_packet_size.
const (
	MinPacketSize = 1024    // smallest accepted max_packet_size
	MaxPacketSize = 1 << 30 // largest accepted max_packet_size (1 GiB)
)

// Authentication plugins accepted by auth_plugin.
const (
	AuthNativePassword = "mysql_native_password"
	AuthCachingSHA2    = "caching_sha2_password"
)

// Config is one validated configuration snapshot. It must not be modified
// after Parse or Load returned it.
type Config struct {
	// Listen is the host:port the MySQL protocol listener binds to.
	Listen string
	// Admin configures the admin HTTP server.
	Admin Admin
	// Log configures logging.
	Log Log
	// TLS enables TLS toward clients; nil when not configured.
	TLS *TLS
	// AuthPlugin is the authentication plugin offered in the handshake.
	AuthPlugin string
	// MaxConnections limits concurrent client connections.
	MaxConnections int
	// MaxPacketSize is the largest client packet accepted, in bytes.
	MaxPacketSize int
	// MergeMemory bounds the bytes every merge and held result of the
	// proxy hold together (on top of each namespace's merge_max_bytes);
	// 0 = no proxy-wide bound.
	MergeMemory int
	// SlowQueryThreshold marks queries slower than this as slow; 0 disables.
	SlowQueryThreshold time.Duration
	// IdleClientTimeout closes idle client connections after this long; 0 = never.
	IdleClientTimeout time.Duration
	// Monitor tunes the health checks of backend nodes.
	Monitor Monitor
	// FailoverHold bounds how long a statement that needs a primary waits
	// for one while a slice fails over.
	FailoverHold time.Duration
	// Namespaces are the logical databases served by the proxy.
	Namespaces []*Namespace
	// Source is the file name the configuration was read from.
	Source string
	// LoginThrottle delays and then refuses clients that fail to log in.
	LoginThrottle LoginThrottle
	// Digests configures per-statement-shape statistics.
	Digests Digests
	// SlowLog configures the JSON-lines slow log.
	SlowLog SlowLog

	users map[string]userRef // built by Parse; nil for hand-built configs
}

type userRef struct {
	ns   *Namespace
	user *User
}

// Admin configures the admin HTTP server.
// Monitor tunes the health checks of backend nodes.
type Monitor struct {
	// Interval between checks of one node.
	Interval time.Duration
	// Timeout bounds one check (connect, queries); 0 means Interval.
	Timeout time.Duration
	// DownAfter consecutive failed checks mark a node down.
	DownAfter int
	// MaxReplicaLag excludes replicas further behind from reads (0 = no limit).
	MaxReplicaLag time.Duration
}

type Admin struct {
	// Listen is the host:port of the admin HTTP server.
	Listen string
	// User is the HTTP basic auth user for /api/*; empty disables /api/*.
	User string
	// Password is the HTTP basic auth password for /api/*.
	Password string
}

// Log configures logging.
type Log struct {
	// Level is one of debug, info, warn, error.
	Level string
	// Format is text or json.
	Format string
}

// TLS holds the certificate and key used toward clients. Both are absolute
// paths after Parse, and were verified to load with tls.LoadX509KeyPair.
type TLS struct {
	// Cert is the PEM certificate (chain) file.
	Cert string
	// Key is the PEM private key file.
	Key string
}

// Namespace is a logical database: a set of users mapped onto a set of
// backend slices.
type Namespace struct {
	// Name identifies the namespace (metrics, logs, admin API).
	Name string
	// Users are the client accounts that belong to this namespace.
	Users []User
	// Backend are the credentials used toward every node of the namespace.
	Backend Credentials
	// DefaultSlice names the slice that receives unrouted queries.
	DefaultSlice string
	// Pool configures the per-node backend connection pools.
	// PrimaryReads says whether the primary serves reads: "fallback" (only
	// when no replica can), "always" (also in the read rotation) or
	// "never" (reads fail without a usable replica).
	PrimaryReads PrimaryReadsMode
	// ConsistencyTimeout bounds how long a replica read waits for the
	// session's (or the primary's) GTID position before going to the primary.
	ConsistencyTimeout time.Duration
	// MergeMaxRows and MergeMaxBytes bound what the proxy holds in memory
	// to merge the results of a query over several shards (groups that do
	// not arrive in order, a sort the shards cannot do, DISTINCT sets).
	MergeMaxRows  int
	MergeMaxBytes int
	// ScatterParallel bounds the statements a scatter query runs at once
	// on one slice (one backend connection each).
	ScatterParallel int
	// SequenceTable is the "db.table" on the default slice that backs
	// table sequences (default switchyard.sequences).
	SequenceTable string
	// WorkerID distinguishes this proxy in snowflake IDs (0-1023); proxies
	// sharing a namespace need distinct ones.
	WorkerID int
	// Transactions says how a transaction or statement that writes on
	// several slices commits: xa (two-phase commit, atomic), best_effort
	// (slice by slice) or single_slice_only (refused).
	Transactions TxnMode
	// XADatabase holds the decision table of two-phase commits on every
	// slice (default switchyard).
	XADatabase string
	// AdminBackend are credentials with READ_ONLY ADMIN and replication
	// administration privileges, used only for planned switchovers.
	AdminBackend *Credentials
	// Replication are the credentials replicas use toward a new primary
	// after a planned switchover.
	Replication *Credentials
	Pool        Pool
	// Slices are the backend replication groups of the namespace.
	Slices []*Slice
	// DataSources map ShardingSphere-style data source names to slices and
	// physical databases, in file order (see docs/sharding.md).
	DataSources []DataSource
	// Databases hold the sharding rules of logical databases (see
	// docs/sharding.md); tables without a rule live on DefaultSlice.
	Databases []*Database
	// Access says which databases and client addresses the namespace's
	// clients may use (see docs/operations.md "Access control").
	Access NamespaceAccess
	// SQLRules deny, allow or limit statements (see docs/operations.md
	// "SQL rules and limits").
	SQLRules []SQLRule
	// MaxExecutionTime limits every statement of the namespace (0: none).
	MaxExecutionTime time.Duration
	// MaxResultRows and MaxResultBytes limit every result set relayed to
	// the namespace's clients (0: none).
	MaxResultRows  int
	MaxResultBytes int
	// SlowQueryThreshold overrides the top-level slow_query_threshold for
	// the namespace (nil: inherit); see SlowThreshold.
	SlowQueryThreshold *time.Duration
	// Shadow are the shadow data sources for load tests; nil when none.
	Shadow *Shadow

	slices map[string]*Slice // built by Parse; nil for hand-built configs
	shadow *Namespace        // ShadowConfig, built by Parse
}

// User is a client account.
type User struct {
	// Name is the MySQL user name; unique across all namespaces.
	Name string
	// Password is the user's clear-text password.
	Password string
	// RWSplit sends eligible reads to replicas when true.
	RWSplit bool
	// ReadConsistency is the user's default read consistency level:
	// eventual, session or global (default eventual).
	ReadConsistency string
	// Access limits the user further than its namespace (see
	// docs/operations.md "Access control").
	Access UserAccess
	// Shadow sends every statement of the user's sessions to the shadow
	// data sources (load test users).
	Shadow bool
}

// Credentials are a backend user name and password.
type Credentials struct {
	// User is the backend MySQL user.
	User string
	// Password is the backend MySQL password.
	Password string
}

// Pool configures the backend connection pool kept for each node.
type Pool struct {
	// MaxOpen limits open connections per backend node.
	MaxOpen int
	// MinIdle is the number of idle connections kept ready per node.
	MinIdle int
	// IdleTimeout closes connections idle for longer; 0 = unlimited.
	IdleTimeout time.Duration
	// MaxLifetime closes connections older than this; 0 = unlimited.
	MaxLifetime time.Duration
	// WaitTimeout is how long a query waits for a connection when MaxOpen is reached.
	WaitTimeout time.Duration
	// ConnectTimeout bounds dialing and authenticating a backend connection.
	ConnectTimeout time.Duration
	// MaxPrepared is the number of server-side prepared statements cached per backend connection.
	MaxPrepared int
}

// Slice is one replication group: a primary and zero or more replicas.
type Slice struct {
	// Name identifies the slice within its namespace.
	Name string
	// Primary is the host:port of the primary.
	Primary string
	// Replicas are the read replicas with their load-balancing weights.
	Replicas []Replica
}

// Replica is a read replica and its load-balancing weight.
type Replica struct {
	// Addr is the host:port of the replica.
	Addr string
	// Weight is the relative share of reads (≥ 1; default 1).
	Weight int
}

// Load reads and validates a config file as Parse does.
func Load(path string) (*Config, error) { return LoadWith(path, nil) }

// LoadWith reads and validates a config file as ParseWith does.
func LoadWith(path string, check Checker) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return ParseWith(data, path, check)
}

// Parse parses and validates YAML bytes; name is used in error messages
// (file name) and relative TLS paths are resolved against its directory.
// On failure the error joins every problem found (see errors.Join); each is
// an *Error.
//
// Parse checks the document: keys, types, required values, names and
// references. Where sharding rules place tables is checked by package
// shard, which resolves them: load configurations with shard.LoadConfig
// or shard.ParseConfig, which pass its Checker to LoadWith and ParseWith.
func Parse(data []byte, name string) (*Config, error) { return ParseWith(data, name, nil) }

// ParseWith parses and validates like Parse and runs check (if not nil) as
// part of the validation.
func ParseWith(data []byte, name string, check Checker) (*Config, error) {
	p := newParser(name)
	cfg := p.parse(data)
	if cfg == nil {
		return nil, p.err()
	}
	// Validate even after decoding errors so that one run reports every
	// problem; rules about values that failed to decode stay quiet.
	p.validate(cfg)
	if check != nil {
		p.check(cfg, check)
	}
	if p.failed() {
		return nil, p.err()
	}
	cfg.index()
	return cfg, nil
}

// index builds the lookup maps; called once before the snapshot is published.
func (c *Config) index() {
	c.users = make(map[string]userRef)
	for _, ns := range c.Namespaces {
		ns.slices = make(map[string]*Slice, len(ns.Slices))
		for _, s := range ns.Slices {
			ns.slices[s.Name] = s
		}
		ns.shadow = ns.buildShadow()
		for i := range ns.Users {
			c.users[ns.Users[i].Name] = userRef{ns: ns, user: &ns.Users[i]}
		}
	}
}

// UserNamespace returns the namespace a client user belongs to and the user
// itself; ok is false for unknown users.
func (c *Config) UserNamespace(user string) (ns *Namespace, u *User, ok bool) {
	if c.users != nil {
		r, ok := c.users[user]
		return r.ns, r.user, ok
	}
	for _, ns := range c.Namespaces {
		for i := range ns.Users {
			if ns.Users[i].Name == user {
				return ns, &ns.Users[i], true
			}
		}
	}
	return nil, nil, false
}

// Slice returns the slice with the given name, or nil.
func (ns *Namespace) Slice(name string) *Slice {
	if ns.slices != nil {
		return ns.slices[name]
	}
	for _, s := range ns.Slices {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// TxnMode is namespaces[].transactions.
type TxnMode string

// Transaction modes.
const (
	TxnXA          TxnMode = "xa"                // two-phase commit over XA
	TxnBestEffort  TxnMode = "best_effort"       // slice by slice
	TxnSingleSlice TxnMode = "single_slice_only" // a second slice is refused
)

// PrimaryReadsMode is namespaces[].primary_reads.
type PrimaryReadsMode string

// Primary read modes.
const (
	PrimaryReadsFallback PrimaryReadsMode = "fallback" // only when no replica can serve
	PrimaryReadsAlways   PrimaryReadsMode = "always"   // in the read rotation too
	PrimaryReadsNever    PrimaryReadsMode = "never"    // reads fail without a replica
)
