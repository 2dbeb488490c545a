// Package convert turns other proxies' configurations into Switchyard
// configuration files with the same data placement.
package convert

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/switchyard-db/switchyard/internal/config"
	"github.com/switchyard-db/switchyard/internal/shard"
)

// gaeaNamespace is Gaea's namespace model (models.Namespace) as stored in
// etcd or in file_config_path/namespace/*.json. Fields the converter does
// not use are kept as raw JSON so that a type it does not expect cannot
// fail the conversion.
type gaeaNamespace struct {
	Name                   string            `json:"name"`
	IsEncrypt              bool              `json:"is_encrypt"`
	Online                 *bool             `json:"online"`
	ReadOnly               bool              `json:"read_only"`
	AllowedDBs             map[string]bool   `json:"allowed_dbs"`
	DefaultPhyDBs          map[string]string `json:"default_phy_dbs"`
	SlowSQLTime            json.RawMessage   `json:"slow_sql_time"`
	BlackSQL               []string          `json:"black_sql"`
	AllowedIP              []string          `json:"allowed_ip"`
	Slices                 []gaeaSlice       `json:"slices"`
	ShardRules             []gaeaShard       `json:"shard_rules"`
	Users                  []gaeaUser        `json:"users"`
	DefaultSlice           string            `json:"default_slice"`
	GlobalSequences        json.RawMessage   `json:"global_sequences"`
	DefaultCharset         string            `json:"default_charset"`
	DefaultCollation       string            `json:"default_collation"`
	OpenGeneralLog         bool              `json:"open_general_log"`
	MaxSQLExecuteTime      int64             `json:"max_sql_execute_time"`
	MaxSQLResultSize       int64             `json:"max_sql_result_size"`
	MaxClientConnections   int64             `json:"max_client_connections"`
	DownAfterNoAlive       int64             `json:"down_after_no_alive"`
	SecondsBehindMaster    uint64            `json:"seconds_behind_master"`
	CheckSelectLock        *bool             `json:"check_select_lock"`
	SupportMultiQuery      bool              `json:"support_multi_query"`
	LocalSlaveReadPriority int64             `json:"local_slave_read_priority"`
	IgnoreSessionTimezone  bool              `json:"ignore_session_timezone"`
}

type gaeaSlice struct {
	Name            string   `json:"name"`
	UserName        string   `json:"user_name"`
	Password        string   `json:"password"`
	Master          string   `json:"master"`
	Slaves          []string `json:"slaves"`
	StatisticSlaves []string `json:"statistic_slaves"`
	Capacity        int      `json:"capacity"`
	MaxCapacity     int      `json:"max_capacity"`
	IdleTimeout     int      `json:"idle_timeout"`
	Capability      uint32   `json:"capability"`
	InitConnect     string   `json:"init_connect"`
}

type gaeaShard struct {
	DB            string          `json:"db"`
	Table         string          `json:"table"`
	ParentTable   string          `json:"parent_table"`
	Type          string          `json:"type"`
	Key           string          `json:"key"`
	Locations     []int           `json:"locations"`
	Slices        []string        `json:"slices"`
	DateRange     []string        `json:"date_range"`
	TableRowLimit int64           `json:"table_row_limit"`
	Databases     json.RawMessage `json:"databases"`
}

type gaeaUser struct {
	UserName         string `json:"user_name"`
	Password         string `json:"password"`
	Namespace        string `json:"namespace"`
	RWFlag           int    `json:"rw_flag"`
	RWSplit          int    `json:"rw_split"`
	OtherProperty    int    `json:"other_property"`
	OpenRateLimit    bool   `json:"open_rate_limit"`
	MaxRateLimit     int    `json:"max_rate_limit"`
	MaxTokenWaitTime int    `json:"max_token_wait_time"`
}

// knownNamespaceFields are the top-level keys of Gaea's namespace model.
var knownNamespaceFields = map[string]bool{
	"name": true, "is_encrypt": true, "online": true, "read_only": true, "allowed_dbs": true,
	"default_phy_dbs": true, "slow_sql_time": true, "black_sql": true, "allowed_ip": true,
	"slices": true, "shard_rules": true, "users": true, "default_slice": true, "global_sequences": true,
	"default_charset": true, "default_collation": true, "open_general_log": true,
	"max_sql_execute_time": true, "max_sql_result_size": true, "max_client_connections": true,
	"down_after_no_alive": true, "seconds_behind_master": true, "check_select_lock": true,
	"support_multi_query": true, "local_slave_read_priority": true, "ignore_session_timezone": true,
}

