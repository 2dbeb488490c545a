package convert

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/switchyard-db/switchyard/internal/config"
	"github.com/switchyard-db/switchyard/internal/shard"
	"github.com/switchyard-db/switchyard/internal/shard/inline"
)

// ShardingSphereOptions tune the conversion of a ShardingSphere rule file.
type ShardingSphereOptions struct {
	// Slices are the Switchyard slices, "name" or "name=host:port". The
	// logical data sources are spread over them round-robin in file order.
	// Empty: one slice per distinct JDBC host:port (s0, s1, ...), which
	// keeps every data source on the server it was on.
	Slices []string
	// SingleTables places ShardingSphere single tables, table -> data
	// source (a logical data source, a read/write-splitting group, or the
	// write data source of a group). ShardingSphere finds single tables by
	// looking at the databases (`!SINGLE tables: ["*.*"]`); the rule file
	// does not name them, so they must be listed to keep their placement.
	SingleTables map[string]string
	// SkipUnconvertible leaves out tables whose rules Switchyard cannot
	// express (hint/complex strategies, class-based algorithms, ...) with a
	// warning, instead of failing. They are listed in Result.Skipped.
	SkipUnconvertible bool
}

// ShardingSphereResult is a converted ShardingSphere logical database.
type ShardingSphereResult struct {
	// YAML is a complete Switchyard configuration (validated).
	YAML []byte
	// Rules is the namespace body holding the placement only
	// (default_slice, datasources, databases), indented for a namespace
	// entry (4 spaces), for embedding into another configuration whose
	// slices have the same names.
	Rules string
	// Database is the logical database name (ShardingSphere databaseName).
	Database string
	// DataSources are the converted data sources in order.
	DataSources []SSDataSource
	// ReadWriteSplitting is true when the rules had read/write-splitting
	// groups (the generated users then have rw_split: true).
	ReadWriteSplitting bool
	// Skipped lists the tables left out with SkipUnconvertible, with why.
	Skipped map[string]string
	// SkippedNodes are the data nodes ("datasource.table", expanded) of
	// the skipped tables, as ShardingSphere declares them.
	SkippedNodes map[string][]string
	// Warnings are also written as "# WARNING:" lines into YAML.
	Warnings []string
}

// SSDataSource is one logical data source after conversion.
type SSDataSource struct {
	// Name is the name data nodes use (a data source, or a read/write
	// splitting group).
	Name string
	// Slice is the Switchyard slice holding it.
	Slice string
	// Database is the physical database (from the JDBC URL of the data
	// source, or of the group's write data source).
	Database string
	// Write is the write data source of a read/write-splitting group
	// (empty for a plain data source).
	Write string
	// Addr is host:port from the JDBC URL.
	Addr string
	// Reads are the read data sources of a group, with their physical
	// databases: Switchyard reads from the slice's replicas instead.
	Reads []SSReadSource
}

// SSReadSource is a read data source of a read/write-splitting group.
type SSReadSource struct {
	Name, Database, Addr string
}

// UnconvertibleError lists the tables whose rules cannot be converted.
type UnconvertibleError struct {
	// Tables maps a table to the reason.
	Tables map[string]string
}

func (e *UnconvertibleError) Error() string {
	names := make([]string, 0, len(e.Tables))
	for n := range e.Tables {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("shardingsphere: rules Switchyard cannot express (use --skip-unconvertible to leave these tables out):")
	for _, n := range names {
		fmt.Fprintf(&b, "\n  %s: %s", n, e.Tables[n])
	}
	return b.String()
}

// E2EStandardFixture is the type of ShardingSphere's end-to-end test
// sharding algorithm (E2EStandardShardingAlgorithmFixture): an exact value
// goes to the target whose name ends with the digit value % 10.
const E2EStandardFixture = "E2E.SHARDING.STANDARD.FIXTURE"

// ShardingSphere converts a ShardingSphere(-Proxy) logical database rule
// file (config-<db>.yaml / database-<db>.yaml: databaseName, dataSources,
// rules) into a Switchyard configuration with the same placement.
func ShardingSphere(data []byte, opts ShardingSphereOptions) (*ShardingSphereResult, error) {
	c := &ssConverter{opts: opts, skipped: map[string]string{}, unconvertible: map[string]string{}}
	res, err := c.convert(data)
	if err != nil {
		return nil, err
	}
	return res, nil
}

type ssConverter struct {
	opts          ShardingSphereOptions
	warnings      []string
	errs          []error
	unconvertible map[string]string
	skipped       map[string]string
	declared      map[string]string // sharding table -> actualDataNodes
}

func (c *ssConverter) warnf(format string, args ...any) {
	msg := strings.Join(strings.Fields(fmt.Sprintf(format, args...)), " ")
	for _, w := range c.warnings {
		if w == msg {
			return
		}
	}
	c.warnings = append(c.warnings, msg)
}

func (c *ssConverter) errorf(format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf("shardingsphere: "+format, args...))
}

// cannot records a table whose rule Switchyard cannot express.
func (c *ssConverter) cannot(table, format string, args ...any) {
	if _, dup := c.unconvertible[table]; dup {
		return
	}
	c.unconvertible[table] = fmt.Sprintf(format, args...)
}

// isUnconvertible reports whether table (any case) was found unconvertible.
func (c *ssConverter) isUnconvertible(table string) bool {
	for t := range c.unconvertible {
		if strings.EqualFold(t, table) {
			return true
		}
	}
	return false
}

// ---- the YAML model ----

type kv struct {
	key string
	val *yaml.Node
}

// pairs lists a mapping's entries in file order (nil for a null node).
func pairs(n *yaml.Node) ([]kv, error) {
	n = deref(n)
	if n == nil || n.Tag == "!!null" {
		return nil, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: expected a mapping", n.Line)
	}
	var out []kv
	for i := 0; i+1 < len(n.Content); i += 2 {
		out = append(out, kv{n.Content[i].Value, n.Content[i+1]})
	}
	return out, nil
}

func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		return deref(n.Content[0])
	}
	return n
}

func get(n *yaml.Node, key string) *yaml.Node {
	ps, _ := pairs(n)
	for _, p := range ps {
		if p.key == key {
			return deref(p.val)
		}
	}
	return nil
}

func scalar(n *yaml.Node) string {
	n = deref(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return ""
	}
	return n.Value
}

