package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// minimal is the smallest valid configuration.
const minimal = `
namespaces:
  - name: shop
    users: [{name: app, password: pw}]
    backend: {user: proxy}
    slices: [{name: s0, primary: 127.0.0.1:3310}]
`

// example is the complete example of docs/config.md.
const example = `listen: 127.0.0.1:13306
admin: {listen: 127.0.0.1:13399, user: admin, password: admin}
log: {level: debug, format: json}
auth_plugin: caching_sha2_password
max_connections: 500
max_packet_size: 16MiB
slow_query_threshold: 250ms
idle_client_timeout: 8h
namespaces:
  - name: shop
    users:
      - {name: app, password: app_pw, rw_split: true}
      - {name: report, password: "0123"}
    backend: {user: proxy, password: proxy}
    default_slice: s1
    pool:
      max_open: 32
      min_idle: 2
      idle_timeout: 0
      max_lifetime: 1h
      wait_timeout: 500ms
      connect_timeout: 1s
      max_prepared: 64
    slices:
      - {name: s0, primary: 127.0.0.1:3310, replicas: [127.0.0.1:3311, "127.0.0.1:3312@2"]}
      - name: s1
        primary: db1.internal:3320
  - name: blog
    users: [{name: blogger}]
    backend: {user: proxy2}
    slices: [{name: main, primary: "[::1]:3310"}]
`

func defaultPool() Pool {
	return Pool{
		MaxOpen:        DefaultPoolMaxOpen,
		MinIdle:        DefaultPoolMinIdle,
		IdleTimeout:    DefaultPoolIdleTimeout,
		MaxLifetime:    DefaultPoolMaxLifetime,
		WaitTimeout:    DefaultPoolWaitTimeout,
		ConnectTimeout: DefaultPoolConnectTimeout,
		MaxPrepared:    DefaultPoolMaxPrepared,
	}
}

// strip clears the unexported lookup indexes so that configs compare with
// reflect.DeepEqual against hand-built expectations.
func strip(c *Config) *Config {
	c.users = nil
	for _, ns := range c.Namespaces {
		ns.slices = nil
	}
	return c
}

