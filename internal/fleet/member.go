package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"

	"github.com/switchyard-db/switchyard/internal/admin"
	"github.com/switchyard-db/switchyard/internal/proxy"
)

// Options configure a proxy in etcd mode.
type Options struct {
	// Endpoints are etcd's, comma separated.
	Endpoints string
	// Cluster names the fleet (/switchyard/<cluster>/...).
	Cluster string
	// ConfigFile is the local file: proxy-local settings.
	ConfigFile string
	// Secret decrypts passwords stored encrypted (may be nil).
	Secret *Secret
	Log    *slog.Logger
	// Version is reported in the registration.
	Version string
	// LeaseTTL is the registration lease's time to live (default 5 s).
	LeaseTTL time.Duration
	// HealthInterval is how often etcd's reachability is checked
	// (default 1 s).
	HealthInterval time.Duration
}

// closeGrace bounds how long Close waits for etcd calls before it closes
// the client under them.
const closeGrace = 3 * time.Second

// Member is a proxy running in a fleet.
type Member struct {
	o      Options
	cli    *clientv3.Client
	p      *proxy.Proxy
	src    *Source
	id     string
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	closeOnce sync.Once
	closeErr  error

	up      prometheus.Gauge
	mu      sync.Mutex
	healthy bool
	leader  bool
}

// ProxyInfo is a live proxy's registration (GET /api/proxies).
type ProxyInfo struct {
	ID       string    `json:"id"`
	Version  string    `json:"version"`
	Address  string    `json:"address"`
	Admin    string    `json:"admin,omitempty"`
	Revision int64     `json:"config_revision"`
	Started  time.Time `json:"started"`
	Leader   bool      `json:"leader"`
}

// Start connects to etcd, builds the proxy from the local file and the
// namespaces in etcd, starts it, and keeps it in step with etcd.
func Start(o Options) (*Member, error) {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = 5 * time.Second
	}
	if o.HealthInterval <= 0 {
		o.HealthInterval = time.Second
	}
	if o.Cluster == "" {
		return nil, errors.New("--cluster NAME is required with --etcd")
	}
	local, err := os.ReadFile(o.ConfigFile)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	cli, err := Dial(o.Endpoints)
	if err != nil {
		return nil, err
	}
	m := &Member{o: o, cli: cli, healthy: true}
	m.src = &Source{Store: &Store{Client: cli, Cluster: o.Cluster}, Local: local, LocalName: o.ConfigFile, Secret: o.Secret, Log: o.Log}
	ctx, cancel := context.WithTimeout(context.Background(), DialTimeout)
	cfg, rev, err := m.src.Load(ctx)
	cancel()
	if err != nil {
		cli.Close()
		return nil, err
	}
	p, err := proxy.New(cfg, o.Log)
	if err != nil {
		cli.Close()
		return nil, err
	}
	m.p = p
	p.SetRevision(rev)
	p.SetReloader(m.src.Reload, fmt.Sprintf("etcd %s cluster %s", o.Endpoints, o.Cluster))
	m.src.SetTarget(p)
	m.up = prometheus.NewGauge(prometheus.GaugeOpts{Name: "switchyard_etcd_up", Help: "1 while etcd is reachable; 0 in degraded mode (last configuration, local monitor)."})
	m.up.Set(1)
	_ = p.Metrics().Registry.Register(m.up)
	p.HandleAdmin("GET /api/proxies", http.HandlerFunc(m.handleProxies))
	m.registerConsole()
	m.ctx, m.cancel = context.WithCancel(context.Background())
	// Followers until elected; the leader publishes its decisions.
	p.Monitor().SetFollower(true)
	p.Monitor().OnDecide(m.publish)
	p.SetSwitchoverGuard(m.switchoverGuard)
	if err := p.Start(); err != nil {
		m.cancel()
		cli.Close()
		return nil, err
	}
	host, _ := os.Hostname()
	m.id = host + "_" + p.Addr().String()
	m.wg.Add(4)
	go func() { defer m.wg.Done(); m.follow() }()
	go func() { defer m.wg.Done(); m.src.Watch(m.ctx, rev) }()
	go func() { defer m.wg.Done(); m.health() }()
	go func() { defer m.wg.Done(); m.register() }()
	return m, nil
}

// Proxy returns the member's proxy.
func (m *Member) Proxy() *proxy.Proxy { return m.p }

// Close leaves the fleet (the registration goes at once) and stops the proxy.
func (m *Member) Close() error {
	m.closeOnce.Do(func() { m.closeErr = m.close() })
	return m.closeErr
}

