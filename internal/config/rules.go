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
	// MaxRows and MaxBytes limit the results of matching statements
	// (limit rules).
	MaxRows, MaxBytes int
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
				"max_rows":           p.integer(&r.MaxRows),
				"max_bytes":          p.size(&r.MaxBytes),
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
	if ns.MaxExecutionTime < 0 || ns.MaxResultRows < 0 || ns.MaxResultBytes < 0 {
		p.errorf(path, "%s: max_execution_time, max_result_rows and max_result_bytes must not be negative", path)
	}
	for j, u := range ns.Users {
		if u.Access.MaxExecutionTime < 0 || u.Access.MaxResultRows < 0 || u.Access.MaxResultBytes < 0 {
			up := indexPath(path+".users", j)
			p.errorf(up, "%s: max_execution_time, max_result_rows and max_result_bytes must not be negative", up)
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
		limits := r.MaxExecutionTime != 0 || r.MaxQPS != 0 || r.MaxConcurrency != 0 || r.MaxRows != 0 || r.MaxBytes != 0
		if r.Action == "limit" && !limits {
			p.errorf(rp, "%s: a limit rule needs max_execution_time, max_rows, max_bytes, max_qps or max_concurrency", rp)
		}
		if r.Action != "limit" && limits {
			p.errorf(rp, "%s: max_execution_time, max_rows, max_bytes, max_qps and max_concurrency need action: limit", rp)
		}
		if r.MaxExecutionTime < 0 || r.MaxQPS < 0 || r.Burst < 0 || r.MaxConcurrency < 0 || r.QueueTimeout < 0 || r.MaxRows < 0 || r.MaxBytes < 0 {
			p.errorf(rp, "%s: limits must not be negative", rp)
		}
		switch r.Per {
		case "rule", "user", "fingerprint":
		default:
			p.errorf(rp+".per", "%s.per %q is invalid (want rule, user or fingerprint)", rp, r.Per)
		}
	}
}

// Digests configures per-statement-shape statistics.
type Digests struct {
	// MaxEntries bounds the statement shapes kept (least recently seen
	// dropped first); 0 disables digests.
	MaxEntries int
	// MetricsTop is how many of the heaviest shapes /metrics exports.
	MetricsTop int
}

// SlowLog configures the JSON-lines slow log.
type SlowLog struct {
	// File is the log file; empty disables the slow log.
	File string
	// MaxSize rotates the file at this many bytes.
	MaxSize int
	// MaxFiles is how many rotated files are kept (file.1 ... file.N).
	MaxFiles int
}

func (p *parser) digestsConfig(dst *Digests) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		p.mapping(n, path, "in digests", fields{
			"max_entries": p.integer(&dst.MaxEntries),
			"metrics_top": p.integer(&dst.MetricsTop),
		})
	}
}

func (p *parser) slowLogConfig(dst *SlowLog) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		p.mapping(n, path, "in slow_log", fields{
			"file":      p.str(&dst.File),
			"max_size":  p.size(&dst.MaxSize),
			"max_files": p.integer(&dst.MaxFiles),
		})
	}
}

// validateObservability checks digests, slow_log and the namespaces'
// slow_query_threshold.
func (p *parser) validateObservability(c *Config) {
	if c.Digests.MaxEntries < 0 || c.Digests.MetricsTop < 0 {
		p.errorf("digests", "digests.max_entries and digests.metrics_top must not be negative")
	}
	if c.SlowLog.File != "" {
		c.SlowLog.File = p.absPath(c.SlowLog.File)
	}
	if c.SlowLog.MaxSize < 0 || c.SlowLog.MaxFiles < 0 {
		p.errorf("slow_log", "slow_log.max_size and slow_log.max_files must not be negative")
	}
	for i, ns := range c.Namespaces {
		if ns.SlowQueryThreshold != nil && *ns.SlowQueryThreshold < 0 {
			p.errorf(indexPath("namespaces", i)+".slow_query_threshold", "slow_query_threshold must not be negative")
		}
	}
}

// SlowThreshold returns the namespace's slow_query_threshold, or the
// top-level one when it has none (0: off).
func (ns *Namespace) SlowThreshold(c *Config) time.Duration {
	if ns.SlowQueryThreshold != nil {
		return *ns.SlowQueryThreshold
	}
	if c == nil {
		return 0
	}
	return c.SlowQueryThreshold
}

func (p *parser) optDuration(dst **time.Duration) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		var d time.Duration
		p.duration(&d)(n, path)
		if !p.bad[path] && !p.nulls[path] {
			*dst = &d
		}
	}
}