func strs(n *yaml.Node) []string {
	n = deref(n)
	if n == nil {
		return nil
	}
	if n.Kind == yaml.ScalarNode {
		if n.Tag == "!!null" || n.Value == "" {
			return nil
		}
		return []string{n.Value}
	}
	var out []string
	for _, it := range n.Content {
		if s := scalar(it); s != "" {
			out = append(out, s)
		}
	}
	return out
}

type ssRawDS struct {
	name, url, user, password string
	addr, database            string
}

type ssStrategy struct {
	kind   string // standard, complex, hint, none, "" (absent)
	column string
	alg    string
}

type ssAlgorithm struct {
	typ   string
	props map[string]string
}

type ssTableRule struct {
	name    string
	nodes   string
	db, tbl ssStrategy
	keyGen  *ssKeyGen // nil: no key generation
}

// ssKeyGen is a table's key generation: ShardingSphere fills column with
// the generator's value when an INSERT omits it.
type ssKeyGen struct {
	column    string
	generator string // keyGeneratorName
	from      string // where it was declared (for messages)
}

// ---- conversion ----

func (c *ssConverter) convert(data []byte) (*ShardingSphereResult, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("shardingsphere: invalid YAML: %w", err)
	}
	root := deref(&doc)
	top, err := pairs(root)
	if err != nil || root == nil {
		return nil, errors.New("shardingsphere: expected a mapping with databaseName, dataSources and rules")
	}
	res := &ShardingSphereResult{Skipped: c.skipped, SkippedNodes: map[string][]string{}}
	c.declared = map[string]string{}
	var rawDSs []ssRawDS
	var rules *yaml.Node
	for _, p := range top {
		switch p.key {
		case "databaseName", "schemaName":
			res.Database = scalar(p.val)
		case "dataSources":
			rawDSs = c.dataSources(p.val)
		case "rules":
			rules = deref(p.val)
		case "mode", "props", "authority":
			c.warnf("top-level %q is ShardingSphere server configuration and was ignored", p.key)
		default:
			c.warnf("top-level key %q is not known to this converter and was ignored", p.key)
		}
	}
	if res.Database == "" {
		c.errorf("databaseName is missing")
	}
	if len(rawDSs) == 0 {
		c.errorf("dataSources is empty")
	}

	// Rules by type.
	var sharding, broadcast, single, rw *yaml.Node
	if rules != nil {
		for _, r := range rules.Content {
			r = deref(r)
			switch r.Tag {
			case "!SHARDING":
				sharding = r
			case "!BROADCAST":
				broadcast = r
			case "!SINGLE":
				single = r
			case "!READWRITE_SPLITTING":
				rw = r
			case "!SQL_PARSER", "!SQL_FEDERATION", "!SQL_TRANSLATOR", "!TRAFFIC", "!LOGGING", "!TRANSACTION", "!AUTHORITY", "!GLOBAL_CLOCK":
				c.warnf("rule %s is ShardingSphere server behaviour and was ignored", r.Tag)
			default:
				c.errorf("rule %s (line %d) is not supported: Switchyard converts !SHARDING, !BROADCAST, !SINGLE and !READWRITE_SPLITTING", r.Tag, r.Line)
			}
		}
	}

	// Logical data sources: read/write-splitting groups replace their
	// members.
	logical := c.logicalDataSources(rawDSs, rw)
	res.ReadWriteSplitting = rw != nil
	slices := c.assignSlices(logical)
	res.DataSources = logical
	byName := map[string]*SSDataSource{}
	for i := range logical {
		byName[logical[i].Name] = &logical[i]
	}
	alias := map[string]string{} // member data source -> logical name
	for _, l := range logical {
		alias[l.Name] = l.Name
		if l.Write != "" {
			alias[l.Write] = l.Name
		}
		for _, r := range l.Reads {
			alias[r.Name] = l.Name
		}
	}
	for _, d := range rawDSs {
		if _, ok := alias[d.name]; !ok {
			alias[d.name] = d.name
		}
	}
	if rw != nil {
		for _, l := range logical {
			for _, rd := range l.Reads {
				if rd.Database != l.Database {
					c.warnf("read data source %s (database %s) of %s is not converted: Switchyard reads from the replicas of slice %s, which must replicate database %s of the write data source", rd.Name, rd.Database, l.Name, l.Slice, l.Database)
				}
			}
		}
	}

	// Tables.
	var tables []string // YAML items
	names := map[string]bool{}
	tables = append(tables, c.shardingTables(sharding, logical, byName, names)...)
	tables = append(tables, c.broadcastTables(sharding, broadcast, logical, names)...)
	tables = append(tables, c.singleTables(single, byName, alias, names)...)

	if len(c.unconvertible) > 0 {
		if !c.opts.SkipUnconvertible {
			c.errs = append(c.errs, &UnconvertibleError{Tables: c.unconvertible})
		} else {
			var ns []string
			for n := range c.unconvertible {
				ns = append(ns, n)
			}
			sort.Strings(ns)
			for _, n := range ns {
				c.skipped[n] = c.unconvertible[n]
				if nodes, err := inline.ExpandList(c.declared[n]); err == nil && c.declared[n] != "" {
					res.SkippedNodes[n] = nodes
				}
				c.warnf("table %s was left out: %s; Switchyard serves it as an unlisted table of the default slice", n, c.unconvertible[n])
			}
		}
	}
	backend := c.backend(rawDSs)
	if len(c.errs) > 0 {
		return nil, errors.Join(c.errs...)
	}

	defaultSlice := ""
	if len(logical) > 0 {
		defaultSlice = logical[0].Slice
	}
	if d := scalar(get(single, "defaultDataSource")); d != "" {
		if l, ok := byName[alias[d]]; ok {
			defaultSlice = l.Slice
		}
	}
	c.warnf("tables without a rule are served from database %s on slice %s (the default slice), not from a data source's database", res.Database, defaultSlice)
	c.warnf("client users and their privileges are in ShardingSphere's global configuration (authority), not in this file; the backend user was added as the client user: change it")

	// The namespace body with the placement.
	var r yamlWriter
	r.line(2, "default_slice: %s", q(defaultSlice))
	r.line(2, "datasources:")
	for _, l := range logical {
		r.line(3, "%s: {slice: %s, database: %s}", q(l.Name), q(l.Slice), q(l.Database))
	}
	r.line(2, "databases:")
	r.line(3, "- name: %s", q(res.Database))
	if len(tables) == 0 {
		r.line(4, "tables: []")
	} else {
		r.line(4, "tables:")
		for _, t := range tables {
			r.WriteString(t)
		}
	}
	res.Rules = r.String()

	var y yamlWriter
	y.line(0, "# Switchyard configuration converted from the ShardingSphere logical database %s.", q(res.Database))
	y.line(0, "# Table placement is the same as in ShardingSphere; review the warnings below.")
	res.Warnings = c.warnings
	if len(c.warnings) > 0 {
		y.line(0, "#")
		for _, w := range c.warnings {
			y.line(0, "# WARNING: %s", w)
		}
	}
	y.line(0, "namespaces:")
	y.line(1, "- name: %s", q(res.Database))
	y.line(2, "users:")
	entry := fmt.Sprintf("- {name: %s, password: %s", q(backend.User), q(backend.Password))
	if res.ReadWriteSplitting {
		entry += ", rw_split: true"
	}
	y.line(3, "%s}", entry)
	y.line(2, "backend: {user: %s, password: %s}", q(backend.User), q(backend.Password))
	y.line(2, "slices:")
	for _, s := range slices {
		if len(s.replicas) > 0 {
			y.line(3, "- {name: %s, primary: %s, replicas: [%s]}", q(s.name), q(s.primary), qs(s.replicas))
		} else {
			y.line(3, "- {name: %s, primary: %s}", q(s.name), q(s.primary))
		}
	}
	y.WriteString(res.Rules)
	res.YAML = y.Bytes()
	if _, err := shard.ParseConfig(res.YAML, "converted.yaml"); err != nil {
		return nil, fmt.Errorf("shardingsphere: the converted configuration does not validate:\n%w", err)
	}
	return res, nil
}

