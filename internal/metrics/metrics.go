// Package metrics defines Switchyard's Prometheus metrics.
//
// Everything lives in a private registry (Metrics.Registry); there is no
// global state. Hot-path handles are resolved once: Namespace returns a
// *NamespaceMetrics whose methods neither look up labels nor allocate.
// Connection-pool gauges are not updated by the pools at all; they are read
// from callbacks at scrape time (RegisterPoolSource).
//
// All methods are safe for concurrent use. A nil *Metrics or nil
// *NamespaceMetrics is valid and records nothing, so callers (and tests)
// that do not care about metrics may pass nil.
package metrics

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// QueryType classifies a client statement for metric labels.
type QueryType uint8

// Query types; String gives the lowercase label value.
const (
	QuerySelect QueryType = iota
	QueryInsert
	QueryUpdate
	QueryDelete
	QueryReplace
	QueryDDL
	QuerySet
	QueryTxn
	QueryShow
	QueryOther
	QueryPrepare
	QueryExecute

	numQueryTypes = iota
)

var queryTypeNames = [numQueryTypes]string{
	QuerySelect:  "select",
	QueryInsert:  "insert",
	QueryUpdate:  "update",
	QueryDelete:  "delete",
	QueryReplace: "replace",
	QueryDDL:     "ddl",
	QuerySet:     "set",
	QueryTxn:     "txn",
	QueryShow:    "show",
	QueryOther:   "other",
	QueryPrepare: "prepare",
	QueryExecute: "execute",
}

// String returns the label value ("select", "insert", ...); unknown values
// map to "other".
func (t QueryType) String() string {
	if int(t) < numQueryTypes {
		return queryTypeNames[t]
	}
	return "other"
}

// Route tells where a statement was sent.
type Route uint8

// Routes; String gives the label value.
const (
	RoutePrimary Route = iota // the slice's primary
	RouteReplica              // a replica
	RouteProxy                // answered by the proxy itself
	RouteScatter              // sent to several slices

	numRoutes = iota
)

var routeNames = [numRoutes]string{
	RoutePrimary: "primary",
	RouteReplica: "replica",
	RouteProxy:   "proxy",
	RouteScatter: "scatter",
}

// String returns the label value ("primary", "replica", "proxy",
// "scatter"); unknown values map to "primary".
func (r Route) String() string {
	if int(r) < numRoutes {
		return routeNames[r]
	}
	return "primary"
}

// QueryDurationBuckets are the bucket upper bounds (seconds) of
// switchyard_query_duration_seconds: 50µs to 10s.
var QueryDurationBuckets = []float64{
	0.00005, 0.0001, 0.00025, 0.0005,
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
	0.1, 0.25, 0.5, 1, 2.5, 5, 10,
}

// Metrics owns the registry and all Switchyard metric families.
type Metrics struct {
	// Registry holds every Switchyard metric plus the Go and process
	// collectors; serve it with promhttp.HandlerFor.
	Registry *prometheus.Registry

	queries          *prometheus.CounterVec
	queryDuration    *prometheus.HistogramVec
	queryErrors      *prometheus.CounterVec
	clientConns      *prometheus.GaugeVec
	clientConnsTotal *prometheus.CounterVec
	authFailures     *prometheus.CounterVec
	slowQueries      *prometheus.CounterVec
	backendErrors    *prometheus.CounterVec

	unknownUserAuth prometheus.Counter
	pools           *poolCollector

	mu         sync.Mutex
	namespaces map[string]*NamespaceMetrics

	cons consistencyMetrics
	gov  govMetrics
}

// New creates a Metrics with its own registry.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		queries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchyard_queries_total",
			Help: "Client statements handled, by namespace, statement type and route.",
		}, []string{"namespace", "type", "route"}),
		queryDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "switchyard_query_duration_seconds",
			Help:    "Time from receiving a client statement to sending its last response packet.",
			Buckets: QueryDurationBuckets,
		}, []string{"namespace", "type"}),
		queryErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchyard_query_errors_total",
			Help: "Client statements that ended in an error, by namespace and statement type.",
		}, []string{"namespace", "type"}),
		clientConns: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "switchyard_client_connections",
			Help: "Currently open, authenticated client connections.",
		}, []string{"namespace"}),
		clientConnsTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchyard_client_connections_total",
			Help: "Authenticated client connections accepted since start.",
		}, []string{"namespace"}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchyard_auth_failures_total",
			Help: "Failed client authentications; namespace is empty for unknown users.",
		}, []string{"namespace"}),
		slowQueries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchyard_slow_queries_total",
			Help: "Client statements slower than slow_query_threshold.",
		}, []string{"namespace"}),
		backendErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchyard_backend_errors_total",
			Help: "Errors talking to backend nodes (connect, I/O, protocol).",
		}, []string{"namespace", "slice", "node"}),
		pools:      newPoolCollector(),
		namespaces: make(map[string]*NamespaceMetrics),
	}
	m.Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.queries, m.queryDuration, m.queryErrors,
		m.clientConns, m.clientConnsTotal,
		m.authFailures, m.slowQueries, m.backendErrors,
		m.pools,
	)
	m.unknownUserAuth = m.authFailures.WithLabelValues("")
	m.gov.register(m.Registry)
	return m
}