func TestParseGood(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want *Config
	}{
		{
			name: "minimal with defaults",
			yaml: minimal,
			want: &Config{
				Listen:             "127.0.0.1:13306",
				Admin:              Admin{Listen: "127.0.0.1:13399"},
				Log:                Log{Level: "info", Format: "text"},
				AuthPlugin:         "mysql_native_password",
				MaxConnections:     10000,
				MaxPacketSize:      64 << 20,
				MergeMemory:        1 << 30,
				SlowQueryThreshold: time.Second,
				Monitor:            Monitor{Interval: DefaultMonitorInterval, DownAfter: DefaultMonitorDownAfter},
				FailoverHold:       DefaultFailoverHold,
				LoginThrottle:      DefaultLoginThrottle,
				Digests:            Digests{MaxEntries: 2000, MetricsTop: 20},
				SlowLog:            SlowLog{MaxSize: 100 << 20, MaxFiles: 5},
				Namespaces: []*Namespace{{
					Name:               "shop",
					Users:              []User{{Name: "app", Password: "pw", ReadConsistency: "eventual"}},
					Backend:            Credentials{User: "proxy"},
					DefaultSlice:       "s0",
					PrimaryReads:       DefaultPrimaryReads,
					ConsistencyTimeout: DefaultConsistencyTimeout, MergeMaxRows: DefaultMergeMaxRows, MergeMaxBytes: DefaultMergeMaxBytes, SequenceTable: "switchyard.sequences", Transactions: TxnXA, XADatabase: "switchyard", ScatterParallel: 8,
					Pool:   defaultPool(),
					Slices: []*Slice{{Name: "s0", Primary: "127.0.0.1:3310"}},
				}},
				Source: "test.yaml",
			},
		},
		{
			name: "complete example",
			yaml: example,
			want: &Config{
				Listen:             "127.0.0.1:13306",
				Admin:              Admin{Listen: "127.0.0.1:13399", User: "admin", Password: "admin"},
				Log:                Log{Level: "debug", Format: "json"},
				AuthPlugin:         "caching_sha2_password",
				MaxConnections:     500,
				MaxPacketSize:      16 << 20,
				MergeMemory:        1 << 30,
				SlowQueryThreshold: 250 * time.Millisecond,
				Monitor:            Monitor{Interval: DefaultMonitorInterval, DownAfter: DefaultMonitorDownAfter},
				FailoverHold:       DefaultFailoverHold,
				LoginThrottle:      DefaultLoginThrottle,
				Digests:            Digests{MaxEntries: 2000, MetricsTop: 20},
				SlowLog:            SlowLog{MaxSize: 100 << 20, MaxFiles: 5},
				IdleClientTimeout:  8 * time.Hour,
				Namespaces: []*Namespace{
					{
						Name: "shop",
						Users: []User{
							{Name: "app", Password: "app_pw", RWSplit: true, ReadConsistency: "eventual"},
							{Name: "report", Password: "0123", ReadConsistency: "eventual"},
						},
						Backend:            Credentials{User: "proxy", Password: "proxy"},
						DefaultSlice:       "s1",
						PrimaryReads:       DefaultPrimaryReads,
						ConsistencyTimeout: DefaultConsistencyTimeout, MergeMaxRows: DefaultMergeMaxRows, MergeMaxBytes: DefaultMergeMaxBytes, SequenceTable: "switchyard.sequences", Transactions: TxnXA, XADatabase: "switchyard", ScatterParallel: 8,
						Pool: Pool{
							MaxOpen: 32, MinIdle: 2, IdleTimeout: 0, MaxLifetime: time.Hour,
							WaitTimeout: 500 * time.Millisecond, ConnectTimeout: time.Second, MaxPrepared: 64,
						},
						Slices: []*Slice{
							{Name: "s0", Primary: "127.0.0.1:3310", Replicas: []Replica{
								{Addr: "127.0.0.1:3311", Weight: 1},
								{Addr: "127.0.0.1:3312", Weight: 2},
							}},
							{Name: "s1", Primary: "db1.internal:3320"},
						},
					},
					{
						Name:               "blog",
						Users:              []User{{Name: "blogger", ReadConsistency: "eventual"}},
						Backend:            Credentials{User: "proxy2"},
						DefaultSlice:       "main",
						PrimaryReads:       DefaultPrimaryReads,
						ConsistencyTimeout: DefaultConsistencyTimeout, MergeMaxRows: DefaultMergeMaxRows, MergeMaxBytes: DefaultMergeMaxBytes, SequenceTable: "switchyard.sequences", Transactions: TxnXA, XADatabase: "switchyard", ScatterParallel: 8,
						Pool:   defaultPool(),
						Slices: []*Slice{{Name: "main", Primary: "[::1]:3310"}},
					},
				},
				Source: "test.yaml",
			},
		},
		{
			name: "null values keep defaults, aliases resolve, listen on all interfaces",
			yaml: `listen: ":3306"
admin:
log: {level: ~, format: }
slow_query_threshold: 0
namespaces:
  - name: shop
    users: [{name: app, password: &pw secret}]
    backend: {user: proxy, password: *pw}
    pool: {min_idle: 64, idle_timeout: 0s, max_lifetime: "0"}
    slices: [{name: s0, primary: 127.0.0.1:3310, replicas: ["127.0.0.1:3311@10"]}]
`,
			want: &Config{
				Listen:             ":3306",
				Admin:              Admin{Listen: "127.0.0.1:13399"},
				Log:                Log{Level: "info", Format: "text"},
				AuthPlugin:         "mysql_native_password",
				MaxConnections:     10000,
				MaxPacketSize:      64 << 20,
				MergeMemory:        1 << 30,
				SlowQueryThreshold: 0,
				Monitor:            Monitor{Interval: DefaultMonitorInterval, DownAfter: DefaultMonitorDownAfter},
				FailoverHold:       DefaultFailoverHold,
				LoginThrottle:      DefaultLoginThrottle,
				Digests:            Digests{MaxEntries: 2000, MetricsTop: 20},
				SlowLog:            SlowLog{MaxSize: 100 << 20, MaxFiles: 5},
				Namespaces: []*Namespace{{
					Name:               "shop",
					Users:              []User{{Name: "app", Password: "secret", ReadConsistency: "eventual"}},
					Backend:            Credentials{User: "proxy", Password: "secret"},
					DefaultSlice:       "s0",
					PrimaryReads:       DefaultPrimaryReads,
					ConsistencyTimeout: DefaultConsistencyTimeout, MergeMaxRows: DefaultMergeMaxRows, MergeMaxBytes: DefaultMergeMaxBytes, SequenceTable: "switchyard.sequences", Transactions: TxnXA, XADatabase: "switchyard", ScatterParallel: 8,
					Pool: func() Pool {
						p := defaultPool()
						p.MinIdle, p.IdleTimeout, p.MaxLifetime = 64, 0, 0
						return p
					}(),
					Slices: []*Slice{{Name: "s0", Primary: "127.0.0.1:3310", Replicas: []Replica{{Addr: "127.0.0.1:3311", Weight: 10}}}},
				}},
				Source: "test.yaml",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.yaml), "test.yaml")
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(strip(got), tt.want) {
				t.Errorf("got  %s\nwant %s", dump(got), dump(tt.want))
			}
		})
	}
}