func (m *Member) close() error {
	m.cancel()
	done := make(chan struct{})
	go func() { m.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(closeGrace):
		// etcd is unreachable and a call waits for it (the election's
		// resignation uses the client's own context): closing the client
		// ends it.
		m.cli.Close()
		<-done
	}
	err := m.p.Close()
	m.cli.Close()
	return err
}

func (m *Member) proxiesPrefix() string { return Prefix(m.o.Cluster) + "proxies/" }

// info is the member's registration value.
func (m *Member) info() ProxyInfo {
	inf := ProxyInfo{ID: m.id, Version: m.o.Version, Address: m.p.Addr().String(), Revision: m.p.Revision(), Started: m.p.Started()}
	if a := m.p.AdminAddr(); a != nil {
		inf.Admin = a.String()
	}
	m.mu.Lock()
	inf.Leader = m.leader
	m.mu.Unlock()
	return inf
}

// register keeps the member's key alive under a lease, re-registering
// after etcd comes back, and updates it when the applied revision changes.
func (m *Member) register() {
	for m.ctx.Err() == nil {
		sess, err := concurrency.NewSession(m.cli, concurrency.WithTTL(int(m.o.LeaseTTL.Seconds())), concurrency.WithContext(m.ctx))
		if err != nil {
			m.sleep(500 * time.Millisecond)
			continue
		}
		done := make(chan struct{})
		go func() { defer close(done); m.campaign(sess) }()
		m.serveSession(sess)
		<-done
		if m.ctx.Err() != nil {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			_, _ = m.cli.Revoke(ctx, sess.Lease())
			cancel()
		}
		sess.Close()
	}
}

// serveSession registers under sess's lease and refreshes the value until
// the lease is lost or the member stops.
func (m *Member) serveSession(sess *concurrency.Session) {
	key := m.proxiesPrefix() + m.id
	var last ProxyInfo
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		inf := m.info()
		if inf != last {
			b, _ := json.Marshal(inf)
			ctx, cancel := context.WithTimeout(m.ctx, 2*time.Second)
			_, err := m.cli.Put(ctx, key, string(b), clientv3.WithLease(sess.Lease()))
			cancel()
			if err == nil {
				last = inf
			}
		}
		select {
		case <-m.ctx.Done():
			return
		case <-sess.Done():
			return
		case <-t.C:
		}
	}
}

// health checks etcd's reachability: while it is unreachable the proxy is
// in degraded mode (it keeps its last configuration and its own monitor).
func (m *Member) health() {
	t := time.NewTicker(m.o.HealthInterval)
	defer t.Stop()
	for {
		select {
		case <-m.ctx.Done():
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(m.ctx, m.o.HealthInterval)
		_, err := m.cli.Get(ctx, Prefix(m.o.Cluster)+"health", clientv3.WithCountOnly())
		cancel()
		if m.ctx.Err() != nil {
			return
		}
		m.mu.Lock()
		was := m.healthy
		m.healthy = err == nil
		m.mu.Unlock()
		switch {
		case was && err != nil:
			m.up.Set(0)
			m.p.Monitor().SetFollower(false)
			m.o.Log.Error("etcd unreachable: degraded mode, serving with the last configuration and the local monitor", "cluster", m.o.Cluster, "revision", m.p.Revision(), "err", err)
		case !was && err == nil:
			m.up.Set(1)
			m.p.Monitor().SetFollower(!m.IsLeader())
			m.o.Log.Warn("etcd reachable again: leaving degraded mode", "cluster", m.o.Cluster)
			_ = m.src.Reload()
		}
	}
}

// Healthy reports whether etcd was reachable at the last check.
func (m *Member) Healthy() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.healthy
}

func (m *Member) sleep(d time.Duration) {
	select {
	case <-m.ctx.Done():
	case <-time.After(d):
	}
}

// Proxies lists the live proxies of the cluster.
func (m *Member) Proxies(ctx context.Context) ([]ProxyInfo, error) {
	resp, err := m.cli.Get(ctx, m.proxiesPrefix(), clientv3.WithPrefix())
	if err != nil {
		return nil, err
	}
	out := []ProxyInfo{}
	for _, kv := range resp.Kvs {
		var inf ProxyInfo
		if json.Unmarshal(kv.Value, &inf) == nil {
			out = append(out, inf)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Address < out[j].Address })
	return out, nil
}

// handleProxies serves GET /api/proxies.
func (m *Member) handleProxies(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	list, err := m.Proxies(ctx)
	if err != nil {
		admin.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "etcd unreachable: " + err.Error()})
		return
	}
	admin.WriteJSON(w, http.StatusOK, list)
}
