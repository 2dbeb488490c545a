package metrics

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// PoolStats is a snapshot of one backend connection pool (one node of one
// slice of one namespace), returned by pool sources at scrape time.
type PoolStats struct {
	// Namespace, Slice and Node (host:port) identify the pool.
	Namespace, Slice, Node string
	// Role is the node's role: "primary" or "replica".
	Role string
	// Open is the number of open connections (idle + in use).
	Open int
	// Idle is the number of idle connections.
	Idle int
	// InUse is the number of connections lent to sessions.
	InUse int
	// MaxOpen is the configured limit of open connections.
	MaxOpen int
	// WaitCount is the total number of waits for a connection.
	WaitCount int64
	// WaitDuration is the total time spent waiting for connections.
	WaitDuration time.Duration
	// Timeouts is the total number of waits that hit wait_timeout.
	Timeouts int64
}

var poolLabels = []string{"namespace", "slice", "node", "role"}

// poolCollector exports PoolStats from registered sources at scrape time.
type poolCollector struct {
	open, idle, inUse, maxOpen      *prometheus.Desc
	waits, waitSeconds, waitTimeout *prometheus.Desc

	mu      sync.Mutex
	sources []func() []PoolStats
}

func newPoolCollector() *poolCollector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, poolLabels, nil)
	}
	return &poolCollector{
		open:        d("switchyard_pool_open", "Open backend connections (idle + in use)."),
		idle:        d("switchyard_pool_idle", "Idle backend connections."),
		inUse:       d("switchyard_pool_in_use", "Backend connections lent to client sessions."),
		maxOpen:     d("switchyard_pool_max_open", "Configured limit of open backend connections."),
		waits:       d("switchyard_pool_wait_total", "Times a session had to wait for a backend connection."),
		waitSeconds: d("switchyard_pool_wait_seconds_total", "Total time sessions waited for backend connections."),
		waitTimeout: d("switchyard_pool_wait_timeouts_total", "Waits for a backend connection that hit wait_timeout."),
	}
}

// RegisterPoolSource adds a callback that reports pool statistics; it is
// called on every scrape of the registry, concurrently with the proxy, so
// it must be safe for concurrent use and fast. Several sources may be
// registered; a pool (namespace, slice, node, role) reported more than once
// in one scrape is exported only the first time.
func (m *Metrics) RegisterPoolSource(f func() []PoolStats) {
	if m == nil || f == nil {
		return
	}
	m.pools.mu.Lock()
	m.pools.sources = append(m.pools.sources, f)
	m.pools.mu.Unlock()
}

// Describe implements prometheus.Collector.
func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.open, c.idle, c.inUse, c.maxOpen, c.waits, c.waitSeconds, c.waitTimeout} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	sources := append([]func() []PoolStats(nil), c.sources...)
	c.mu.Unlock()

	type key struct{ ns, slice, node, role string }
	seen := make(map[key]bool)
	for _, src := range sources {
		for _, s := range src() {
			k := key{s.Namespace, s.Slice, s.Node, s.Role}
			if seen[k] {
				continue
			}
			seen[k] = true
			lv := []string{s.Namespace, s.Slice, s.Node, s.Role}
			emit := func(d *prometheus.Desc, t prometheus.ValueType, v float64) {
				m, err := prometheus.NewConstMetric(d, t, v, lv...)
				if err != nil {
					m = prometheus.NewInvalidMetric(d, err)
				}
				ch <- m
			}
			emit(c.open, prometheus.GaugeValue, float64(s.Open))
			emit(c.idle, prometheus.GaugeValue, float64(s.Idle))
			emit(c.inUse, prometheus.GaugeValue, float64(s.InUse))
			emit(c.maxOpen, prometheus.GaugeValue, float64(s.MaxOpen))
			emit(c.waits, prometheus.CounterValue, float64(s.WaitCount))
			emit(c.waitSeconds, prometheus.CounterValue, s.WaitDuration.Seconds())
			emit(c.waitTimeout, prometheus.CounterValue, float64(s.Timeouts))
		}
	}
}
