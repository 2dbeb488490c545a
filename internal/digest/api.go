package digest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// View is one entry as GET /api/digests shows it (times in milliseconds).
type View struct {
	Namespace   string           `json:"namespace"`
	Digest      string           `json:"digest"`
	Fingerprint string           `json:"fingerprint"`
	Count       int64            `json:"count"`
	Errors      int64            `json:"errors"`
	Rows        int64            `json:"rows"`
	TotalMS     float64          `json:"total_time_ms"`
	AvgMS       float64          `json:"avg_time_ms"`
	P50MS       float64          `json:"p50_ms"`
	P99MS       float64          `json:"p99_ms"`
	MaxMS       float64          `json:"max_time_ms"`
	FirstSeen   time.Time        `json:"first_seen"`
	LastSeen    time.Time        `json:"last_seen"`
	Routes      map[string]int64 `json:"routes"`
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// ViewOf renders an entry.
func ViewOf(e *Entry) View {
	return View{Namespace: e.Namespace, Digest: e.Digest, Fingerprint: e.Fingerprint, Count: e.Count, Errors: e.Errors,
		Rows: e.Rows, TotalMS: ms(e.Total), AvgMS: ms(e.Total / time.Duration(max(e.Count, 1))),
		P50MS: ms(e.Quantile(0.5)), P99MS: ms(e.Quantile(0.99)), MaxMS: ms(e.Max),
		FirstSeen: e.FirstSeen, LastSeen: e.LastSeen, Routes: e.Routes}
}

// Handler serves GET /api/digests?sort=total_time&top=N[&namespace=ns]
// (top defaults to 20; 0 lists all) and DELETE /api/digests (reset).
func (s *Store) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.Method {
		case http.MethodDelete:
			s.Reset()
			_, _ = w.Write([]byte("{\"reset\": true}\n"))
			return
		case http.MethodGet:
		default:
			w.WriteHeader(http.StatusMethodNotAllowed)
			_, _ = w.Write([]byte("{\"error\": \"use GET or DELETE\"}\n"))
			return
		}
		q := r.URL.Query()
		sortBy := q.Get("sort")
		if sortBy == "" {
			sortBy = "total_time"
		}
		known := false
		for _, k := range Sorts {
			known = known || k == sortBy
		}
		top := 20
		if v := q.Get("top"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				known = false
			}
			top = n
		}
		if !known {
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]any{"error": "sort must be one of the listed values and top a number >= 0", "sorts": Sorts})
			return
		}
		entries := s.Top(sortBy, q.Get("namespace"), top)
		out := make([]View, len(entries))
		for i := range entries {
			out[i] = ViewOf(&entries[i])
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(map[string]any{"sort": sortBy, "digests": out})
	})
}

// Collector exports the top n entries by total time to Prometheus.
type Collector struct {
	s     *Store
	n     int
	calls *prometheus.Desc
	secs  *prometheus.Desc
	errs  *prometheus.Desc
	rows  *prometheus.Desc
}

// NewCollector returns a collector of the n (default 20) heaviest shapes.
func NewCollector(s *Store, n int) *Collector {
	if n <= 0 {
		n = 20
	}
	labels := []string{"namespace", "digest", "fingerprint"}
	return &Collector{s: s, n: n,
		calls: prometheus.NewDesc("switchyard_digest_calls_total", "Statements of the heaviest statement shapes (top N by total time).", labels, nil),
		secs:  prometheus.NewDesc("switchyard_digest_seconds_total", "Total time of the heaviest statement shapes.", labels, nil),
		errs:  prometheus.NewDesc("switchyard_digest_errors_total", "Failed statements of the heaviest statement shapes.", labels, nil),
		rows:  prometheus.NewDesc("switchyard_digest_rows_total", "Rows sent or affected by the heaviest statement shapes.", labels, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.calls
	ch <- c.secs
	ch <- c.errs
	ch <- c.rows
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	for _, e := range c.s.Top("total_time", "", c.n) {
		fp := e.Fingerprint
		if len(fp) > 120 {
			fp = fp[:120] + "..."
		}
		lv := []string{e.Namespace, e.Digest[:min(16, len(e.Digest))], fp}
		ch <- prometheus.MustNewConstMetric(c.calls, prometheus.CounterValue, float64(e.Count), lv...)
		ch <- prometheus.MustNewConstMetric(c.secs, prometheus.CounterValue, e.Total.Seconds(), lv...)
		ch <- prometheus.MustNewConstMetric(c.errs, prometheus.CounterValue, float64(e.Errors), lv...)
		ch <- prometheus.MustNewConstMetric(c.rows, prometheus.CounterValue, float64(e.Rows), lv...)
	}
}