func (c *ssConverter) dataSources(n *yaml.Node) []ssRawDS {
	ps, err := pairs(n)
	if err != nil {
		c.errorf("dataSources: %v", err)
		return nil
	}
	var out []ssRawDS
	for _, p := range ps {
		d := ssRawDS{name: p.key}
		d.url = scalar(get(p.val, "url"))
		if d.url == "" {
			d.url = scalar(get(p.val, "jdbcUrl"))
		}
		d.user = scalar(get(p.val, "username"))
		d.password = scalar(get(p.val, "password"))
		addr, db, err := parseJDBCURL(d.url)
		if err != nil {
			c.errorf("data source %s: %v", d.name, err)
		}
		d.addr, d.database = addr, db
		out = append(out, d)
	}
	return out
}

// parseJDBCURL returns host:port and the database of a MySQL/MariaDB JDBC
// URL (jdbc:mysql://host:3306/db?params).
func parseJDBCURL(s string) (addr, db string, err error) {
	if s == "" {
		return "", "", errors.New("no url/jdbcUrl")
	}
	rest, ok := strings.CutPrefix(s, "jdbc:")
	if !ok {
		return "", "", fmt.Errorf("url %q is not a JDBC URL", s)
	}
	scheme, _, _ := strings.Cut(rest, "://")
	switch scheme {
	case "mysql", "mariadb":
	default:
		return "", "", fmt.Errorf("url %q: only single-host jdbc:mysql:// and jdbc:mariadb:// URLs are supported", s)
	}
	u, perr := url.Parse(rest)
	if perr != nil {
		return "", "", fmt.Errorf("url %q: %v", s, perr)
	}
	if strings.Contains(u.Host, ",") {
		return "", "", fmt.Errorf("url %q: several hosts are not supported (one slice primary per data source)", s)
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "3306"
	}
	db = strings.TrimPrefix(u.Path, "/")
	if db == "" || strings.Contains(db, "/") {
		return "", "", fmt.Errorf("url %q names no database", s)
	}
	return net.JoinHostPort(host, port), db, nil
}

// logicalDataSources lists the data sources data nodes can name: the
// read/write-splitting groups, in the position of their write data source,
// and every data source not in a group, in file order.
func (c *ssConverter) logicalDataSources(raw []ssRawDS, rw *yaml.Node) []SSDataSource {
	byName := map[string]ssRawDS{}
	for _, d := range raw {
		byName[d.name] = d
	}
	type group struct {
		name  string
		write string
		reads []string
	}
	groupOfWrite := map[string]*group{}
	member := map[string]bool{}
	if rw != nil {
		gs, err := pairs(get(rw, "dataSourceGroups"))
		if err != nil {
			c.errorf("READWRITE_SPLITTING dataSourceGroups: %v", err)
		}
		if len(gs) == 0 {
			gs, _ = pairs(get(rw, "dataSources")) // older name
		}
		for _, g := range gs {
			gr := &group{name: g.key, write: scalar(get(g.val, "writeDataSourceName")), reads: strs(get(g.val, "readDataSourceNames"))}
			if gr.write == "" {
				c.errorf("read/write-splitting group %s has no writeDataSourceName", g.key)
				continue
			}
			if _, ok := byName[gr.write]; !ok {
				c.errorf("read/write-splitting group %s: write data source %s is not defined", g.key, gr.write)
				continue
			}
			if _, dup := groupOfWrite[gr.write]; dup {
				c.errorf("data source %s is the write data source of two groups", gr.write)
				continue
			}
			groupOfWrite[gr.write] = gr
			member[gr.write] = true
			for _, r := range gr.reads {
				if _, ok := byName[r]; !ok {
					c.errorf("read/write-splitting group %s: read data source %s is not defined", g.key, r)
				}
				member[r] = true
			}
			if s := scalar(get(g.val, "transactionalReadQueryStrategy")); s != "" && s != "PRIMARY" {
				c.warnf("group %s: transactionalReadQueryStrategy %s is not supported: reads in a transaction go to the primary", g.key, s)
			}
		}
		if lbs, _ := pairs(get(rw, "loadBalancers")); len(lbs) > 0 {
			for _, lb := range lbs {
				if t := strings.ToUpper(scalar(get(lb.val, "type"))); t != "ROUND_ROBIN" && t != "RANDOM" {
					c.warnf("load balancer %s (%s) is not supported: Switchyard balances reads over replicas by weight", lb.key, t)
				}
			}
		}
	}
	var out []SSDataSource
	for _, d := range raw {
		if g := groupOfWrite[d.name]; g != nil {
			l := SSDataSource{Name: g.name, Database: d.database, Addr: d.addr, Write: d.name}
			for _, r := range g.reads {
				rd := byName[r]
				l.Reads = append(l.Reads, SSReadSource{Name: r, Database: rd.database, Addr: rd.addr})
			}
			out = append(out, l)
			continue
		}
		if member[d.name] {
			continue
		}
		out = append(out, SSDataSource{Name: d.name, Database: d.database, Addr: d.addr})
	}
	return out
}

