package config

import (
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// SQLRule is one entry of a namespace's sql_rules: statements it matches
// are refused (deny), let through (allow) or limited (limit). See
// docs/operations.md "SQL rules and limits".
type SQLRule struct {
	// Name identifies the rule in errors, logs and metrics.
	Name string
	// Action is deny (default), allow or limit.
	Action string
	// Class matches a statement class (see SQLRuleClasses); empty: any.
	Class string
	// Fingerprint matches the normalised statement (literals as ?), given
	// as a statement or as its 64-hex-digit digest; empty: any.
	Fingerprint string
	// Regex matches the statement text; empty: any.
	Regex string
	// Users restricts the rule to these users; empty: all of the namespace.
	Users []string
	// MaxExecutionTime limits each matching statement (limit rules).
	MaxExecutionTime time.Duration
	// MaxQPS and Burst form a token bucket of matching statements per
	// second (limit rules; 0: none).
	MaxQPS float64
	Burst  int
	// MaxConcurrency bounds matching statements running at once (limit
	// rules; 0: none).
	MaxConcurrency int
	// QueueTimeout is how long an excess statement waits for its turn.
	QueueTimeout time.Duration
	// Per says what shares one budget: rule (all matching statements),
	// user or fingerprint.
	Per string

	re *regexp.Regexp
}

// Re returns the compiled Regex (nil when empty).
func (r *SQLRule) Re() *regexp.Regexp { return r.re }

// SQLRuleClasses are the statement classes a rule can match.
var SQLRuleClasses = []string{"select", "insert", "update", "delete", "replace", "ddl", "write",
	"update_without_where", "delete_without_where", "write_without_where", "sharded_full_scan"}

// DefaultQueueTimeout applies to limit rules without queue_timeout.
const DefaultQueueTimeout = time.Second

func (p *parser) sqlRules(ns *Namespace) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		p.sequence(n, path, func(item *yaml.Node, path string) {
			r := SQLRule{Action: "deny", Per: "rule", QueueTimeout: DefaultQueueTimeout}
			var qps int
			p.mapping(item, path, "in sql rule ("+path+")", fields{
				"name":               p.str(&r.Name),
				"action":             p.str(&r.Action),
				"class":              p.str(&r.Class),
				"fingerprint":        p.str(&r.Fingerprint),
				"regex":              p.str(&r.Regex),
				"users":              p.strList(&r.Users),
				"max_execution_time": p.duration(&r.MaxExecutionTime),
				"max_qps":            p.integer(&qps),
				"burst":              p.integer(&r.Burst),
				"max_concurrency":    p.integer(&r.MaxConcurrency),
				"queue_timeout":      p.duration(&r.QueueTimeout),
				"per":                p.str(&r.Per),
			})
			r.MaxQPS = float64(qps)
			ns.SQLRules = append(ns.SQLRules, r)
		})
	}
}

func (p *parser) validateSQLRules(ns *Namespace, path string) {
	names := map[string]bool{}
	users := map[string]bool{}
	for _, u := range ns.Users {
		users[u.Name] = true
	}
	if ns.MaxExecutionTime < 0 {
		p.errorf(path+".max_execution_time", "%s.max_execution_time must not be negative", path)
	}
	for j, u := range ns.Users {
		if u.Access.MaxExecutionTime < 0 {
			up := indexPath(path+".users", j)
			p.errorf(up+".max_execution_time", "%s.max_execution_time must not be negative", up)
		}
	}
	for i := range ns.SQLRules {
		r := &ns.SQLRules[i]
		rp := indexPath(path+".sql_rules", i)
		switch {
		case r.Name == "":
			p.errorf(rp+".name", "%s.name is required", rp)
		case names[r.Name]:
			p.errorf(rp+".name", "%s.name %q is used by another rule of the namespace", rp, r.Name)
		}
		names[r.Name] = true
		switch r.Action {
		case "deny", "allow", "limit":
		default:
			p.errorf(rp+".action", "%s.action %q is invalid (want deny, allow or limit)", rp, r.Action)
		}
		if r.Class != "" && !containsExact(SQLRuleClasses, r.Class) {
			p.errorf(rp+".class", "%s.class %q is invalid (want one of %s)", rp, r.Class, strings.Join(SQLRuleClasses, ", "))
		}
		if r.Regex != "" {
			re, err := regexp.Compile(r.Regex)
			if err != nil {
				p.errorf(rp+".regex", "%s.regex %q: %v", rp, r.Regex, err)
			}
			r.re = re
		}
		for k, u := range r.Users {
			if !users[u] {
				p.errorf(indexPath(rp+".users", k), "%s: %q is not a user of the namespace", indexPath(rp+".users", k), u)
			}
		}
		limits := r.MaxExecutionTime != 0 || r.MaxQPS != 0 || r.MaxConcurrency != 0
		if r.Action == "limit" && !limits {
			p.errorf(rp, "%s: a limit rule needs max_execution_time, max_qps or max_concurrency", rp)
		}
		if r.Action != "limit" && limits {
			p.errorf(rp, "%s: max_execution_time, max_qps and max_concurrency need action: limit", rp)
		}
		if r.MaxExecutionTime < 0 || r.MaxQPS < 0 || r.Burst < 0 || r.MaxConcurrency < 0 || r.QueueTimeout < 0 {
			p.errorf(rp, "%s: limits must not be negative", rp)
		}
		switch r.Per {
		case "rule", "user", "fingerprint":
		default:
			p.errorf(rp+".per", "%s.per %q is invalid (want rule, user or fingerprint)", rp, r.Per)
		}
	}
}
