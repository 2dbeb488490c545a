package governance

import (
	"sync"
	"testing"
	"time"

	"github.com/switchyard-db/switchyard/internal/config"
)

const rulesConfig = `
namespaces:
  - name: r
    users:
      - {name: app, password: x}
      - {name: report, password: x, max_execution_time: 2s}
      - {name: locked, password: x}
    backend: {user: p, password: p}
    default_slice: s0
    slices: [{name: s0, primary: 127.0.0.1:3306}, {name: s1, primary: 127.0.0.1:3307}]
    max_execution_time: 10s
    databases:
      - name: shop
        tables:
          - {name: t_user, type: sharded, key: id, algorithm: hash, slices: [s0, s1]}
    sql_rules:
      - {name: no_mass_delete, class: delete_without_where}
      - {name: no_mass_update, class: update_without_where}
      - {name: no_scan, class: sharded_full_scan, users: [app]}
      - {name: no_sleep, regex: "(?i)sleep\\s*\\("}
      - {name: no_this_query, fingerprint: "SELECT secret FROM t WHERE id = 1"}
      - {name: slow_reports, action: limit, class: select, users: [report], max_execution_time: 500ms, max_concurrency: 2}
      - {name: locked_reads, action: allow, class: select, users: [locked]}
`

func rulesPolicy(t *testing.T, user string) *Policy {
	t.Helper()
	cfg, err := config.Parse([]byte(rulesConfig), "r.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ns, u, _ := cfg.UserNamespace(user)
	return NewPolicy(cfg, ns, u, "127.0.0.1")
}

func TestRules(t *testing.T) {
	cases := []struct {
		user, sql string
		rule      string // refusing rule ("" allowed)
		exec      time.Duration
		rate      int
	}{
		{user: "app", sql: "DELETE FROM t", rule: "no_mass_delete"},
		{user: "app", sql: "DELETE FROM t WHERE id = 3", exec: 10 * time.Second},
		{user: "app", sql: "UPDATE t SET a = 1", rule: "no_mass_update"},
		{user: "app", sql: "SELECT 1; UPDATE t SET a = 1", rule: "no_mass_update"},
		{user: "app", sql: "UPDATE t SET a = 1 WHERE b = 2", exec: 10 * time.Second},
		{user: "app", sql: "SELECT * FROM shop.t_user", rule: "no_scan"},
		{user: "app", sql: "SELECT * FROM t_user WHERE name = 'x'", rule: "no_scan"},
		{user: "app", sql: "SELECT * FROM t_user WHERE id = 7", exec: 10 * time.Second},
		{user: "app", sql: "SELECT * FROM t_user WHERE id IN (1, 2)", exec: 10 * time.Second},
		{user: "app", sql: "SELECT * FROM t_user u JOIN t x ON x.a = u.name WHERE u.id = 3", exec: 10 * time.Second},
		{user: "report", sql: "SELECT * FROM t_user", exec: 500 * time.Millisecond, rate: 1},
		{user: "app", sql: "SELECT SLEEP(3)", rule: "no_sleep"},
		{user: "app", sql: "select   secret from t where id=42", rule: "no_this_query"},
		{user: "app", sql: "SELECT secret FROM t WHERE id = 1 AND 1", exec: 10 * time.Second},
		{user: "app", sql: "SET max_statement_time = 0", rule: "-"},
		{user: "app", sql: "SET STATEMENT max_statement_time=0 FOR SELECT 1", rule: "-"},
		{user: "report", sql: "DELETE FROM t WHERE id = 1", exec: 2 * time.Second},
		{user: "locked", sql: "SELECT 1", exec: 10 * time.Second},
		{user: "locked", sql: "DELETE FROM t WHERE id = 1", rule: "allow_list"},
	}
	for _, c := range cases {
		t.Run(c.user+" "+c.sql, func(t *testing.T) {
			v := rulesPolicy(t, c.user).Check(c.sql, "shop")
			if c.rule != "" {
				if v.Err == nil || v.Err.Code != 1148 || c.rule != "-" && v.Rule != c.rule {
					t.Fatalf("want rule %s, got %+v", c.rule, v)
				}
				return
			}
			if v.Err != nil {
				t.Fatalf("refused: %v", v.Err)
			}
			if v.Limits == nil || v.Limits.ExecTime != c.exec || len(v.Limits.Rate) != c.rate {
				t.Fatalf("limits %+v", v.Limits)
			}
		})
	}
}

func TestLimiter(t *testing.T) {
	l := NewLimiter()
	conc := &config.SQLRule{Name: "c", Per: "rule", MaxConcurrency: 1, QueueTimeout: time.Hour}
	lim := &Limits{Rate: []*config.SQLRule{conc}}
	rel, err := l.Acquire("ns", "u", lim)
	if err != nil {
		t.Fatal(err)
	}
	// A second statement waits until the first ends.
	var wg sync.WaitGroup
	got := make(chan bool, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		r2, err := l.Acquire("ns", "u", lim)
		got <- err == nil
		if r2 != nil {
			r2()
		}
	}()
	rel()
	wg.Wait()
	if !<-got {
		t.Fatal("queued statement refused")
	}
	// Without a queue, the excess is refused with 1226.
	now := time.Unix(100, 0)
	l.now = func() time.Time { return now }
	qps := &config.SQLRule{Name: "q", Per: "user", MaxQPS: 2, Burst: 2}
	lq := &Limits{Rate: []*config.SQLRule{qps}}
	for i := 0; i < 2; i++ {
		r, err := l.Acquire("ns", "u", lq)
		if err != nil {
			t.Fatalf("statement %d within the burst refused: %v", i, err)
		}
		r()
	}
	if _, err := l.Acquire("ns", "u", lq); err == nil || err.Code != 1226 {
		t.Fatalf("third statement: %v", err)
	}
	// Another user has its own budget.
	if _, err := l.Acquire("ns", "v", lq); err != nil {
		t.Fatalf("other user: %v", err)
	}
	// Tokens come back with time.
	now = now.Add(time.Second)
	if _, err := l.Acquire("ns", "u", lq); err != nil {
		t.Fatalf("after a second: %v", err)
	}
}