type ssSlice struct {
	name, primary string
	replicas      []string
}

var sliceName = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

// assignSlices places the logical data sources on slices.
func (c *ssConverter) assignSlices(logical []SSDataSource) []ssSlice {
	var slices []ssSlice
	if len(c.opts.Slices) == 0 {
		// One slice per distinct server.
		idx := map[string]int{}
		for i := range logical {
			l := &logical[i]
			k, ok := idx[strings.ToLower(l.Addr)]
			if !ok {
				k = len(slices)
				idx[strings.ToLower(l.Addr)] = k
				slices = append(slices, ssSlice{name: "s" + strconv.Itoa(k), primary: l.Addr})
			}
			l.Slice = slices[k].name
		}
	} else {
		seen := map[string]bool{}
		for _, spec := range c.opts.Slices {
			name, addr, _ := strings.Cut(strings.TrimSpace(spec), "=")
			if !sliceName.MatchString(name) {
				c.errorf("--slices: %q is not a slice name", spec)
				continue
			}
			if seen[name] {
				c.errorf("--slices: slice %s is listed twice", name)
				continue
			}
			seen[name] = true
			if addr != "" {
				if _, _, err := net.SplitHostPort(addr); err != nil {
					c.errorf("--slices: %s: %q is not host:port", name, addr)
				}
			}
			slices = append(slices, ssSlice{name: name, primary: addr})
		}
		if len(slices) == 0 {
			return nil
		}
		for i := range logical {
			logical[i].Slice = slices[i%len(slices)].name
		}
	}
	// Replicas: read data sources on other servers than the primary.
	used := map[string]string{}
	for i := range slices {
		s := &slices[i]
		if s.primary != "" {
			used[strings.ToLower(s.primary)] = s.name
		}
	}
	for i := range slices {
		s := &slices[i]
		if s.primary != "" {
			continue
		}
		// Derive from the data sources' JDBC address when they agree and no
		// other slice uses it.
		addr := ""
		agree := true
		for _, l := range logical {
			if l.Slice != s.name {
				continue
			}
			if addr == "" {
				addr = l.Addr
			} else if !strings.EqualFold(addr, l.Addr) {
				agree = false
			}
		}
		if other, taken := used[strings.ToLower(addr)]; addr != "" && agree && !taken {
			s.primary = addr
			used[strings.ToLower(addr)] = s.name
			continue
		} else if taken {
			c.warnf("slice %s: its data sources are on %s, which slice %s already uses; give its primary as --slices %s=HOST:PORT (a placeholder was written)", s.name, addr, other, s.name)
		} else {
			c.warnf("slice %s: its data sources are on different servers or on none; give its primary as --slices %s=HOST:PORT (a placeholder was written)", s.name, s.name)
		}
		for port := 3306 + 10*i; ; port++ {
			p := "127.0.0.1:" + strconv.Itoa(port)
			if _, taken := used[p]; !taken {
				s.primary = p
				used[p] = s.name
				break
			}
		}
	}
	for i := range slices {
		s := &slices[i]
		for _, l := range logical {
			if l.Slice != s.name {
				continue
			}
			if len(l.Reads) > 0 && !strings.EqualFold(l.Addr, s.primary) {
				c.warnf("slice %s: its replicas are not known (the primary was given, not taken from the JDBC URLs): add them to its replicas list", s.name)
				continue
			}
			for _, r := range l.Reads {
				a := strings.ToLower(r.Addr)
				if a == "" || strings.EqualFold(r.Addr, s.primary) {
					continue
				}
				if owner, ok := used[a]; ok {
					if owner != s.name+"/replica" {
						c.warnf("read data source %s is on %s, which is already a node of slice %s; it is not added as a replica of %s", r.Name, r.Addr, strings.TrimSuffix(owner, "/replica"), s.name)
					}
					continue
				}
				used[a] = s.name + "/replica"
				s.replicas = append(s.replicas, r.Addr)
			}
		}
	}
	return slices
}

func (c *ssConverter) backend(raw []ssRawDS) config.Credentials {
	if len(raw) == 0 {
		return config.Credentials{}
	}
	cred := config.Credentials{User: raw[0].user, Password: raw[0].password}
	for _, d := range raw[1:] {
		if d.user != cred.User || d.password != cred.Password {
			c.errorf("data sources %s and %s use different credentials; Switchyard uses one backend user per namespace", raw[0].name, d.name)
			break
		}
	}
	if cred.User == "" {
		c.errorf("data source %s has no username", raw[0].name)
	}
	return cred
}

func parseStrategy(n *yaml.Node) (ssStrategy, error) {
	n = deref(n)
	if n == nil {
		return ssStrategy{}, nil
	}
	ps, err := pairs(n)
	if err != nil {
		return ssStrategy{}, err
	}
	if len(ps) != 1 {
		return ssStrategy{}, fmt.Errorf("line %d: expected one of standard, complex, hint or none", n.Line)
	}
	s := ssStrategy{kind: ps[0].key}
	body := ps[0].val
	s.alg = scalar(get(body, "shardingAlgorithmName"))
	switch s.kind {
	case "standard":
		s.column = scalar(get(body, "shardingColumn"))
	case "complex":
		s.column = scalar(get(body, "shardingColumns"))
	case "hint", "none":
	default:
		return ssStrategy{}, fmt.Errorf("line %d: unknown strategy %q", n.Line, s.kind)
	}
	return s, nil
}