// NamespaceMetrics are the pre-resolved metric handles of one namespace.
// Its methods do not allocate and take no locks beyond the atomic updates
// of the underlying metrics.
type NamespaceMetrics struct {
	name string
	m    *Metrics

	queries          [numQueryTypes][numRoutes]prometheus.Counter
	durations        [numQueryTypes]prometheus.Observer
	errors           [numQueryTypes]prometheus.Counter
	clientConns      prometheus.Gauge
	clientConnsTotal prometheus.Counter
	authFailures     prometheus.Counter
	slowQueries      prometheus.Counter
}

// Namespace returns the handles of namespace name, creating them (and all
// their series, at zero) on first use. Repeated calls return the same
// pointer, so handles survive configuration reloads. Call it once per
// namespace or session, not per query.
func (m *Metrics) Namespace(name string) *NamespaceMetrics {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if ns, ok := m.namespaces[name]; ok {
		return ns
	}
	ns := &NamespaceMetrics{
		name:             name,
		m:                m,
		clientConns:      m.clientConns.WithLabelValues(name),
		clientConnsTotal: m.clientConnsTotal.WithLabelValues(name),
		authFailures:     m.authFailures.WithLabelValues(name),
		slowQueries:      m.slowQueries.WithLabelValues(name),
	}
	for t := range numQueryTypes {
		typ := QueryType(t).String()
		for r := range numRoutes {
			ns.queries[t][r] = m.queries.WithLabelValues(name, typ, Route(r).String())
		}
		ns.durations[t] = m.queryDuration.WithLabelValues(name, typ)
		ns.errors[t] = m.queryErrors.WithLabelValues(name, typ)
	}
	m.namespaces[name] = ns
	return ns
}

// AuthFailureUnknownUser counts a failed authentication of a user that
// belongs to no namespace (switchyard_auth_failures_total{namespace=""}).
func (m *Metrics) AuthFailureUnknownUser() {
	if m == nil {
		return
	}
	m.unknownUserAuth.Inc()
}

// Name returns the namespace name.
func (ns *NamespaceMetrics) Name() string {
	if ns == nil {
		return ""
	}
	return ns.name
}

// ObserveQuery records one finished client statement: it increments
// switchyard_queries_total{type,route}, observes d in
// switchyard_query_duration_seconds{type} and, when failed, increments
// switchyard_query_errors_total{type}. Out-of-range t and r are recorded as
// QueryOther and RoutePrimary.
func (ns *NamespaceMetrics) ObserveQuery(t QueryType, r Route, d time.Duration, failed bool) {
	if ns == nil {
		return
	}
	if int(t) >= numQueryTypes {
		t = QueryOther
	}
	if int(r) >= numRoutes {
		r = RoutePrimary
	}
	ns.queries[t][r].Inc()
	ns.durations[t].Observe(d.Seconds())
	if failed {
		ns.errors[t].Inc()
	}
}

// ClientConnected counts a newly authenticated client connection.
func (ns *NamespaceMetrics) ClientConnected() {
	if ns == nil {
		return
	}
	ns.clientConns.Inc()
	ns.clientConnsTotal.Inc()
}

// ClientDisconnected counts the end of a connection previously reported
// with ClientConnected.
func (ns *NamespaceMetrics) ClientDisconnected() {
	if ns == nil {
		return
	}
	ns.clientConns.Dec()
}

// AuthFailure counts a failed authentication of a user of this namespace.
func (ns *NamespaceMetrics) AuthFailure() {
	if ns == nil {
		return
	}
	ns.authFailures.Inc()
}

// SlowQuery counts a statement slower than slow_query_threshold.
func (ns *NamespaceMetrics) SlowQuery() {
	if ns == nil {
		return
	}
	ns.slowQueries.Inc()
}

// BackendError counts an error talking to backend node (host:port) of
// slice. It resolves labels on each call, which is fine on error paths.
func (ns *NamespaceMetrics) BackendError(slice, node string) {
	if ns == nil {
		return
	}
	ns.m.backendErrors.WithLabelValues(ns.name, slice, node).Inc()
}