// Gaea converts a Gaea namespace JSON document into a Switchyard
// configuration file (YAML) with one namespace whose tables are placed
// exactly as Gaea places them. What Switchyard cannot express without
// changing placement (Mycat rules, physical database mappings, encrypted
// namespaces) is an error; settings it has no equivalent for are listed as
// WARNING comments at the top of the YAML. The result is validated with
// shard.ParseConfig before it is returned.
func Gaea(namespaceJSON []byte) ([]byte, error) {
	out, _, err := GaeaWithWarnings(namespaceJSON)
	return out, err
}

// GaeaWithWarnings is Gaea that also returns the warnings, for a command
// line that wants to print them.
func GaeaWithWarnings(namespaceJSON []byte) ([]byte, []string, error) {
	c := &gaeaConverter{}
	out, err := c.convert(namespaceJSON)
	if err != nil {
		return nil, c.warnings, err
	}
	return out, c.warnings, nil
}

type gaeaConverter struct {
	warnings []string
	errs     []error
}

func (c *gaeaConverter) warnf(format string, args ...any) {
	msg := strings.Join(strings.Fields(fmt.Sprintf(format, args...)), " ")
	for _, w := range c.warnings {
		if w == msg {
			return
		}
	}
	c.warnings = append(c.warnings, msg)
}

func (c *gaeaConverter) errorf(format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf("gaea: "+format, args...))
}