// shardingTables converts the !SHARDING tables and binding groups.
func (c *ssConverter) shardingTables(rule *yaml.Node, logical []SSDataSource, byName map[string]*SSDataSource, names map[string]bool) []string {
	if rule == nil {
		return nil
	}
	algs := map[string]ssAlgorithm{}
	if ps, err := pairs(get(rule, "shardingAlgorithms")); err != nil {
		c.errorf("shardingAlgorithms: %v", err)
	} else {
		for _, p := range ps {
			a := ssAlgorithm{typ: scalar(get(p.val, "type")), props: map[string]string{}}
			pp, _ := pairs(get(p.val, "props"))
			for _, x := range pp {
				a.props[x.key] = scalar(x.val)
			}
			algs[p.key] = a
		}
	}
	keyGens := map[string]ssAlgorithm{}
	if ps, _ := pairs(get(rule, "keyGenerators")); ps != nil {
		for _, p := range ps {
			a := ssAlgorithm{typ: scalar(get(p.val, "type")), props: map[string]string{}}
			pp, _ := pairs(get(p.val, "props"))
			for _, x := range pp {
				a.props[x.key] = scalar(x.val)
			}
			keyGens[p.key] = a
		}
	}
	defDB, err := parseStrategy(get(rule, "defaultDatabaseStrategy"))
	if err != nil {
		c.errorf("defaultDatabaseStrategy: %v", err)
	}
	defTbl, err := parseStrategy(get(rule, "defaultTableStrategy"))
	if err != nil {
		c.errorf("defaultTableStrategy: %v", err)
	}
	defCol := scalar(get(rule, "defaultShardingColumn"))
	if get(rule, "autoTables") != nil {
		aps, _ := pairs(get(rule, "autoTables"))
		for _, p := range aps {
			c.cannot(p.key, "autoTables (sharding algorithms that choose the data nodes) are not supported")
		}
	}
	if n := get(rule, "defaultAuditStrategy"); n != nil {
		c.warnf("defaultAuditStrategy is ignored: Switchyard has no SQL auditors")
	}
	// Key generation: the default strategy, per-table strategies and the
	// newer keyGenerateStrategies (by logic table).
	var defKG *ssKeyGen
	if n := get(rule, "defaultKeyGenerateStrategy"); n != nil {
		defKG = &ssKeyGen{column: scalar(get(n, "column")), generator: scalar(get(n, "keyGeneratorName")), from: "defaultKeyGenerateStrategy"}
	}
	byLogic := map[string]*ssKeyGen{}
	if ps, _ := pairs(get(rule, "keyGenerateStrategies")); ps != nil {
		for _, p := range ps {
			tbl := scalar(get(p.val, "logicTable"))
			kg := &ssKeyGen{column: scalar(get(p.val, "keyGenerateColumn")), generator: scalar(get(p.val, "keyGeneratorName")), from: "keyGenerateStrategies." + p.key}
			if typ := scalar(get(p.val, "keyGenerateType")); typ != "" && !strings.EqualFold(typ, "column") {
				c.cannot(tbl, "%s has keyGenerateType %s (a database sequence); Switchyard generates keys itself (sequence types table and snowflake)", kg.from, typ)
				continue
			}
			if tbl == "" {
				c.errorf("%s has no logicTable", kg.from)
				continue
			}
			if prev, dup := byLogic[strings.ToLower(tbl)]; dup {
				c.errorf("%s and %s both generate keys of table %s", prev.from, kg.from, tbl)
				continue
			}
			byLogic[strings.ToLower(tbl)] = kg
		}
	}

	tps, err := pairs(get(rule, "tables"))
	if err != nil {
		c.errorf("tables: %v", err)
		return nil
	}
	rules := map[string]*ssTableRule{}
	var order []string
	for _, p := range tps {
		t := &ssTableRule{name: p.key, nodes: scalar(get(p.val, "actualDataNodes"))}
		order = append(order, t.name)
		rules[strings.ToLower(t.name)] = t
		c.declared[t.name] = t.nodes
		if t.nodes == "" {
			// ShardingSphere spreads it over every data source.
			var ns []string
			for _, l := range logical {
				ns = append(ns, l.Name+"."+t.name)
			}
			t.nodes = strings.Join(ns, ",")
		}
		var e1, e2 error
		t.db, e1 = parseStrategy(get(p.val, "databaseStrategy"))
		t.tbl, e2 = parseStrategy(get(p.val, "tableStrategy"))
		if e1 != nil || e2 != nil {
			c.errorf("table %s: %v", t.name, errors.Join(e1, e2))
			continue
		}
		if t.db.kind == "" {
			t.db = defDB
		}
		if t.tbl.kind == "" {
			t.tbl = defTbl
		}
		for _, s := range []*ssStrategy{&t.db, &t.tbl} {
			if s.kind == "standard" && s.column == "" {
				s.column = defCol
			}
		}
		if kg := get(p.val, "keyGenerateStrategy"); kg != nil {
			t.keyGen = &ssKeyGen{column: scalar(get(kg, "column")), generator: scalar(get(kg, "keyGeneratorName")), from: "the keyGenerateStrategy of " + t.name}
			if other := byLogic[strings.ToLower(t.name)]; other != nil {
				c.errorf("table %s: both its keyGenerateStrategy and %s generate its keys", t.name, other.from)
			}
		} else if kg := byLogic[strings.ToLower(t.name)]; kg != nil {
			t.keyGen = kg
		} else if defKG != nil {
			t.keyGen = &ssKeyGen{column: defKG.column, generator: defKG.generator, from: defKG.from}
		}
		if t.keyGen != nil && defKG != nil {
			// Missing parts fall back to the default strategy's.
			if t.keyGen.column == "" {
				t.keyGen.column = defKG.column
			}
			if t.keyGen.generator == "" {
				t.keyGen.generator = defKG.generator
			}
		}
		if get(p.val, "auditStrategy") != nil {
			c.warnf("the audit strategy of %s is ignored: Switchyard has no SQL auditors", t.name)
		}
	}

	var logicTables []string
	for lt := range byLogic {
		logicTables = append(logicTables, lt)
	}
	sort.Strings(logicTables)
	for _, lt := range logicTables {
		if rules[lt] != nil || c.isUnconvertible(lt) {
			continue
		}
		c.errorf("%s: table %s has no sharding rule (keys are generated for sharded tables only)", byLogic[lt].from, lt)
	}

	// Binding groups: the first sharded table of a group is the parent.
	parentOf := map[string]string{}
	for _, g := range strs(get(rule, "bindingTables")) {
		if _, list, found := strings.Cut(g, ":"); found {
			g = list
		}
		var members []string
		for _, m := range strings.Split(g, ",") {
			if m = strings.TrimSpace(m); m != "" {
				members = append(members, m)
			}
		}
		var parent string
		for _, m := range members {
			if rules[strings.ToLower(m)] == nil {
				c.errorf("binding table %s has no sharding rule", m)
				continue
			}
			if parent == "" {
				parent = m
				continue
			}
			if prev, dup := parentOf[strings.ToLower(m)]; dup && !strings.EqualFold(prev, parent) {
				c.errorf("table %s is in two binding groups", m)
				continue
			}
			parentOf[strings.ToLower(m)] = parent
		}
	}
	var out []string
	converted := map[string]*ssConverted{}
	for _, name := range order {
		t := rules[strings.ToLower(name)]
		if c.isUnconvertible(name) {
			continue
		}
		cv, ok := c.tableRule(t, algs, byName)
		if !ok {
			continue
		}
		if cv.seq, ok = c.sequence(t, keyGens); !ok {
			continue
		}
		converted[strings.ToLower(name)] = cv
	}
	for _, name := range order {
		lname := strings.ToLower(name)
		cv := converted[lname]
		if cv == nil {
			continue
		}
		if names[lname] {
			c.errorf("table %s has two rules", name)
			continue
		}
		names[lname] = true
		if parent, linked := parentOf[lname]; linked && converted[strings.ToLower(parent)] != nil {
			item, err := linkedItem(name, cv, parent, converted[strings.ToLower(parent)])
			if err != nil {
				c.errorf("%v", err)
				continue
			}
			out = append(out, item)
			continue
		} else if linked {
			c.cannot(name, "its binding parent %s cannot be converted", parent)
			delete(names, lname)
			continue
		}
		out = append(out, cv.item(name))
	}
	return out
}

