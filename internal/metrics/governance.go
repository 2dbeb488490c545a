package metrics

import "github.com/prometheus/client_golang/prometheus"

// govMetrics are the metric families of access control and SQL rules
// (internal/governance).
type govMetrics struct {
	loginRefused *prometheus.CounterVec
	refused      *prometheus.CounterVec
	rateLimited  *prometheus.CounterVec
}

func (g *govMetrics) register(r *prometheus.Registry) {
	g.loginRefused = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "switchyard_login_refused_total",
		Help: "Logins refused by access control, by reason: blocked_host, blocked_user (failed-login throttle), host_not_allowed, tls_required, max_user_connections.",
	}, []string{"reason"})
	g.refused = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "switchyard_statements_refused_total",
		Help: "Client statements refused by access control or SQL rules, by namespace and reason (access, read_only, ...).",
	}, []string{"namespace", "reason"})
	g.rateLimited = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "switchyard_rate_limited_total",
		Help: "Statements that waited for a limit rule's rate or concurrency budget (outcome queued) or were refused after its queue_timeout (outcome rejected).",
	}, []string{"namespace", "rule", "outcome"})
	r.MustRegister(g.loginRefused, g.refused, g.rateLimited)
}

// LoginRefused counts a login refused by access control.
func (m *Metrics) LoginRefused(reason string) {
	if m == nil || m.gov.loginRefused == nil {
		return
	}
	m.gov.loginRefused.WithLabelValues(reason).Inc()
}

// StatementRefused counts a statement refused by access control or rules.
func (m *Metrics) StatementRefused(namespace, reason string) {
	if m == nil || m.gov.refused == nil {
		return
	}
	m.gov.refused.WithLabelValues(namespace, reason).Inc()
}

// RateLimited counts a statement that waited for (queued) or was refused
// by (rejected) a limit rule's rate or concurrency budget.
func (m *Metrics) RateLimited(namespace, rule string, queued, rejected bool) {
	if m == nil || m.gov.rateLimited == nil {
		return
	}
	if queued {
		m.gov.rateLimited.WithLabelValues(namespace, rule, "queued").Inc()
	}
	if rejected {
		m.gov.rateLimited.WithLabelValues(namespace, rule, "rejected").Inc()
	}
}
