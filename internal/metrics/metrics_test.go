package metrics

import (
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// sample is one gathered series: its labels (as "k=v,k=v", sorted) and value.
type sample struct {
	labels string
	value  float64   // counter/gauge value, or histogram sample sum
	count  uint64    // histogram sample count
	bucket []float64 // histogram upper bounds
}

// gather returns the series of metric family name, keyed by label string.
func gather(t *testing.T, m *Metrics, name string) map[string]sample {
	t.Helper()
	mfs, err := m.Registry.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	out := make(map[string]sample)
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, mt := range mf.GetMetric() {
			s := sample{labels: labelString(mt.GetLabel())}
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				s.value = mt.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				s.value = mt.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				h := mt.GetHistogram()
				s.value, s.count = h.GetSampleSum(), h.GetSampleCount()
				for _, b := range h.GetBucket() {
					s.bucket = append(s.bucket, b.GetUpperBound())
				}
			}
			out[s.labels] = s
		}
	}
	return out
}

func labelString(lps []*dto.LabelPair) string {
	parts := make([]string, 0, len(lps))
	for _, lp := range lps {
		parts = append(parts, lp.GetName()+"="+lp.GetValue())
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

func TestStrings(t *testing.T) {
	types := []struct {
		t    QueryType
		want string
	}{
		{QuerySelect, "select"}, {QueryInsert, "insert"}, {QueryUpdate, "update"},
		{QueryDelete, "delete"}, {QueryReplace, "replace"}, {QueryDDL, "ddl"},
		{QuerySet, "set"}, {QueryTxn, "txn"}, {QueryShow, "show"}, {QueryOther, "other"},
		{QueryPrepare, "prepare"}, {QueryExecute, "execute"}, {QueryType(200), "other"},
	}
	for _, tt := range types {
		if got := tt.t.String(); got != tt.want {
			t.Errorf("QueryType(%d).String() = %q, want %q", tt.t, got, tt.want)
		}
	}
	routes := []struct {
		r    Route
		want string
	}{
		{RoutePrimary, "primary"}, {RouteReplica, "replica"}, {RouteProxy, "proxy"},
		{RouteScatter, "scatter"}, {Route(9), "primary"},
	}
	for _, tt := range routes {
		if got := tt.r.String(); got != tt.want {
			t.Errorf("Route(%d).String() = %q, want %q", tt.r, got, tt.want)
		}
	}
}

func TestObserveQuery(t *testing.T) {
	type obs struct {
		t      QueryType
		r      Route
		d      time.Duration
		failed bool
	}
	tests := []struct {
		name         string
		observations []obs
		queries      map[string]float64 // "type/route" -> count
		errors       map[string]float64 // type -> count
		durCount     map[string]uint64  // type -> histogram count
		durSum       map[string]float64 // type -> histogram sum (seconds)
	}{
		{
			name:     "nothing observed: all series exist at zero",
			queries:  map[string]float64{"select/primary": 0, "execute/scatter": 0},
			errors:   map[string]float64{"select": 0},
			durCount: map[string]uint64{"select": 0},
		},
		{
			name: "mixed",
			observations: []obs{
				{QuerySelect, RouteReplica, 2 * time.Millisecond, false},
				{QuerySelect, RouteReplica, 3 * time.Millisecond, false},
				{QuerySelect, RoutePrimary, 5 * time.Millisecond, true},
				{QueryInsert, RoutePrimary, time.Second, true},
				{QuerySet, RouteProxy, 50 * time.Microsecond, false},
				{QueryExecute, RouteScatter, time.Millisecond, false},
			},
			queries: map[string]float64{
				"select/replica": 2, "select/primary": 1, "insert/primary": 1,
				"set/proxy": 1, "execute/scatter": 1, "insert/replica": 0,
			},
			errors:   map[string]float64{"select": 1, "insert": 1, "set": 0},
			durCount: map[string]uint64{"select": 3, "insert": 1, "set": 1, "update": 0},
			durSum:   map[string]float64{"select": 0.010, "insert": 1},
		},
		{
			name: "out-of-range enums",
			observations: []obs{
				{QueryType(99), Route(99), time.Millisecond, true},
			},
			queries:  map[string]float64{"other/primary": 1},
			errors:   map[string]float64{"other": 1},
			durCount: map[string]uint64{"other": 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New()
			ns := m.Namespace("shop")
			m.Namespace("blog") // another namespace must not interfere
			for _, o := range tt.observations {
				ns.ObserveQuery(o.t, o.r, o.d, o.failed)
			}
			q := gather(t, m, "switchyard_queries_total")
			if want := 2 * numQueryTypes * numRoutes; len(q) != want {
				t.Errorf("switchyard_queries_total has %d series, want %d", len(q), want)
			}
			for k, want := range tt.queries {
				typ, route, _ := strings.Cut(k, "/")
				key := "namespace=shop,route=" + route + ",type=" + typ
				if s, ok := q[key]; !ok || s.value != want {
					t.Errorf("queries{%s} = %v (present %v), want %v", key, s.value, ok, want)
				}
			}
			e := gather(t, m, "switchyard_query_errors_total")
			for typ, want := range tt.errors {
				key := "namespace=shop,type=" + typ
				if s, ok := e[key]; !ok || s.value != want {
					t.Errorf("errors{%s} = %v (present %v), want %v", key, s.value, ok, want)
				}
			}
			h := gather(t, m, "switchyard_query_duration_seconds")
			for typ, want := range tt.durCount {
				key := "namespace=shop,type=" + typ
				s, ok := h[key]
				if !ok || s.count != want {
					t.Errorf("duration{%s} count = %d (present %v), want %d", key, s.count, ok, want)
				}
				if len(s.bucket) != len(QueryDurationBuckets) || s.bucket[0] != 50e-6 || s.bucket[len(s.bucket)-1] != 10 {
					t.Errorf("duration{%s} buckets = %v", key, s.bucket)
				}
			}
			for typ, want := range tt.durSum {
				key := "namespace=shop,type=" + typ
				if got := h[key].value; math.Abs(got-want) > 1e-9 {
					t.Errorf("duration{%s} sum = %v, want %v", key, got, want)
				}
			}
		})
	}
}

func TestObserveQueryAllocs(t *testing.T) {
	ns := New().Namespace("shop")
	allocs := testing.AllocsPerRun(1000, func() {
		ns.ObserveQuery(QuerySelect, RouteReplica, 1500*time.Microsecond, false)
		ns.ObserveQuery(QueryUpdate, RoutePrimary, 3*time.Millisecond, true)
	})
	if allocs != 0 {
		t.Errorf("ObserveQuery allocates %v times per run, want 0", allocs)
	}
	allocs = testing.AllocsPerRun(1000, func() {
		ns.ClientConnected()
		ns.ClientDisconnected()
		ns.SlowQuery()
		ns.AuthFailure()
	})
	if allocs != 0 {
		t.Errorf("connection/slow/auth counters allocate %v times per run, want 0", allocs)
	}
}

func TestNamespaceCounters(t *testing.T) {
	tests := []struct {
		name   string
		do     func(m *Metrics)
		metric string
		want   map[string]float64
	}{
		{
			name: "client connections gauge",
			do: func(m *Metrics) {
				ns := m.Namespace("shop")
				ns.ClientConnected()
				ns.ClientConnected()
				ns.ClientConnected()
				ns.ClientDisconnected()
				m.Namespace("blog").ClientConnected()
			},
			metric: "switchyard_client_connections",
			want:   map[string]float64{"namespace=shop": 2, "namespace=blog": 1},
		},
		{
			name: "client connections total",
			do: func(m *Metrics) {
				ns := m.Namespace("shop")
				ns.ClientConnected()
				ns.ClientDisconnected()
				ns.ClientConnected()
			},
			metric: "switchyard_client_connections_total",
			want:   map[string]float64{"namespace=shop": 2},
		},
		{
			name: "auth failures incl. unknown users",
			do: func(m *Metrics) {
				m.Namespace("shop").AuthFailure()
				m.AuthFailureUnknownUser()
				m.AuthFailureUnknownUser()
			},
			metric: "switchyard_auth_failures_total",
			want:   map[string]float64{"namespace=shop": 1, "namespace=": 2},
		},
		{
			name: "slow queries",
			do: func(m *Metrics) {
				m.Namespace("shop").SlowQuery()
				m.Namespace("shop").SlowQuery()
			},
			metric: "switchyard_slow_queries_total",
			want:   map[string]float64{"namespace=shop": 2},
		},
		{
			name: "backend errors",
			do: func(m *Metrics) {
				ns := m.Namespace("shop")
				ns.BackendError("s0", "127.0.0.1:3310")
				ns.BackendError("s0", "127.0.0.1:3310")
				ns.BackendError("s1", "127.0.0.1:3320")
			},
			metric: "switchyard_backend_errors_total",
			want: map[string]float64{
				"namespace=shop,node=127.0.0.1:3310,slice=s0": 2,
				"namespace=shop,node=127.0.0.1:3320,slice=s1": 1,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New()
			tt.do(m)
			got := gather(t, m, tt.metric)
			if len(got) != len(tt.want) {
				t.Errorf("%s has series %v, want %v", tt.metric, keys(got), tt.want)
			}
			for k, want := range tt.want {
				if s, ok := got[k]; !ok || s.value != want {
					t.Errorf("%s{%s} = %v (present %v), want %v", tt.metric, k, s.value, ok, want)
				}
			}
		})
	}
}

func keys(m map[string]sample) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestNamespaceIsCached(t *testing.T) {
	m := New()
	if a, b := m.Namespace("shop"), m.Namespace("shop"); a != b {
		t.Error("Namespace returned different handles for the same name")
	}
	if m.Namespace("shop") == m.Namespace("blog") {
		t.Error("Namespace returned the same handle for different names")
	}
	if got := m.Namespace("shop").Name(); got != "shop" {
		t.Errorf("Name() = %q", got)
	}
}

func TestNilIsNoop(t *testing.T) {
	var m *Metrics
	ns := m.Namespace("shop")
	if ns != nil {
		t.Fatal("nil Metrics returned a non-nil namespace")
	}
	// None of these may panic.
	m.AuthFailureUnknownUser()
	m.RegisterPoolSource(func() []PoolStats { return nil })
	ns.ObserveQuery(QuerySelect, RoutePrimary, time.Millisecond, true)
	ns.ClientConnected()
	ns.ClientDisconnected()
	ns.AuthFailure()
	ns.SlowQuery()
	ns.BackendError("s0", "n")
	if ns.Name() != "" {
		t.Error("nil namespace has a name")
	}
}

func TestPoolSource(t *testing.T) {
	stats := []PoolStats{
		{Namespace: "shop", Slice: "s0", Node: "127.0.0.1:3310", Role: "primary",
			Open: 5, Idle: 2, InUse: 3, MaxOpen: 64, WaitCount: 7, WaitDuration: 1500 * time.Millisecond, Timeouts: 1},
		{Namespace: "shop", Slice: "s0", Node: "127.0.0.1:3311", Role: "replica", Open: 1, Idle: 1, MaxOpen: 64},
	}
	const primary = "namespace=shop,node=127.0.0.1:3310,role=primary,slice=s0"
	const replica = "namespace=shop,node=127.0.0.1:3311,role=replica,slice=s0"
	tests := []struct {
		metric string
		want   map[string]float64
	}{
		{"switchyard_pool_open", map[string]float64{primary: 5, replica: 1}},
		{"switchyard_pool_idle", map[string]float64{primary: 2, replica: 1}},
		{"switchyard_pool_in_use", map[string]float64{primary: 3, replica: 0}},
		{"switchyard_pool_max_open", map[string]float64{primary: 64, replica: 64}},
		{"switchyard_pool_wait_total", map[string]float64{primary: 7, replica: 0}},
		{"switchyard_pool_wait_seconds_total", map[string]float64{primary: 1.5, replica: 0}},
		{"switchyard_pool_wait_timeouts_total", map[string]float64{primary: 1, replica: 0}},
	}
	m := New()
	// Before any source is registered the families are simply absent.
	if got := gather(t, m, "switchyard_pool_open"); len(got) != 0 {
		t.Errorf("pool metrics without a source: %v", keys(got))
	}
	var mu sync.Mutex
	calls := 0
	m.RegisterPoolSource(func() []PoolStats {
		mu.Lock()
		calls++
		mu.Unlock()
		return stats
	})
	// A second source reporting an already-seen pool must not break Gather.
	m.RegisterPoolSource(func() []PoolStats { return stats[:1] })
	for _, tt := range tests {
		t.Run(tt.metric, func(t *testing.T) {
			got := gather(t, m, tt.metric)
			if len(got) != len(tt.want) {
				t.Errorf("%s has series %v, want %v", tt.metric, keys(got), tt.want)
			}
			for k, want := range tt.want {
				if s, ok := got[k]; !ok || s.value != want {
					t.Errorf("%s{%s} = %v (present %v), want %v", tt.metric, k, s.value, ok, want)
				}
			}
		})
	}
	if calls < len(tests) {
		t.Error("pool source was never called")
	}
}

func TestStandardCollectors(t *testing.T) {
	m := New()
	mfs, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	have := make(map[string]bool)
	for _, mf := range mfs {
		have[mf.GetName()] = true
	}
	for _, name := range []string{"go_goroutines", "process_start_time_seconds"} {
		if !have[name] && !(name == "process_start_time_seconds" && !processMetricsSupported()) {
			t.Errorf("metric %s missing from registry", name)
		}
	}
}

// processMetricsSupported reports whether the process collector can read
// this process's statistics (it needs /proc on Linux).
func processMetricsSupported() bool {
	_, err := os.Stat("/proc/self/stat")
	return err == nil
}

func TestConcurrentUse(t *testing.T) {
	m := New()
	m.RegisterPoolSource(func() []PoolStats { return []PoolStats{{Namespace: "shop", Slice: "s0", Node: "n:1", Role: "primary"}} })
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ns := m.Namespace(fmt.Sprintf("ns%d", i%3))
			for j := range 200 {
				ns.ObserveQuery(QueryType(j%numQueryTypes), Route(j%numRoutes), time.Duration(j)*time.Microsecond, j%7 == 0)
				ns.ClientConnected()
				ns.ClientDisconnected()
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 20 {
			if _, err := m.Registry.Gather(); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	wg.Wait()
	got := gather(t, m, "switchyard_queries_total")
	var total float64
	for _, s := range got {
		total += s.value
	}
	if total != 8*200 {
		t.Errorf("total queries = %v, want %d", total, 8*200)
	}
}

func BenchmarkObserveQuery(b *testing.B) {
	ns := New().Namespace("shop")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			ns.ObserveQuery(QueryType(i%numQueryTypes), Route(i%numRoutes), 750*time.Microsecond, i%50 == 0)
			i++
		}
	})
}