// ssConverted is an inline table rule.
type ssConverted struct {
	seq        string // flow mapping of the sequence ("" for none)
	nodes      string
	dbCol      string
	dbExpr     string
	tblCol     string
	tblExpr    string
	nodeTables []string // expanded physical tables in order
}

func (cv *ssConverted) item(name string) string {
	var w yamlWriter
	w.line(5, "- name: %s", q(name))
	w.line(6, "type: sharded")
	w.line(6, "algorithm: inline")
	if cv.dbExpr != "" {
		w.line(6, "database_strategy: {column: %s, expression: %s}", q(cv.dbCol), q(cv.dbExpr))
	}
	if cv.tblExpr != "" {
		w.line(6, "table_strategy: {column: %s, expression: %s}", q(cv.tblCol), q(cv.tblExpr))
	}
	w.line(6, "data_nodes: %s", q(cv.nodes))
	if cv.seq != "" {
		w.line(6, "sequence: %s", cv.seq)
	}
	return w.String()
}

// linkedItem writes a binding table as a linked table of parent.
func linkedItem(name string, cv *ssConverted, parent string, pv *ssConverted) (string, error) {
	if len(cv.nodeTables) != len(pv.nodeTables) {
		return "", fmt.Errorf("shardingsphere: binding tables %s and %s have different numbers of data nodes (%d and %d)", parent, name, len(pv.nodeTables), len(cv.nodeTables))
	}
	// The strategies must be the same but for the column names.
	same := func(a, b, acol, bcol string) bool {
		return a == b || (acol != "" && strings.ReplaceAll(a, acol, bcol) == b)
	}
	dbSame := same(cv.dbExpr, pv.dbExpr, cv.dbCol, pv.dbCol)
	tblSame := same(strings.ReplaceAll(cv.tblExpr, name, parent), pv.tblExpr, cv.tblCol, pv.tblCol)
	if !dbSame || !tblSame {
		return "", fmt.Errorf("shardingsphere: binding tables %s and %s are sharded differently", parent, name)
	}
	var w yamlWriter
	w.line(5, "- name: %s", q(name))
	w.line(6, "type: linked")
	w.line(6, "parent: %s", q(parent))
	two := pv.dbExpr != "" && pv.tblExpr != "" && !strings.EqualFold(pv.dbCol, pv.tblCol)
	if two {
		if !strings.EqualFold(cv.dbCol, pv.dbCol) || !strings.EqualFold(cv.tblCol, pv.tblCol) {
			return "", fmt.Errorf("shardingsphere: binding table %s is sharded by %s and %s, its parent %s by %s and %s; Switchyard needs the same column names", name, cv.dbCol, cv.tblCol, parent, pv.dbCol, pv.tblCol)
		}
	} else {
		key := cv.dbCol
		if key == "" {
			key = cv.tblCol
		}
		w.line(6, "key: %s", q(key))
	}
	// Physical names: the parent's with the name replaced, or listed.
	implied := true
	for i, pt := range pv.nodeTables {
		if cv.nodeTables[i] != replaceTableName(pt, parent, name) {
			implied = false
			break
		}
	}
	if !implied {
		w.line(6, "data_nodes: %s", q(cv.nodes))
	}
	if cv.seq != "" {
		w.line(6, "sequence: %s", cv.seq)
	}
	return w.String(), nil
}

// replaceTableName turns "ds_0.t_order_1" of parent t_order into
// "ds_0.t_order_item_1" for child t_order_item.
func replaceTableName(node, parent, child string) string {
	ds, tbl, _ := strings.Cut(node, ".")
	if strings.HasPrefix(strings.ToLower(tbl), strings.ToLower(parent)) {
		tbl = child + tbl[len(parent):]
	}
	return ds + "." + tbl
}

