// Package governance decides what a namespace's clients may do: which
// databases they see (the rest is answered with 1044 as MariaDB does),
// whether they may write, and how information_schema and SHOW answer for
// them. See docs/operations.md "Access control".
package governance

import (
	"strings"

	"github.com/switchyard-db/switchyard/internal/config"
	"github.com/switchyard-db/switchyard/internal/protocol"
)

// InfoSchema is the name of the schema answered for the client's databases.
const InfoSchema = "information_schema"

// Policy is what one client user of one namespace may do. It is built at
// login (and COM_CHANGE_USER) and is read-only afterwards.
type Policy struct {
	user, host string
	// closed: only allowed databases are visible; open: all but denied.
	closed  bool
	allowed map[string]bool // exact names (closed)
	denied  map[string]bool // lower-case names never visible
	// logical are the logical databases of sharding rules (SHOW DATABASES
	// lists them even when they exist on no server); hidden are physical
	// databases of data sources that clients never name.
	logical []string
	hidden  map[string]bool
	// ReadOnly refuses statements that write.
	ReadOnly bool
	rules    *ruleSet
	// Exists reports whether a database exists on the namespace's servers;
	// used for statements the parser does not understand. Nil: unknown
	// names are treated as existing (refused).
	Exists func(db string) bool
}

// NewPolicy returns the policy of user u of namespace ns, logged in from
// host.
func NewPolicy(cfg *config.Config, ns *config.Namespace, u *config.User, host string) *Policy {
	p := &Policy{host: host, allowed: map[string]bool{}, denied: map[string]bool{}, hidden: map[string]bool{}}
	if u != nil {
		p.user = u.Name
	}
	for _, d := range config.ReservedDatabases {
		p.denied[d] = true
	}
	for _, d := range ns.InternalDatabases() {
		p.denied[strings.ToLower(d)] = true
	}
	dbs, closed := ns.ClientDatabases()
	logical := map[string]bool{}
	for _, d := range ns.Databases {
		p.logical = append(p.logical, d.Name)
		logical[strings.ToLower(d.Name)] = true
	}
	// Physical tables live in logical databases or in data sources'
	// databases.
	for _, ds := range ns.DataSources {
		if db := strings.ToLower(ds.Database); db != "" && !logical[db] {
			p.hidden[db] = true
		}
	}
	if u != nil && len(u.Access.Databases) > 0 {
		dbs, closed = u.Access.Databases, true
	}
	p.closed = closed
	for _, d := range dbs {
		p.allowed[d] = true
	}
	if !closed && cfg != nil {
		// An open namespace still never sees what other namespaces list.
		for _, other := range cfg.Namespaces {
			if other == ns || other.Name == ns.Name {
				continue
			}
			odbs, _ := other.ClientDatabases()
			for _, d := range append(odbs, other.InternalDatabases()...) {
				if !containsFold(dbs, d) {
					p.denied[strings.ToLower(d)] = true
				}
			}
		}
	}
	if u != nil {
		p.ReadOnly = u.Access.ReadOnly
		p.rules = newRuleSet(ns, u)
	}
	return p
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// Closed reports whether only listed databases are visible.
func (p *Policy) Closed() bool { return p.closed }

// Visible reports whether the client may use database db.
// information_schema is visible (and answered for the client's databases).
func (p *Policy) Visible(db string) bool {
	if strings.EqualFold(db, InfoSchema) {
		return true
	}
	l := strings.ToLower(db)
	if p.denied[l] {
		return false
	}
	if p.closed {
		return p.allowed[db]
	}
	return !p.hidden[l]
}

// Listed reports whether SHOW DATABASES lists db.
func (p *Policy) Listed(db string) bool { return p.Visible(db) }

// Logical returns the logical databases of the namespace's sharding rules
// that the client may see.
func (p *Policy) Logical() []string {
	var out []string
	for _, d := range p.logical {
		if p.Visible(d) {
			out = append(out, d)
		}
	}
	return out
}

// DenyDB is MariaDB's answer to a database the user may not use.
func (p *Policy) DenyDB(db string) *protocol.Error {
	return protocol.NewError(protocol.ErrDBAccessDenied, "42000", "Access denied for user '%s'@'%s' to database '%s'", p.user, p.host, db)
}

// CheckDB checks a database to select (USE, COM_INIT_DB, connect with a
// database, COM_CHANGE_USER).
func (p *Policy) CheckDB(db string) *protocol.Error {
	if p == nil || db == "" || p.Visible(db) {
		return nil
	}
	return p.DenyDB(db)
}

// denyTable is MariaDB's answer to a command on a table the user may not
// use (ER_TABLEACCESS_DENIED_ERROR).
func (p *Policy) denyTable(cmd, db, table string) *protocol.Error {
	return protocol.NewError(1142, "42000", "%s command denied to user '%s'@'%s' for table `%s`.`%s`", cmd, p.user, p.host, db, table)
}

// denyPrivilege is ER_SPECIFIC_ACCESS_DENIED_ERROR.
func denyPrivilege(priv string) *protocol.Error {
	return protocol.NewError(1227, "42000", "Access denied; you need (at least one of) the %s privilege(s) for this operation", priv)
}

// filterCondition returns the SQL condition on a schema-name column that
// keeps the rows of the databases the client may see.
func (p *Policy) filterCondition(col string) string {
	var b strings.Builder
	if p.closed {
		b.WriteString("BINARY `" + col + "` IN ('information_schema'")
		for _, d := range sortedKeys(p.allowed) {
			if p.Visible(d) {
				b.WriteString(", " + quoteString(d))
			}
		}
		b.WriteString(")")
		return b.String()
	}
	b.WriteString("`" + col + "` NOT IN (")
	keys := append(sortedKeys(p.denied), sortedKeys(p.hidden)...)
	for i, d := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quoteString(d))
	}
	b.WriteString(")")
	return b.String()
}

func quoteString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}
