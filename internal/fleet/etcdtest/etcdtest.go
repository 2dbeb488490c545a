// Package etcdtest starts a real etcd server (go.etcd.io/etcd/server/v3
// embed) on 127.0.0.1 for tests.
package etcdtest

import (
	"net/url"
	"testing"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// Server is a running etcd.
type Server struct {
	e   *embed.Etcd
	cfg *embed.Config
	// Endpoint is the client URL (http://127.0.0.1:PORT).
	Endpoint string
}

// Start starts a single-member etcd in a temporary directory on free
// ports of 127.0.0.1; it stops when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	cfg := embed.NewConfig()
	cfg.Dir = t.TempDir()
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	cfg.LogLevel = "error"
	c, _ := url.Parse("http://127.0.0.1:0")
	p, _ := url.Parse("http://127.0.0.1:0")
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{*c}, []url.URL{*c}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{*p}, []url.URL{*p}
	cfg.InitialCluster = cfg.Name + "=" + p.String()
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		t.Fatalf("etcd: %v", err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(30 * time.Second):
		e.Close()
		t.Fatal("etcd did not become ready in 30s")
	}
	s := &Server{e: e, cfg: cfg, Endpoint: "http://" + e.Clients[0].Addr().String()}
	// Restart binds the same addresses.
	c2, _ := url.Parse(s.Endpoint)
	p2, _ := url.Parse("http://" + e.Peers[0].Addr().String())
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{*c2}, []url.URL{*c2}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{*p2}, []url.URL{*p2}
	cfg.InitialCluster = cfg.Name + "=" + p2.String()
	t.Cleanup(s.Stop)
	return s
}

// Restart starts the stopped server again on the same addresses and data.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	e, err := embed.StartEtcd(s.cfg)
	if err != nil {
		t.Fatalf("etcd restart: %v", err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(30 * time.Second):
		e.Close()
		t.Fatal("etcd did not become ready in 30s")
	}
	s.e = e
}

// Stop stops the server (idempotent).
func (s *Server) Stop() {
	if s.e != nil {
		s.e.Close()
		s.e = nil
	}
}