// tableRule converts one sharded table's strategies.
func (c *ssConverter) tableRule(t *ssTableRule, algs map[string]ssAlgorithm, byName map[string]*SSDataSource) (*ssConverted, bool) {
	cv := &ssConverted{nodes: t.nodes}
	nodes, err := inline.ExpandList(t.nodes)
	if err != nil {
		c.errorf("table %s: actualDataNodes %q: %v", t.name, t.nodes, err)
		return nil, false
	}
	var dsTargets, tblTargets []string
	seenDS, seenTbl := map[string]bool{}, map[string]bool{}
	for _, n := range nodes {
		ds, tbl, ok := strings.Cut(n, ".")
		if !ok {
			c.errorf("table %s: data node %q is not datasource.table", t.name, n)
			return nil, false
		}
		if _, ok := byName[ds]; !ok {
			c.errorf("table %s: data node %q names data source %s, which is not a logical data source (a data source or a read/write-splitting group)", t.name, n, ds)
			return nil, false
		}
		cv.nodeTables = append(cv.nodeTables, n)
		if !seenDS[ds] {
			seenDS[ds] = true
			dsTargets = append(dsTargets, ds)
		}
		if !seenTbl[tbl] {
			seenTbl[tbl] = true
			tblTargets = append(tblTargets, tbl)
		}
	}
	ok := true
	conv := func(s ssStrategy, what string, targets []string) (col, expr string) {
		switch s.kind {
		case "", "none":
			return "", ""
		case "complex":
			c.cannot(t.name, "the %s strategy is complex (several columns through one algorithm)", what)
			ok = false
			return "", ""
		case "hint":
			a := algs[s.alg]
			c.cannot(t.name, "the %s strategy is a hint strategy (%s %s): the target comes from a SQL hint, not from a column", what, s.alg, a.typ)
			ok = false
			return "", ""
		}
		if s.column == "" {
			c.errorf("table %s: the %s strategy has no shardingColumn", t.name, what)
			ok = false
			return "", ""
		}
		a, found := algs[s.alg]
		if !found {
			c.errorf("table %s: sharding algorithm %q is not defined", t.name, s.alg)
			ok = false
			return "", ""
		}
		switch strings.ToUpper(a.typ) {
		case "INLINE":
			e := a.props["algorithm-expression"]
			if e == "" {
				c.errorf("table %s: INLINE algorithm %s has no algorithm-expression", t.name, s.alg)
				ok = false
				return "", ""
			}
			if strings.EqualFold(a.props["allow-range-query-with-inline-sharding"], "true") {
				c.warnf("algorithm %s allows range queries; Switchyard sends range conditions on inline tables to every table", s.alg)
			}
			if strings.Contains(e, "/") {
				c.warnf("algorithm %s (%s) divides: Switchyard's / is integer division, Groovy's is not (see docs/sharding.md)", s.alg, e)
			}
			return s.column, e
		case E2EStandardFixture:
			e, err := fixtureExpression(s.column, targets)
			if err != nil {
				c.cannot(t.name, "the %s strategy uses %s, which %v", what, a.typ, err)
				ok = false
				return "", ""
			}
			return s.column, e
		default:
			c.cannot(t.name, "the %s strategy uses algorithm %s of type %s; Switchyard supports INLINE expressions only", what, s.alg, a.typ)
			ok = false
			return "", ""
		}
	}
	cv.dbCol, cv.dbExpr = conv(t.db, "database", dsTargets)
	cv.tblCol, cv.tblExpr = conv(t.tbl, "table", tblTargets)
	if !ok {
		return nil, false
	}
	if cv.dbExpr == "" && cv.tblExpr == "" {
		if len(nodes) == 1 {
			c.cannot(t.name, "it has no sharding strategy (one data node: list it with the single tables instead)")
		} else {
			c.cannot(t.name, "it has no sharding strategy, so ShardingSphere sends every statement to all %d data nodes", len(nodes))
		}
		return nil, false
	}
	return cv, true
}

// E2EAutoIncrementFixture is the type of ShardingSphere's end-to-end test
// key generator (E2EAutoIncrementKeyGenerateAlgorithmFixture): it counts
// from 1 for every statement.
const E2EAutoIncrementFixture = "E2E.AUTO_INCREMENT.FIXTURE"