func dump(c *Config) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%+v", *c)
	for _, ns := range c.Namespaces {
		fmt.Fprintf(&b, "\n  %+v", *ns)
		for _, s := range ns.Slices {
			fmt.Fprintf(&b, "\n    %+v", *s)
		}
	}
	return b.String()
}

func TestSizes(t *testing.T) {
	tests := []struct {
		in      string
		want    int
		wantErr bool
	}{
		{"1024", 1024, false},
		{"64MiB", 64 << 20, false},
		{"64 MiB", 64 << 20, false},
		{"16MB", 16_000_000, false},
		{"1GiB", 1 << 30, false},
		{"1gib", 1 << 30, false},
		{"2KB", 2000, false},
		{"2KiB", 2048, false},
		{"64M", 64 << 20, false},
		{"512k", 512 << 10, false},
		{"4096B", 4096, false},
		{"", 0, true},
		{"MiB", 0, true},
		{"1.5MiB", 0, true},
		{"-1", 0, true},
		{"10 parsecs", 0, true},
		{"99999999999999999999", 0, true},
		{"9999999999999GiB", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSize(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("ParseSize(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestMaxPacketSizeYAML(t *testing.T) {
	tests := []struct {
		value   string
		want    int
		wantErr string
	}{
		{"67108864", 64 << 20, ""},
		{"64MiB", 64 << 20, ""},
		{"16MB", 16_000_000, ""},
		{"1GiB", 1 << 30, ""},
		{`"1024"`, 1024, ""},
		{"1023", 0, `test.yaml:1: max_packet_size 1023 is out of range (want 1024 bytes to 1GiB)`},
		{"2GiB", 0, "max_packet_size 2147483648 is out of range"},
		{"64 megs", 0, `test.yaml:1: max_packet_size: invalid size "64 megs"`},
		{"1.5", 0, `max_packet_size: invalid size "1.5"`},
		{"[1]", 0, `test.yaml:1: max_packet_size: expected a size, got a list`},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			c, err := Parse([]byte("max_packet_size: "+tt.value+minimal), "test.yaml")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v; want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.MaxPacketSize != tt.want {
				t.Errorf("MaxPacketSize = %d, want %d", c.MaxPacketSize, tt.want)
			}
		})
	}
}

func TestReplicaWeights(t *testing.T) {
	tests := []struct {
		replicas string
		want     []Replica
		wantErr  string
	}{
		{`[127.0.0.1:3311]`, []Replica{{"127.0.0.1:3311", 1}}, ""},
		{`["127.0.0.1:3311@3", "db2:3312@1"]`, []Replica{{"127.0.0.1:3311", 3}, {"db2:3312", 1}}, ""},
		{`["[::1]:3311@2"]`, []Replica{{"[::1]:3311", 2}}, ""},
		{`["127.0.0.1:3311@0"]`, nil, `test.yaml:5: namespaces[0].slices[0].replicas[0] "127.0.0.1:3311@0": weight must be at least 1`},
		{`["127.0.0.1:3311@-2"]`, nil, `weight must be at least 1`},
		{`["127.0.0.1:3311@"]`, nil, `test.yaml:5: namespaces[0].slices[0].replicas[0] "127.0.0.1:3311@": weight after "@" must be an integer`},
		{`["127.0.0.1:3311@two"]`, nil, `weight after "@" must be an integer`},
		{`["127.0.0.1@2"]`, nil, `namespaces[0].slices[0].replicas[0] "127.0.0.1" is not host:port`},
		{`[{addr: 127.0.0.1:3311}]`, nil, `test.yaml:5: namespaces[0].slices[0].replicas[0]: expected a string, got a mapping`},
		{`127.0.0.1:3311`, nil, `namespaces[0].slices[0].replicas: expected a list, got "127.0.0.1:3311"`},
	}
	for _, tt := range tests {
		t.Run(tt.replicas, func(t *testing.T) {
			y := `namespaces:
  - name: shop
    users: [{name: app}]
    backend: {user: proxy}
    slices: [{name: s0, primary: 127.0.0.1:3310, replicas: ` + tt.replicas + `}]
`
			c, err := Parse([]byte(y), "test.yaml")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v; want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Namespaces[0].Slices[0].Replicas; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("replicas = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// nsWith builds a one-namespace config whose namespace body is body
// (indented by 4 spaces in the result).
func nsWith(body string) string {
	return "namespaces:\n  - name: shop\n" + body
}

func TestParseErrors(t *testing.T) {
	const ns = `namespaces:
  - name: shop
    users: [{name: app}]
    backend: {user: proxy}
    slices: [{name: s0, primary: 127.0.0.1:3310}]
`
	tests := []struct {
		name  string
		yaml  string
		wants []string
	}{
		{"empty", ``, []string{"test.yaml: configuration is empty"}},
		{"only comments", "# nothing\n", []string{"test.yaml: configuration is empty"}},
		{"not a mapping", "- a\n- b\n", []string{"test.yaml:1: top level: expected a mapping, got a list"}},
		{"syntax error", "listen: [\n", []string{"test.yaml:", "invalid YAML"}},
		{"syntax error with line", "a: b\nc\nd: e\n", []string{"test.yaml:2: invalid YAML: could not find expected ':'"}},
		{"two documents", "listen: a:1\n---\nlisten: b:2\n", []string{"test.yaml:2: only one YAML document is allowed"}},
		{"duplicate key", "listen: a:1\nlisten: b:2\n" + ns, []string{`test.yaml:2: duplicate key "listen" at top level (first set on line 1)`}},
		{"no namespaces", "listen: 127.0.0.1:1\n", []string{"test.yaml: at least one namespace is required"}},
		{"empty namespaces", "namespaces: []\n", []string{"test.yaml:1: at least one namespace is required"}},
		{"namespaces not a list", "namespaces: {name: x}\n", []string{"test.yaml:1: namespaces: expected a list, got a mapping"}},
		{"namespace not a mapping", "namespaces: [shop]\n", []string{`test.yaml:1: namespaces[0]: expected a mapping, got "shop"`}},
		{"bad listen", "listen: localhost\n" + ns, []string{`test.yaml:1: listen "localhost" is not host:port`}},
		{"bad listen port", "listen: 127.0.0.1:-1\n" + ns, []string{`test.yaml:1: listen "127.0.0.1:-1" has an invalid port (want 0-65535)`}},
		{"bad node port", "namespaces: [{name: a, users: [{name: u}], backend: {user: b}, slices: [{name: s, primary: '127.0.0.1:0'}]}]\n", []string{`primary "127.0.0.1:0" has an invalid port (want 1-65535)`}},
		{"port too large", "listen: 127.0.0.1:70000\n" + ns, []string{`listen "127.0.0.1:70000" has an invalid port`}},
		{"named port", "admin: {listen: 'localhost:http'}\n" + ns, []string{`test.yaml:1: admin.listen "localhost:http" has an invalid port`}},
		{"same listeners", "listen: 127.0.0.1:4000\nadmin: {listen: 127.0.0.1:4000}\n" + ns, []string{`test.yaml:2: admin.listen "127.0.0.1:4000" must differ from listen "127.0.0.1:4000"`}},
		{"wildcard collides", "listen: :4000\nadmin: {listen: 127.0.0.1:4000}\n" + ns, []string{`must differ from listen ":4000"`}},
		{"admin password without user", "admin: {password: x}\n" + ns, []string{"test.yaml:1: admin.password is set but admin.user is empty"}},
		{"log level", "log: {level: verbose}\n" + ns, []string{`test.yaml:1: log.level "verbose" is invalid (want debug, info, warn or error)`}},
		{"log format", "log:\n  format: xml\n" + ns, []string{`test.yaml:2: log.format "xml" is invalid (want text or json)`}},
		{"auth plugin", "auth_plugin: sha256_password\n" + ns, []string{`test.yaml:1: auth_plugin "sha256_password" is invalid (want mysql_native_password or caching_sha2_password)`}},
		{"max connections", "max_connections: 0\n" + ns, []string{"test.yaml:1: max_connections must be at least 1, got 0"}},
		{"max connections type", "max_connections: lots\n" + ns, []string{`test.yaml:1: max_connections: expected an integer, got "lots"`}},
		{"max connections float", "max_connections: 1.5\n" + ns, []string{`max_connections: expected an integer, got "1.5"`}},
		{"integer seconds rejected", "slow_query_threshold: 5\n" + ns, []string{`test.yaml:1: slow_query_threshold: invalid duration "5": use a Go duration such as "500ms", "30s" or "5m"`}},
		{"duration garbage", "idle_client_timeout: soon\n" + ns, []string{`idle_client_timeout: invalid duration "soon"`}},
		{"duration mapping", "idle_client_timeout: {s: 1}\n" + ns, []string{`test.yaml:1: idle_client_timeout: expected a duration, got a mapping`}},
		{"negative duration", "slow_query_threshold: -1s\n" + ns, []string{"test.yaml:1: slow_query_threshold -1s must not be negative"}},
		{"string is a mapping", "listen: {a: b}\n" + ns, []string{"test.yaml:1: listen: expected a string, got a mapping"}},
		{"bool type", nsWith("    users: [{name: app, rw_split: yes}]\n    backend: {user: proxy}\n    slices: [{name: s0, primary: 127.0.0.1:3310}]\n"),
			[]string{`test.yaml:3: namespaces[0].users[0].rw_split: expected true or false, got "yes"`}},
		{"tls only cert", "tls: {cert: a.pem}\n" + ns, []string{"test.yaml:1: tls.key is required when tls.cert is set"}},
		{"tls only key", "tls:\n  key: a.pem\n" + ns, []string{"test.yaml:1: tls.cert is required when tls.key is set"}},
		{"tls missing files", "tls: {cert: /nonexistent/c.pem, key: /nonexistent/k.pem}\n" + ns,
			[]string{`test.yaml:1: tls: cannot load certificate "/nonexistent/c.pem" and key "/nonexistent/k.pem"`}},
		{"namespace name missing", "namespaces:\n  - users: [{name: app}]\n    backend: {user: p}\n    slices: [{name: s0, primary: 127.0.0.1:1}]\n",
			[]string{"test.yaml:2: namespaces[0].name is required"}},
		{"duplicate namespace", ns + "  - name: shop\n    users: [{name: app2}]\n    backend: {user: proxy}\n    slices: [{name: s0, primary: 127.0.0.1:3310}]\n",
			[]string{`test.yaml:6: namespaces[1].name "shop" is already used by namespaces[0]`}},
		{"user in two namespaces", ns + "  - name: blog\n    users: [{name: x}, {name: app}]\n    backend: {user: proxy}\n    slices: [{name: s0, primary: 127.0.0.1:3310}]\n",
			[]string{`test.yaml:7: namespaces[1].users[1].name "app" is already used by namespaces[0].users[0] (a user name must be unique across all namespaces)`}},
		{"duplicate user in namespace", nsWith("    users:\n      - name: app\n      - name: app\n    backend: {user: p}\n    slices: [{name: s0, primary: 127.0.0.1:1}]\n"),
			[]string{`test.yaml:5: namespaces[0].users[1].name "app" is already used by namespaces[0].users[0]`}},
		{"no users", nsWith("    backend: {user: p}\n    slices: [{name: s0, primary: 127.0.0.1:1}]\n"),
			[]string{"test.yaml:2: namespaces[0].users: at least one user is required"}},
		{"empty user name", nsWith("    users: [{password: x}]\n    backend: {user: p}\n    slices: [{name: s0, primary: 127.0.0.1:1}]\n"),
			[]string{"test.yaml:3: namespaces[0].users[0].name is required"}},
		{"backend user missing", nsWith("    users: [{name: app}]\n    backend: {password: x}\n    slices: [{name: s0, primary: 127.0.0.1:1}]\n"),
			[]string{"test.yaml:4: namespaces[0].backend.user is required"}},
		{"backend missing", nsWith("    users: [{name: app}]\n    slices: [{name: s0, primary: 127.0.0.1:1}]\n"),
			[]string{"test.yaml:2: namespaces[0].backend.user is required"}},
		{"no slices", nsWith("    users: [{name: app}]\n    backend: {user: p}\n    slices: []\n"),
			[]string{"test.yaml:5: namespaces[0].slices: at least one slice is required"}},
		{"slice name missing", nsWith("    users: [{name: app}]\n    backend: {user: p}\n    slices: [{primary: 127.0.0.1:1}]\n"),
			[]string{"test.yaml:5: namespaces[0].slices[0].name is required"}},
		{"duplicate slice", nsWith("    users: [{name: app}]\n    backend: {user: p}\n    default_slice: s0\n    slices:\n      - {name: s0, primary: 127.0.0.1:1}\n      - {name: s0, primary: 127.0.0.1:2}\n"),
			[]string{`test.yaml:8: namespaces[0].slices[1].name "s0" is already used by namespaces[0].slices[0]`}},
		{"primary missing", nsWith("    users: [{name: app}]\n    backend: {user: p}\n    slices: [{name: s0}]\n"),
			[]string{"test.yaml:5: namespaces[0].slices[0].primary is required"}},
		{"primary not host:port", nsWith("    users: [{name: app}]\n    backend: {user: p}\n    default_slice: s0\n    slices:\n      - {name: s0, primary: 127.0.0.1:1}\n      - name: s1\n        primary: 127.0.0.1\n"),
			[]string{`test.yaml:9: namespaces[0].slices[1].primary "127.0.0.1" is not host:port`}},
		{"primary without host", nsWith("    users: [{name: app}]\n    backend: {user: p}\n    slices: [{name: s0, primary: ':3306'}]\n"),
			[]string{`test.yaml:5: namespaces[0].slices[0].primary ":3306" has no host`}},
		{"node used twice", nsWith("    users: [{name: app}]\n    backend: {user: p}\n    default_slice: s0\n    slices:\n      - {name: s0, primary: 127.0.0.1:1, replicas: [127.0.0.1:2]}\n      - {name: s1, primary: 127.0.0.1:2}\n"),
			[]string{`test.yaml:8: namespaces[0].slices[1].primary "127.0.0.1:2" is already used by namespaces[0].slices[0].replicas[0]`}},
		{"replica equals primary", nsWith("    users: [{name: app}]\n    backend: {user: p}\n    slices:\n      - {name: s0, primary: DB:1, replicas: [db:01]}\n"),
			[]string{`test.yaml:6: namespaces[0].slices[0].replicas[0] "db:01" is already used by namespaces[0].slices[0].primary`}},
		{"default slice required", nsWith("    users: [{name: app}]\n    backend: {user: p}\n    slices:\n      - {name: s0, primary: 127.0.0.1:1}\n      - {name: s1, primary: 127.0.0.1:2}\n"),
			[]string{"test.yaml:2: namespaces[0].default_slice is required when a namespace has more than one slice"}},
		{"default slice unknown", nsWith("    users: [{name: app}]\n    backend: {user: p}\n    default_slice: s9\n    slices: [{name: s0, primary: 127.0.0.1:1}]\n"),
			[]string{`test.yaml:5: namespaces[0].default_slice "s9" does not name a slice of this namespace`}},
		{"pool rules", nsWith("    users: [{name: app}]\n    backend: {user: p}\n    slices: [{name: s0, primary: 127.0.0.1:1}]\n    pool:\n      max_open: 0\n      min_idle: -1\n      idle_timeout: -1s\n      max_lifetime: -2m\n      wait_timeout: 0s\n      connect_timeout: 0\n      max_prepared: 0\n"),
			[]string{
				"test.yaml:7: namespaces[0].pool.max_open must be at least 1, got 0",
				"test.yaml:8: namespaces[0].pool.min_idle must be between 0 and max_open (0), got -1",
				"test.yaml:9: namespaces[0].pool.idle_timeout must not be negative",
				"test.yaml:10: namespaces[0].pool.max_lifetime must not be negative",
				"test.yaml:11: namespaces[0].pool.wait_timeout must be greater than 0",
				"test.yaml:12: namespaces[0].pool.connect_timeout must be greater than 0",
				"test.yaml:13: namespaces[0].pool.max_prepared must be at least 1, got 0",
			}},
		{"min idle above max open", nsWith("    users: [{name: app}]\n    backend: {user: p}\n    slices: [{name: s0, primary: 127.0.0.1:1}]\n    pool: {max_open: 4, min_idle: 5}\n"),
			[]string{"test.yaml:6: namespaces[0].pool.min_idle must be between 0 and max_open (4), got 5"}},
		{"pool not a mapping", nsWith("    users: [{name: app}]\n    backend: {user: p}\n    slices: [{name: s0, primary: 127.0.0.1:1}]\n    pool: 64\n"),
			[]string{`test.yaml:6: namespaces[0].pool: expected a mapping, got "64"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.yaml), "test.yaml")
			if err == nil {
				t.Fatalf("Parse succeeded (%+v); want errors %q", c, tt.wants)
			}
			if c != nil {
				t.Errorf("Parse returned a config along with an error")
			}
			for _, w := range tt.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error:\n%v\nwant it to contain %q", err, w)
				}
			}
		})
	}
}

func TestUnknownKeys(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want string
	}{
		{"top level", "listne: 127.0.0.1:1\n", `test.yaml:1: unknown key "listne" at top level; did you mean "listen"?`},
		{"admin", "admin:\n  listen: 127.0.0.1:2\n  pass: x\n", `test.yaml:3: unknown key "pass" in admin`},
		{"log", "log: {level: info, colour: true}\n", `test.yaml:1: unknown key "colour" in log`},
		{"tls", "tls:\n  cert: a\n  key: b\n  ca: c\n", `test.yaml:4: unknown key "ca" in tls`},
		{"namespace", nsWith("    sharding: true\n"), `test.yaml:3: unknown key "sharding" in namespace (namespaces[0])`},
		{"user", nsWith("    users:\n      - name: app\n        passwrd: x\n"), `test.yaml:5: unknown key "passwrd" in user (namespaces[0].users[0]); did you mean "password"?`},
		{"backend", nsWith("    backend: {user: p, pasword: x}\n"), `test.yaml:3: unknown key "pasword" in backend (namespaces[0].backend); did you mean "password"?`},
		{"pool", nsWith("    pool:\n      max_open: 1\n      max_idle: 1\n"), `test.yaml:5: unknown key "max_idle" in pool (namespaces[0].pool); did you mean "min_idle"?`},
		{"slice", nsWith("    slices:\n      - name: s0\n      - name: s1\n        replica: [a:1]\n"), `test.yaml:6: unknown key "replica" in slice (namespaces[0].slices[1]); did you mean "replicas"?`},
		{"no suggestion for unrelated key", "zzz: 1\n", `test.yaml:1: unknown key "zzz" at top level`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml), "test.yaml")
			if err == nil {
				t.Fatal("Parse succeeded")
			}
			var lines []string
			for _, l := range strings.Split(err.Error(), "\n") {
				if strings.Contains(l, "unknown key") {
					lines = append(lines, l)
				}
			}
			if len(lines) != 1 || lines[0] != tt.want {
				t.Errorf("unknown-key errors = %q; want exactly %q\nfull error:\n%v", lines, tt.want, err)
			}
		})
	}
}

func TestAllErrorsReported(t *testing.T) {
	y := `listen: nope
log: {level: loud}
max_connections: x
namespaces:
  - name: shop
    users: [{name: app, passwrd: x}]
    backend: {}
    slices: [{name: s0, primary: 127.0.0.1}]
`
	_, err := Parse([]byte(y), "demo.yaml")
	if err == nil {
		t.Fatal("Parse succeeded")
	}
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("error %T does not unwrap to a list", err)
	}
	errs := joined.Unwrap()
	wantLines := []int{1, 2, 3, 6, 7, 8}
	if len(errs) != len(wantLines) {
		t.Fatalf("got %d errors, want %d:\n%v", len(errs), len(wantLines), err)
	}
	for i, e := range errs {
		var ce *Error
		if !errors.As(e, &ce) {
			t.Fatalf("error %d is %T, want *Error", i, e)
		}
		if ce.File != "demo.yaml" || ce.Line != wantLines[i] {
			t.Errorf("error %d at %s:%d, want demo.yaml:%d (%v)", i, ce.File, ce.Line, wantLines[i], ce)
		}
	}
	// A value that failed to decode does not also fail validation.
	if strings.Contains(err.Error(), "max_connections must be") {
		t.Errorf("spurious follow-up error:\n%v", err)
	}
}

// writeKeyPair writes a self-signed certificate and its key into dir.
func writeKeyPair(t *testing.T, dir string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "switchyard-test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, typ string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("server.pem", "CERTIFICATE", der)
	write("server-key.pem", "EC PRIVATE KEY", kder)
}

func TestTLS(t *testing.T) {
	dir := t.TempDir()
	writeKeyPair(t, dir)
	if err := os.WriteFile(filepath.Join(dir, "garbage.pem"), []byte("not pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		tls     string
		want    *TLS
		wantErr string
	}{
		{"relative to config dir", "tls: {cert: server.pem, key: server-key.pem}\n",
			&TLS{Cert: filepath.Join(dir, "server.pem"), Key: filepath.Join(dir, "server-key.pem")}, ""},
		{"absolute", "tls: {cert: " + filepath.Join(dir, "server.pem") + ", key: " + filepath.Join(dir, "server-key.pem") + "}\n",
			&TLS{Cert: filepath.Join(dir, "server.pem"), Key: filepath.Join(dir, "server-key.pem")}, ""},
		{"neither", "tls: {}\n", nil, ""},
		{"null", "tls:\n", nil, ""},
		{"missing", "tls: {cert: missing.pem, key: server-key.pem}\n", nil, "config.yaml:1: tls: cannot load certificate \"" + filepath.Join(dir, "missing.pem") + "\""},
		{"unloadable", "tls: {cert: garbage.pem, key: server-key.pem}\n", nil, "tls: cannot load certificate"},
		{"key does not match", "tls: {cert: server.pem, key: garbage.pem}\n", nil, "tls: cannot load certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "config.yaml")
			if err := os.WriteFile(path, []byte(tt.tls+minimal), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := Load(path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v; want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(c.TLS, tt.want) {
				t.Errorf("TLS = %+v, want %+v", c.TLS, tt.want)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "switchyard.yaml")
	if err := os.WriteFile(path, []byte(minimal), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		path    string
		wantErr string
	}{
		{"ok", path, ""},
		{"missing file", filepath.Join(dir, "nope.yaml"), "read config: open " + filepath.Join(dir, "nope.yaml")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(tt.path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v; want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Source != tt.path {
				t.Errorf("Source = %q, want %q", c.Source, tt.path)
			}
		})
	}
}

func TestLookups(t *testing.T) {
	parsed, err := Parse([]byte(example), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// A hand-built Config (no indexes) must answer the same way.
	handBuilt := strip(func() *Config { c, _ := Parse([]byte(example), "test.yaml"); return c }())
	for _, c := range []*Config{parsed, handBuilt} {
		tests := []struct {
			user   string
			wantNS string
			wantRW bool
			wantOK bool
		}{
			{"app", "shop", true, true},
			{"report", "shop", false, true},
			{"blogger", "blog", false, true},
			{"nobody", "", false, false},
			{"", "", false, false},
		}
		for _, tt := range tests {
			ns, u, ok := c.UserNamespace(tt.user)
			if ok != tt.wantOK {
				t.Fatalf("UserNamespace(%q) ok = %v, want %v", tt.user, ok, tt.wantOK)
			}
			if !ok {
				if ns != nil || u != nil {
					t.Errorf("UserNamespace(%q) returned non-nil values for an unknown user", tt.user)
				}
				continue
			}
			if ns.Name != tt.wantNS || u.Name != tt.user || u.RWSplit != tt.wantRW {
				t.Errorf("UserNamespace(%q) = %s/%+v", tt.user, ns.Name, u)
			}
			if ns != c.Namespaces[0] && ns != c.Namespaces[1] {
				t.Errorf("UserNamespace(%q) returned a namespace that is not part of the config", tt.user)
			}
		}
		shop := c.Namespaces[0]
		sliceTests := []struct {
			name string
			want *Slice
		}{
			{"s0", shop.Slices[0]},
			{"s1", shop.Slices[1]},
			{shop.DefaultSlice, shop.Slices[1]},
			{"s2", nil},
		}
		for _, tt := range sliceTests {
			if got := shop.Slice(tt.name); got != tt.want {
				t.Errorf("Slice(%q) = %p, want %p", tt.name, got, tt.want)
			}
		}
	}
}

func TestDemoYAML(t *testing.T) {
	path := filepath.Join("..", "..", "examples", "demo.yaml")
	if _, err := os.Stat(path); err != nil {
		t.Skipf("%s not present: %v", path, err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatalf("examples/demo.yaml does not load:\n%v", err)
	}
	if len(c.Namespaces) == 0 || len(c.Namespaces[0].Slices) == 0 {
		t.Fatalf("demo config has no namespace/slice: %+v", c)
	}
	for _, ns := range c.Namespaces {
		if ns.Slice(ns.DefaultSlice) == nil {
			t.Errorf("namespace %q: default slice %q not found", ns.Name, ns.DefaultSlice)
		}
	}
}

// TestDocsExamples keeps docs/config.md honest: its complete and minimal
// examples must load, and its "Errors you may see" output must be exactly
// what Parse reports.
func TestDocsExamples(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "docs", "config.md"))
	if err != nil {
		t.Skipf("docs/config.md not readable: %v", err)
	}
	blocks := func(lang string) []string {
		var out []string
		rest := string(data)
		for {
			_, after, ok := strings.Cut(rest, "```"+lang+"\n")
			if !ok {
				return out
			}
			block, after2, _ := strings.Cut(after, "```")
			out = append(out, block)
			rest = after2
		}
	}
	yamls, texts := blocks("yaml"), blocks("text")
	if len(yamls) != 3 || len(texts) != 1 {
		t.Fatalf("found %d yaml and %d text blocks, want 3 and 1", len(yamls), len(texts))
	}
	tests := []struct {
		name    string
		yaml    string
		wantErr string
	}{
		// The TLS files of the complete example do not exist here.
		{"complete example", withoutTLS(yamls[0]), ""},
		{"minimal example", yamls[1], ""},
		{"errors example", yamls[2], strings.TrimSpace(texts[0])},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml), "demo.yaml")
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.wantErr {
				t.Errorf("error:\n%s\nwant:\n%s", got, tt.wantErr)
			}
		})
	}
}

func withoutTLS(y string) string {
	var keep []string
	for _, l := range strings.Split(y, "\n") {
		if !strings.HasPrefix(l, "tls:") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}