func (c *gaeaConverter) convert(data []byte) ([]byte, error) {
	var ns gaeaNamespace
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&ns); err != nil {
		return nil, fmt.Errorf("gaea: invalid namespace JSON: %w", err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err == nil {
		var unknown []string
		for k := range raw {
			if !knownNamespaceFields[k] {
				unknown = append(unknown, k)
			}
		}
		sort.Strings(unknown)
		for _, k := range unknown {
			c.warnf("field %q is not known to this converter and was ignored", k)
		}
	}
	if ns.IsEncrypt {
		return nil, errors.New("gaea: the namespace is encrypted (is_encrypt: true): decrypt its users and slices with Gaea's encrypt_key first")
	}
	if ns.Name == "" {
		c.errorf("the namespace has no name")
	}

	var y yamlWriter
	c.namespaceWarnings(&ns)
	backend := c.backend(ns.Slices)
	pool := c.pool(ns.Slices)
	defaultSlice := ns.DefaultSlice
	if defaultSlice == "" && len(ns.Slices) > 0 {
		defaultSlice = ns.Slices[0].Name
		if len(ns.Slices) > 1 {
			c.warnf("default_slice is empty; %q (the first slice) receives tables without a rule", defaultSlice)
		}
	}
	for db, phy := range ns.DefaultPhyDBs {
		if db != phy {
			c.errorf("default_phy_dbs maps logical database %q to physical database %q; Switchyard keeps a logical database's unsharded tables in the database of the same name", db, phy)
		}
	}
	dbs := c.rules(&ns)
	allowedDBs, allowedIPs := c.access(&ns)
	replicas := make([][]string, len(ns.Slices))
	for i, s := range ns.Slices {
		replicas[i] = c.replicas(s)
	}
	if len(c.errs) > 0 {
		return nil, errors.Join(c.errs...)
	}

	// Header and top-level settings.
	y.line(0, "# Switchyard configuration converted from the Gaea namespace %s.", strconv.Quote(ns.Name))
	y.line(0, "# Table placement is the same as in Gaea; review the warnings below.")
	if len(c.warnings) > 0 {
		y.line(0, "#")
		for _, w := range c.warnings {
			y.line(0, "# WARNING: %s", w)
		}
	}
	if ms, ok := slowSQLTime(ns.SlowSQLTime); ok {
		y.line(0, "slow_query_threshold: %dms", ms)
	}
	if ns.MaxClientConnections > 0 {
		y.line(0, "max_connections: %d", ns.MaxClientConnections)
	}
	y.line(0, "namespaces:")
	y.line(1, "- name: %s", q(ns.Name))
	y.line(2, "users:")
	for _, u := range ns.Users {
		entry := fmt.Sprintf("- {name: %s, password: %s", q(u.UserName), q(u.Password))
		if u.RWSplit == 1 {
			entry += ", rw_split: true"
		}
		if u.RWFlag == 1 || ns.ReadOnly {
			// Gaea's rw_flag 1, or a read-only namespace.
			entry += ", read_only: true"
		}
		y.line(3, "%s}", entry)
	}
	if len(allowedDBs) > 0 {
		y.line(2, "allowed_databases: [%s]", strings.Join(allowedDBs, ", "))
	}
	if len(allowedIPs) > 0 {
		y.line(2, "allowed_ips: [%s]", strings.Join(allowedIPs, ", "))
	}
	if ns.MaxSQLExecuteTime > 0 {
		// Gaea kills statements running longer (milliseconds).
		y.line(2, "max_execution_time: %dms", ns.MaxSQLExecuteTime)
	}
	if nonEmpty(ns.BlackSQL) {
		// Gaea refuses statements with the fingerprint of a black_sql entry.
		y.line(2, "sql_rules:")
		k := 0
		for _, bs := range ns.BlackSQL {
			if strings.TrimSpace(bs) == "" {
				continue
			}
			k++
			y.line(3, "- {name: %s, fingerprint: %s}", q(fmt.Sprintf("black_sql_%d", k)), q(strings.TrimSpace(bs)))
		}
	}
	y.line(2, "backend: {user: %s, password: %s}", q(backend.User), q(backend.Password))
	if defaultSlice != "" {
		y.line(2, "default_slice: %s", q(defaultSlice))
	}
	if pool != "" {
		y.line(2, "pool: {%s}", pool)
	}
	y.line(2, "slices:")
	for i, s := range ns.Slices {
		y.line(3, "- name: %s", q(s.Name))
		y.line(4, "primary: %s", q(s.Master))
		if reps := replicas[i]; len(reps) > 0 {
			y.line(4, "replicas: [%s]", strings.Join(reps, ", "))
		}
	}
	if len(dbs) > 0 {
		y.line(2, "databases:")
		for _, db := range dbs {
			y.line(3, "- name: %s", q(db.name))
			y.line(4, "tables:")
			for _, t := range db.tables {
				y.line(5, "- %s", t)
			}
		}
	}
	out := y.Bytes()
	if _, err := shard.ParseConfig(out, "converted.yaml"); err != nil {
		return nil, fmt.Errorf("gaea: the converted configuration does not validate:\n%w", err)
	}
	return out, nil
}

func (c *gaeaConverter) namespaceWarnings(ns *gaeaNamespace) {
	if ns.Online != nil && !*ns.Online {
		c.warnf("the namespace is offline in Gaea (online: false); Switchyard serves it")
	}
	if len(ns.GlobalSequences) > 0 && string(ns.GlobalSequences) != "null" && string(ns.GlobalSequences) != "[]" {
		c.warnf("global_sequences are not supported: inserts that relied on Gaea's global sequences must supply their ids")
	}
	if ns.OpenGeneralLog {
		c.warnf("open_general_log is not supported")
	}
	if ns.MaxSQLResultSize != 0 {
		c.warnf("max_sql_result_size is not supported: result sets are not limited")
	}
	if ns.DownAfterNoAlive > 0 || ns.SecondsBehindMaster > 0 {
		c.warnf("down_after_no_alive and seconds_behind_master are not supported")
	}
	if ns.SupportMultiQuery {
		c.warnf("support_multi_query has no equivalent setting")
	}
	if ns.LocalSlaveReadPriority != 0 {
		c.warnf("local_slave_read_priority is not supported: reads use every replica by weight")
	}
	if ns.IgnoreSessionTimezone {
		c.warnf("ignore_session_timezone is not supported: session time zones are kept")
	}
	if ns.DefaultCharset != "" || ns.DefaultCollation != "" {
		c.warnf("default_charset/default_collation are not converted: clients' handshake character sets apply")
	}
	for _, u := range ns.Users {
		if u.Namespace != "" && u.Namespace != ns.Name {
			c.errorf("user %q belongs to namespace %q, not %q", u.UserName, u.Namespace, ns.Name)
		}
		if u.OtherProperty == 1 {
			c.warnf("user %q is a statistics user (other_property 1); statistic_slaves are not supported, its reads go to the regular replicas", u.UserName)
		}
		if u.OpenRateLimit {
			c.warnf("user %q has a rate limit (open_rate_limit), which is not supported", u.UserName)
		}
	}
	if len(ns.Users) == 0 {
		c.errorf("the namespace has no users")
	}
}

func nonEmpty(l []string) bool { return countNonEmpty(l) > 0 }

func countNonEmpty(l []string) int {
	n := 0
	for _, s := range l {
		if strings.TrimSpace(s) != "" {
			n++
		}
	}
	return n
}

// slowSQLTime reads Gaea's slow_sql_time (milliseconds, a string or a
// number).
func slowSQLTime(raw json.RawMessage) (int64, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, false
	}
	s := strings.Trim(string(raw), `"`)
	if s == "" {
		return 0, false
	}
	ms, err := strconv.ParseInt(s, 10, 64)
	return ms, err == nil && ms >= 0
}

