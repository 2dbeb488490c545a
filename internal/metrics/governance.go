package metrics

import "github.com/prometheus/client_golang/prometheus"

// govMetrics are the metric families of access control and SQL rules
// (internal/governance).
type govMetrics struct {
	loginRefused *prometheus.CounterVec
	refused      *prometheus.CounterVec
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
	r.MustRegister(g.loginRefused, g.refused)
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
