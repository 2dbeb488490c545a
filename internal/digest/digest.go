// Package digest keeps per-statement-shape statistics (count, errors, rows,
// latency quantiles, first and last seen, routes) in bounded memory, like
// ProxySQL's stats_mysql_query_digest, and writes the slow log.
package digest

import (
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pingcap/tidb/pkg/parser"
)

// DefaultMaxEntries bounds the shapes kept when the configuration does not.
const DefaultMaxEntries = 2000

// maxText bounds the fingerprint text kept per entry.
const maxText = 1024

// Latency buckets: bucket i counts durations up to bucketBound(i), growing
// by 25% from 10µs (the last one is everything above ~2 hours).
const numBuckets = 96

func bucketBound(i int) time.Duration {
	return time.Duration(float64(10*time.Microsecond) * math.Pow(1.25, float64(i)))
}

func bucketOf(d time.Duration) int {
	if d <= 10*time.Microsecond {
		return 0
	}
	i := int(math.Ceil(math.Log(float64(d)/float64(10*time.Microsecond)) / math.Log(1.25)))
	return min(i, numBuckets-1)
}

// Entry is the statistics of one statement shape in one namespace.
type Entry struct {
	Namespace   string
	Digest      string
	Fingerprint string
	Count       int64
	Errors      int64
	Rows        int64
	Total       time.Duration
	Max         time.Duration
	FirstSeen   time.Time
	LastSeen    time.Time
	Routes      map[string]int64
	buckets     [numBuckets]int64
}

// Quantile estimates the q-quantile (0..1) of the latencies (the upper
// bound of the bucket it falls in, at most Max).
func (e *Entry) Quantile(q float64) time.Duration {
	if e.Count == 0 {
		return 0
	}
	want := int64(math.Ceil(q * float64(e.Count)))
	var seen int64
	for i, n := range e.buckets {
		seen += n
		if seen >= want {
			return min(bucketBound(i), e.Max)
		}
	}
	return e.Max
}

// Store holds the entries. It is safe for concurrent use.
type Store struct {
	mu      sync.Mutex
	max     int
	entries map[string]*Entry
	now     func() time.Time
}

// New returns a store keeping at most maxEntries shapes (0: the default).
func New(maxEntries int) *Store {
	if maxEntries <= 0 {
		maxEntries = DefaultMaxEntries
	}
	return &Store{max: maxEntries, entries: map[string]*Entry{}, now: time.Now}
}

// Fingerprint returns the normalised statement (literals as ?) and its
// digest.
func Fingerprint(sql string) (text, digest string) {
	n, d := parser.NormalizeDigest(sql)
	if len(n) > maxText {
		n = n[:maxText] + "..."
	}
	return n, d.String()
}

// Record adds one statement's outcome.
func (s *Store) Record(namespace, fingerprint, digest, route string, d time.Duration, rows int64, failed bool) {
	if s == nil {
		return
	}
	key := namespace + "\x00" + digest
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.entries[key]
	if e == nil {
		if len(s.entries) >= s.max {
			s.evict()
		}
		e = &Entry{Namespace: namespace, Digest: digest, Fingerprint: fingerprint, FirstSeen: now, Routes: map[string]int64{}}
		s.entries[key] = e
	}
	e.Count++
	if failed {
		e.Errors++
	}
	e.Rows += rows
	e.Total += d
	e.Max = max(e.Max, d)
	e.LastSeen = now
	e.Routes[route]++
	e.buckets[bucketOf(d)]++
}

// evict drops the least recently seen tenth of the entries; called with
// s.mu held.
func (s *Store) evict() {
	all := make([]*Entry, 0, len(s.entries))
	for _, e := range s.entries {
		all = append(all, e)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].LastSeen.Before(all[j].LastSeen) })
	for _, e := range all[:max(1, len(all)/10)] {
		delete(s.entries, e.Namespace+"\x00"+e.Digest)
	}
}

// Sorts accepted by Top.
var Sorts = []string{"total_time", "count", "errors", "rows", "avg_time", "p99", "max_time", "last_seen"}

// Top returns copies of the n entries with the largest value of sort
// (total_time when unknown), optionally of one namespace.
func (s *Store) Top(sortBy, namespace string, n int) []Entry {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	out := make([]Entry, 0, len(s.entries))
	for _, e := range s.entries {
		if namespace != "" && e.Namespace != namespace {
			continue
		}
		c := *e
		c.Routes = make(map[string]int64, len(e.Routes))
		for k, v := range e.Routes {
			c.Routes[k] = v
		}
		out = append(out, c)
	}
	s.mu.Unlock()
	key := func(e *Entry) float64 {
		switch sortBy {
		case "count":
			return float64(e.Count)
		case "errors":
			return float64(e.Errors)
		case "rows":
			return float64(e.Rows)
		case "avg_time":
			return float64(e.Total) / float64(max(e.Count, 1))
		case "p99":
			return float64(e.Quantile(0.99))
		case "max_time":
			return float64(e.Max)
		case "last_seen":
			return float64(e.LastSeen.UnixNano())
		}
		return float64(e.Total)
	}
	sort.SliceStable(out, func(i, j int) bool {
		ki, kj := key(&out[i]), key(&out[j])
		if ki != kj {
			return ki > kj
		}
		return strings.Compare(out[i].Digest, out[j].Digest) < 0
	})
	if n > 0 && len(out) > n {
		out = out[:n]
	}
	return out
}

// Reset forgets every entry.
func (s *Store) Reset() {
	s.mu.Lock()
	s.entries = map[string]*Entry{}
	s.mu.Unlock()
}