func (c *gaeaConverter) backend(slices []gaeaSlice) config.Credentials {
	if len(slices) == 0 {
		c.errorf("the namespace has no slices")
		return config.Credentials{}
	}
	cred := config.Credentials{User: slices[0].UserName, Password: slices[0].Password}
	for _, s := range slices[1:] {
		if s.UserName != cred.User || s.Password != cred.Password {
			c.errorf("slices %q and %q use different backend credentials; Switchyard uses one backend user per namespace", slices[0].Name, s.Name)
			break
		}
	}
	if cred.User == "" {
		c.errorf("slice %q has no user_name", slices[0].Name)
	}
	return cred
}

// pool maps Gaea's per-slice pool sizes to the namespace's pool.
func (c *gaeaConverter) pool(slices []gaeaSlice) string {
	maxOpen, idle := 0, 0
	differ := false
	for i, s := range slices {
		if i > 0 && (s.MaxCapacity != slices[0].MaxCapacity || s.IdleTimeout != slices[0].IdleTimeout) {
			differ = true
		}
		maxOpen = max(maxOpen, s.MaxCapacity)
		idle = max(idle, s.IdleTimeout)
		if s.Capability != 0 {
			c.warnf("slice %q sets capability %d, which is not supported", s.Name, s.Capability)
		}
		if s.InitConnect != "" {
			c.warnf("slice %q sets init_connect, which is not supported: set session defaults on the servers", s.Name)
		}
	}
	if differ {
		c.warnf("slices have different max_capacity/idle_timeout; the largest values apply to every node")
	}
	var parts []string
	if maxOpen > 0 {
		parts = append(parts, fmt.Sprintf("max_open: %d", maxOpen))
	}
	if idle > 0 {
		parts = append(parts, fmt.Sprintf("idle_timeout: %ds", idle))
	}
	return strings.Join(parts, ", ")
}

// replicas converts Gaea slaves ("addr", "addr@weight", "addr@weight#dc").
func (c *gaeaConverter) replicas(s gaeaSlice) []string {
	if s.Master == "" {
		c.errorf("slice %q has no master; Switchyard needs a primary", s.Name)
	}
	if nonEmpty(s.StatisticSlaves) {
		c.warnf("slice %q has statistic_slaves, which are not supported and were dropped", s.Name)
	}
	var out []string
	for _, r := range s.Slaves {
		r = strings.TrimSpace(r)
		if r == "" {
			continue
		}
		if addr, dc, found := strings.Cut(r, "#"); found {
			c.warnf("replica datacenter tags (%q in slice %q) are ignored", "#"+dc, s.Name)
			r = addr
		}
		out = append(out, q(r))
	}
	return out
}

type gaeaDB struct {
	name   string
	tables []string // one YAML flow mapping each
}

