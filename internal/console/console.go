// Package console serves Switchyard's web console: server-rendered HTML
// pages on the admin listener (behind the admin credentials) showing the
// fleet, namespaces, nodes, traffic, query digests, in-doubt XA
// transactions, the global-table check and the configuration, with a
// planned switchover form. Templates and assets are embedded, so the
// console needs no network beyond the proxy.
package console

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"io/fs"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyard-db/switchyard/internal/digest"
	"github.com/switchyard-db/switchyard/internal/globalcheck"
	"github.com/switchyard-db/switchyard/internal/monitor"
	"github.com/switchyard-db/switchyard/internal/xa"
)

// Prefix is the URL path under which the console is served.
const Prefix = "/console/"

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// ProxyInfo describes one proxy of the fleet.
type ProxyInfo struct {
	ID       string
	Version  string
	Address  string
	Admin    string
	Revision int64
	Started  time.Time
	Leader   bool
}

// ConfigInfo is the configuration state (GET /api/config).
type ConfigInfo struct {
	Source            string
	Revision          int64
	Generation        uint64
	AppliedAt         time.Time
	Namespaces        []string
	LastError         string
	LastErrorAt       time.Time
	LastErrorRevision int64
	Draining          int
	Applied, Rejected int64
}

// Options are the console's data sources; the proxy fills them from the
// same functions its /api/ endpoints use. Nil functions hide their part.
type Options struct {
	// Self describes this proxy.
	Self func() ProxyInfo
	// Config reports the configuration state.
	Config func() ConfigInfo
	// Nodes is the monitor's view of every node.
	Nodes func() []monitor.NodeState
	// Gatherer is the metrics registry (per-namespace traffic is read
	// from switchyard_queries_total, _query_errors_total and
	// _query_duration_seconds).
	Gatherer prometheus.Gatherer
	// Digests is the query digest store (nil when disabled).
	Digests *digest.Store
	// PendingXA lists in-doubt XA transactions per namespace.
	PendingXA func(ctx context.Context) map[string][]xa.InDoubt
	// GlobalCheck compares the copies of global tables (namespace and
	// table may be empty: all).
	GlobalCheck func(ctx context.Context, namespace, table string) (*globalcheck.Report, error)
	// Switchover makes target the primary of a slice.
	Switchover func(ctx context.Context, namespace, slice, target string) (monitor.SwitchoverResult, error)
	// Reload re-reads the configuration source (POST /api/reload).
	Reload func() error
}

// Console is the web console's handler.
type Console struct {
	o    Options
	tmpl map[string]*template.Template
	key  []byte // CSRF token key, random per process

	mu      sync.Mutex
	proxies func(ctx context.Context) ([]ProxyInfo, error)
	diff    func(ctx context.Context, file []byte) (string, error)
	apply   func(ctx context.Context, file []byte) (string, error)
	last    map[string]sample // previous traffic sample per namespace

	checking sync.Mutex // one global-table check at a time
}

// New creates a console.
func New(o Options) *Console {
	c := &Console{o: o, key: make([]byte, 32), tmpl: map[string]*template.Template{}, last: map[string]sample{}}
	if _, err := rand.Read(c.key); err != nil {
		panic("console: no randomness: " + err.Error())
	}
	pages, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	for _, p := range pages {
		if p == "templates/layout.html" {
			continue
		}
		c.tmpl[p[len("templates/"):]] = template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", p))
	}
	return c
}

// SetProxies sets the fleet lister (etcd mode); without it the fleet is
// this proxy alone.
func (c *Console) SetProxies(f func(ctx context.Context) ([]ProxyInfo, error)) {
	c.mu.Lock()
	c.proxies = f
	c.mu.Unlock()
}

// SetDiff sets the config differ (etcd mode: what `config put` of a file
// would change).
func (c *Console) SetDiff(f func(ctx context.Context, file []byte) (string, error)) {
	c.mu.Lock()
	c.diff = f
	c.mu.Unlock()
}

// SetApply sets the config writer (etcd mode: `config put` of a file); it
// returns a summary of what it wrote.
func (c *Console) SetApply(f func(ctx context.Context, file []byte) (string, error)) {
	c.mu.Lock()
	c.apply = f
	c.mu.Unlock()
}

// token is the CSRF token forms carry: an HMAC of the form's purpose with
// a per-process random key. A page of another origin cannot read it.
func (c *Console) token(purpose string) string {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte(purpose))
	return hex.EncodeToString(m.Sum(nil))
}

func (c *Console) validToken(r *http.Request, purpose string) bool {
	got, err := hex.DecodeString(r.PostFormValue("token"))
	if err != nil {
		return false
	}
	want, _ := hex.DecodeString(c.token(purpose))
	return hmac.Equal(got, want)
}

// crossSite reports a browser-declared cross-site request.
func crossSite(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
		return false
	}
	return true
}

// Register adds the console's routes with handle (admin.Server.Handle,
// which puts them behind the admin credentials).
func (c *Console) Register(handle func(pattern string, h http.Handler)) {
	sub, _ := fs.Sub(assetFS, "assets")
	handle("GET "+Prefix+"assets/", http.StripPrefix(Prefix+"assets/", http.FileServerFS(sub)))
	handle("GET "+Prefix+"{$}", http.HandlerFunc(c.overview))
	handle("GET "+Prefix+"nodes", http.HandlerFunc(c.nodes))
	handle("GET "+Prefix+"traffic", http.HandlerFunc(c.traffic))
	handle("GET "+Prefix+"digests", http.HandlerFunc(c.digests))
	handle("GET "+Prefix+"xa", http.HandlerFunc(c.xaPage))
	handle("GET "+Prefix+"switchover", http.HandlerFunc(c.switchoverForm))
	handle("POST "+Prefix+"switchover", http.HandlerFunc(c.switchoverPost))
	handle("GET "+Prefix+"config", http.HandlerFunc(c.configPage))
	handle("POST "+Prefix+"config", http.HandlerFunc(c.configDiff))
}