// sequence converts a table's key generation into a Switchyard sequence
// (a YAML flow mapping; "" when the table has none). ok is false when the
// table cannot be converted because of it.
func (c *ssConverter) sequence(t *ssTableRule, keyGens map[string]ssAlgorithm) (seq string, ok bool) {
	kg := t.keyGen
	if kg == nil {
		return "", true
	}
	if kg.column == "" {
		c.errorf("table %s: %s names no column", t.name, kg.from)
		return "", false
	}
	if kg.generator == "" {
		c.errorf("table %s: %s names no keyGeneratorName", t.name, kg.from)
		return "", false
	}
	a, found := keyGens[kg.generator]
	if !found {
		c.errorf("table %s: key generator %q is not defined in keyGenerators", t.name, kg.generator)
		return "", false
	}
	col := t.name + "." + kg.column
	typ := strings.ToUpper(a.typ)
	switch {
	case typ == "SNOWFLAKE" || typ == "COSID_SNOWFLAKE":
		c.warnf("%s is generated by ShardingSphere's %s (%s): converted to a Switchyard snowflake sequence, which has the same 41/10/12-bit layout but counts from 2020-01-01 (ShardingSphere from 2016-11-01): new IDs are smaller than the ones ShardingSphere generated lately and can equal those it generated about 3.2 years earlier; if the table holds ShardingSphere-generated IDs, use type: table with start above its largest ID instead. Give every proxy its own worker_id", col, kg.generator, a.typ)
		if len(a.props) > 0 {
			c.warnf("the props of key generator %s (%s) are ignored: Switchyard's snowflake takes the namespace's worker_id", kg.generator, strings.Join(sortedKeys(a.props), ", "))
		}
		return fmt.Sprintf("{column: %s, type: snowflake}", q(kg.column)), true
	case typ == E2EAutoIncrementFixture:
		c.warnf("%s is generated by ShardingSphere's %s, which counts from 1 again for every statement (test values, not unique); converted to a table sequence from 1 in blocks of 1: Switchyard's IDs are unique and keep counting (1, 2, 3, ... across statements)", col, a.typ)
		return fmt.Sprintf("{column: %s, type: table, start: 1, block: 1}", q(kg.column)), true
	case strings.Contains(typ, "INCREMENT") || typ == "COSID":
		if strings.EqualFold(a.props["as-string"], "true") {
			c.cannot(t.name, "its key column %s is generated by %s (%s) as strings; Switchyard's sequences generate integers only", kg.column, kg.generator, a.typ)
			return "", false
		}
		c.warnf("%s is generated by ShardingSphere's %s (%s): converted to a Switchyard table sequence (unique across proxies, counting from 1): if the table already has rows, set sequence.start above its largest %s", col, kg.generator, a.typ, kg.column)
		return fmt.Sprintf("{column: %s, type: table}", q(kg.column)), true
	case typ == "UUID" || typ == "NANOID":
		c.cannot(t.name, "its key column %s is generated by %s (%s), which makes strings; Switchyard's sequences generate integers only (table or snowflake)", kg.column, kg.generator, a.typ)
		return "", false
	default:
		c.cannot(t.name, "its key column %s is generated by %s of type %s; Switchyard converts SNOWFLAKE and increment-style key generators only", kg.column, kg.generator, a.typ)
		return "", false
	}
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

var trailingDigits = regexp.MustCompile(`^(.*?)([0-9]+)$`)

// fixtureExpression is the inline expression equal to the E2E standard
// fixture for these targets: the fixture picks the target whose name ends
// with value % 10; when the targets are exactly prefix0 ... prefix9 that is
// "prefix${column % 10}". (Negative values find no target in both.)
func fixtureExpression(column string, targets []string) (string, error) {
	if len(targets) != 10 {
		return "", fmt.Errorf("is only expressible for exactly 10 targets named <prefix>0 ... <prefix>9 (got %d)", len(targets))
	}
	prefix := ""
	have := map[int]bool{}
	for i, t := range targets {
		m := trailingDigits.FindStringSubmatch(t)
		if m == nil || len(m[2]) != 1 {
			return "", fmt.Errorf("is only expressible for targets named <prefix>0 ... <prefix>9 (got %q)", t)
		}
		if i == 0 {
			prefix = m[1]
		} else if m[1] != prefix {
			return "", fmt.Errorf("is only expressible for targets with one prefix (%q and %q)", prefix, m[1])
		}
		d, _ := strconv.Atoi(m[2])
		have[d] = true
	}
	if len(have) != 10 {
		return "", errors.New("is only expressible for targets <prefix>0 ... <prefix>9")
	}
	return prefix + "${" + column + " % 10}", nil
}

// broadcastTables converts !BROADCAST (and the sharding rule's older
// broadcastTables) into global tables on every logical data source.
func (c *ssConverter) broadcastTables(sharding, broadcast *yaml.Node, logical []SSDataSource, names map[string]bool) []string {
	var list []string
	list = append(list, strs(get(sharding, "broadcastTables"))...)
	list = append(list, strs(get(broadcast, "tables"))...)
	var dss []string
	for _, l := range logical {
		dss = append(dss, l.Name)
	}
	var out []string
	for _, t := range list {
		lt := strings.ToLower(t)
		if names[lt] {
			c.errorf("broadcast table %s also has another rule", t)
			continue
		}
		names[lt] = true
		out = append(out, fmt.Sprintf("          - {name: %s, type: global, datasources: [%s]}\n", q(t), qs(dss)))
	}
	return out
}

// singleTables places single tables: those listed in the !SINGLE rule as
// datasource.table, and those given in the options.
func (c *ssConverter) singleTables(rule *yaml.Node, byName map[string]*SSDataSource, alias map[string]string, names map[string]bool) []string {
	type st struct{ table, ds string }
	var list []st
	wild := false
	for _, e := range strs(get(rule, "tables")) {
		ds, tbl, ok := strings.Cut(e, ".")
		if !ok {
			c.errorf("single table entry %q is not datasource.table", e)
			continue
		}
		if strings.Count(tbl, ".") == 1 { // datasource.schema.table
			_, tbl, _ = strings.Cut(tbl, ".")
		}
		if ds == "*" || tbl == "*" {
			wild = true
			continue
		}
		list = append(list, st{tbl, ds})
	}
	var extra []string
	for t := range c.opts.SingleTables {
		extra = append(extra, t)
	}
	sort.Strings(extra)
	for _, t := range extra {
		list = append(list, st{t, c.opts.SingleTables[t]})
	}
	if wild && len(c.opts.SingleTables) == 0 {
		c.warnf("ShardingSphere finds single tables in the data sources (!SINGLE %s); this file does not name them: list them (--single TABLE=DATASOURCE) to keep their placement", strings.Join(strs(get(rule, "tables")), ", "))
	}
	var out []string
	for _, s := range list {
		lt := strings.ToLower(s.table)
		if names[lt] {
			if _, fromOpts := c.opts.SingleTables[s.table]; fromOpts {
				c.errorf("single table %s also has a sharding or broadcast rule", s.table)
			}
			continue
		}
		l, ok := byName[alias[s.ds]]
		if !ok {
			c.errorf("single table %s: data source %s is not defined", s.table, s.ds)
			continue
		}
		names[lt] = true
		out = append(out, fmt.Sprintf("          - {name: %s, type: global, datasources: [%s]}  # single table: one copy, in %s\n", q(s.table), q(l.Name), l.Database))
	}
	if len(out) > 0 {
		c.warnf("single tables are written as global tables with one copy (their data source); Switchyard refuses writes to global tables until distributed transactions land")
	}
	return out
}

// ShardingSphereCommandLine parses the arguments of
// `switchyard convert shardingsphere FILE [--slices s0,s1] [--single t=ds,...]
// [--skip-unconvertible]` (FILE may come before or after the flags).
func ShardingSphereCommandLine(args []string) (file string, opts ShardingSphereOptions, err error) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") {
			if file != "" {
				return "", opts, fmt.Errorf("more than one file: %s and %s", file, a)
			}
			file = a
			continue
		}
		switch name {
		case "slices", "single":
			if !hasVal {
				if i+1 >= len(args) {
					return "", opts, fmt.Errorf("--%s needs a value", name)
				}
				i++
				val = args[i]
			}
			for _, part := range strings.Split(val, ",") {
				part = strings.TrimSpace(part)
				if part == "" {
					continue
				}
				if name == "slices" {
					opts.Slices = append(opts.Slices, part)
					continue
				}
				t, ds, ok := strings.Cut(part, "=")
				if !ok || t == "" || ds == "" {
					return "", opts, fmt.Errorf("--single %q: want TABLE=DATASOURCE", part)
				}
				if opts.SingleTables == nil {
					opts.SingleTables = map[string]string{}
				}
				opts.SingleTables[t] = ds
			}
		case "skip-unconvertible":
			if hasVal {
				return "", opts, fmt.Errorf("--skip-unconvertible takes no value")
			}
			opts.SkipUnconvertible = true
		default:
			return "", opts, fmt.Errorf("unknown flag %s", a)
		}
	}
	if file == "" {
		return "", opts, errors.New("no file given")
	}
	return file, opts, nil
}