// rules converts shard_rules, grouped by database in order of appearance.
func (c *gaeaConverter) rules(ns *gaeaNamespace) []*gaeaDB {
	var dbs []*gaeaDB
	byName := make(map[string]*gaeaDB)
	hasDate := false
	for _, r := range ns.ShardRules {
		where := r.DB + "." + r.Table
		if r.DB == "" || r.Table == "" {
			c.errorf("a shard rule has no db or table: %+v", r)
			continue
		}
		var fields []string
		add := func(format string, args ...any) { fields = append(fields, fmt.Sprintf(format, args...)) }
		add("name: %s", q(r.Table))
		switch r.Type {
		case "hash", "mod", "range":
			slices, counts, ok := c.locations(where, r)
			if !ok {
				continue
			}
			add("type: sharded")
			add("key: %s", q(r.Key))
			add("algorithm: %s", r.Type)
			add("slices: [%s]", qs(slices))
			add("tables_per_slice: [%s]", ints(counts))
			if r.Type == "range" {
				if r.TableRowLimit < 1 {
					c.errorf("range rule %s has table_row_limit %d; it must be at least 1", where, r.TableRowLimit)
					continue
				}
				add("table_row_limit: %d", r.TableRowLimit)
			}
			if r.Key == "" {
				c.errorf("rule %s has no key", where)
			}
		case "date_year", "date_month", "date_day":
			if len(r.DateRange) != len(r.Slices) || len(r.Slices) == 0 {
				c.errorf("date rule %s has %d date ranges for %d slices", where, len(r.DateRange), len(r.Slices))
				continue
			}
			var ranges []string
			for _, dr := range r.DateRange {
				// Gaea accepts a range written backwards and swaps it.
				if a, b, found := strings.Cut(dr, "-"); found && b < a {
					dr = b + "-" + a
				}
				ranges = append(ranges, q(dr))
			}
			add("type: sharded")
			add("key: %s", q(r.Key))
			add("algorithm: %s", r.Type)
			add("slices: [%s]", qs(r.Slices))
			add("ranges: [%s]", strings.Join(ranges, ", "))
			hasDate = true
			if r.Key == "" {
				c.errorf("rule %s has no key", where)
			}
		case "linked":
			if r.ParentTable == "" || r.Key == "" {
				c.errorf("linked rule %s needs parent_table and key", where)
				continue
			}
			add("type: linked")
			add("parent: %s", q(r.ParentTable))
			add("key: %s", q(r.Key))
		case "global":
			if len(r.Databases) > 0 && string(r.Databases) != "null" && string(r.Databases) != "[]" {
				c.errorf("global rule %s lists databases (Mycat physical databases), which are not supported", where)
				continue
			}
			if len(r.Slices) == 0 {
				c.errorf("global rule %s has no slices", where)
				continue
			}
			add("type: global")
			add("slices: [%s]", qs(r.Slices))
		case "mycat_mod", "mycat_long", "mycat_string", "mycat_murmur", "mycat_padding_mod":
			c.errorf("rule %s: type %s is not supported (Switchyard implements Gaea's kingshard-style hash, mod, range, date, linked and global rules, not Mycat rules)", where, r.Type)
			continue
		default:
			c.errorf("rule %s: unknown type %q", where, r.Type)
			continue
		}
		db := byName[r.DB]
		if db == nil {
			db = &gaeaDB{name: r.DB}
			byName[r.DB] = db
			dbs = append(dbs, db)
		}
		db.tables = append(db.tables, "{"+strings.Join(fields, ", ")+"}")
	}
	if hasDate {
		c.warnf("date rules read integer keys as unix timestamps in the proxy host's time zone, as Gaea does; add timezone: to those tables if Switchyard runs in another zone than Gaea did")
	}
	return dbs
}

// locations returns a hash/mod/range rule's slices and table counts,
// dropping slices that hold no table (numbering is unchanged by them).
func (c *gaeaConverter) locations(where string, r gaeaShard) ([]string, []int, bool) {
	if len(r.Locations) != len(r.Slices) || len(r.Slices) == 0 {
		c.errorf("rule %s has %d locations for %d slices", where, len(r.Locations), len(r.Slices))
		return nil, nil, false
	}
	var slices []string
	var counts []int
	for i, n := range r.Locations {
		if n < 0 {
			c.errorf("rule %s has a negative location count", where)
			return nil, nil, false
		}
		if n == 0 {
			continue
		}
		slices = append(slices, r.Slices[i])
		counts = append(counts, n)
	}
	if len(slices) == 0 {
		c.errorf("rule %s places no table (all locations are 0)", where)
		return nil, nil, false
	}
	return slices, counts, true
}

// q quotes a string as a YAML double-quoted scalar.
func q(s string) string { return strconv.Quote(s) }

func qs(l []string) string {
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = q(s)
	}
	return strings.Join(out, ", ")
}

func ints(l []int) string {
	out := make([]string, len(l))
	for i, n := range l {
		out[i] = strconv.Itoa(n)
	}
	return strings.Join(out, ", ")
}

type yamlWriter struct{ bytes.Buffer }

func (w *yamlWriter) line(indent int, format string, args ...any) {
	w.WriteString(strings.Repeat("  ", indent))
	fmt.Fprintf(w, format, args...)
	w.WriteByte('\n')
}

// access maps Gaea's allowed_dbs and allowed_ip to allowed_databases and
// allowed_ips (quoted YAML scalars).
func (c *gaeaConverter) access(ns *gaeaNamespace) (dbs, ips []string) {
	var names []string
	for db, ok := range ns.AllowedDBs {
		if ok {
			names = append(names, db)
		}
	}
	sort.Strings(names)
	for _, db := range names {
		dbs = append(dbs, q(db))
	}
	for _, ip := range ns.AllowedIP {
		ip = strings.TrimSpace(ip)
		if ip == "" {
			continue
		}
		if _, err := netip.ParsePrefix(ip); err != nil {
			if _, err := netip.ParseAddr(ip); err != nil {
				c.warnf("allowed_ip entry %q is not an address or CIDR range and was dropped", ip)
				continue
			}
		}
		ips = append(ips, q(ip))
	}
	return dbs, ips
}
