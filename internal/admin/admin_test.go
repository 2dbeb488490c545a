package admin

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-db/switchyard/internal/config"
	"github.com/switchyard-db/switchyard/internal/metrics"
)

type fakeSource struct{ status any }

func (f fakeSource) Status() any { return f.status }

type testStatus struct {
	Namespaces []string `json:"namespaces"`
	Clients    int      `json:"clients"`
}

func newTestServer(t *testing.T, cfg config.Admin, src Source) (*Server, *metrics.Metrics) {
	t.Helper()
	m := metrics.New()
	m.Namespace("shop").ObserveQuery(metrics.QuerySelect, metrics.RouteReplica, time.Millisecond, false)
	return New(cfg, m, src, nil), m
}

func TestRoutes(t *testing.T) {
	cfg := config.Admin{Listen: "127.0.0.1:0", User: "admin", Password: "s3cret"}
	src := fakeSource{status: testStatus{Namespaces: []string{"shop"}, Clients: 3}}
	tests := []struct {
		name       string
		method     string
		path       string
		user, pass string // empty user: no Authorization header
		wantCode   int
		wantBody   string // substring
		wantHeader map[string]string
	}{
		{"healthz", "GET", "/healthz", "", "", 200, "ok", map[string]string{"Content-Type": "text/plain; charset=utf-8"}},
		{"healthz ignores bad auth", "GET", "/healthz", "x", "y", 200, "ok", nil},
		{"metrics without auth", "GET", "/metrics", "", "", 200, `switchyard_queries_total{namespace="shop",route="replica",type="select"} 1`, nil},
		{"metrics has go collector", "GET", "/metrics", "", "", 200, "go_goroutines", nil},
		{"status without auth", "GET", "/api/status", "", "", 401, "unauthorized", map[string]string{"WWW-Authenticate": `Basic realm="switchyard admin", charset="UTF-8"`}},
		{"status wrong password", "GET", "/api/status", "admin", "nope", 401, "unauthorized", nil},
		{"status wrong user", "GET", "/api/status", "root", "s3cret", 401, "unauthorized", nil},
		{"status password prefix", "GET", "/api/status", "admin", "s3cre", 401, "unauthorized", nil},
		{"status ok", "GET", "/api/status", "admin", "s3cret", 200, `"namespaces": [`, map[string]string{"Content-Type": "application/json"}},
		{"unknown api path needs auth first", "GET", "/api/nope", "", "", 401, "", nil},
		{"unknown api path", "GET", "/api/nope", "admin", "s3cret", 404, "", nil},
		{"unknown path", "GET", "/nope", "", "", 404, "", nil},
		{"healthz wrong method", "POST", "/healthz", "", "", 405, "", nil},
	}
	s, _ := newTestServer(t, cfg, src)
	ts := httptest.NewServer(s.srv.Handler)
	defer ts.Close()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, ts.URL+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.user != "" {
				req.SetBasicAuth(tt.user, tt.pass)
			}
			resp, err := ts.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.wantCode {
				t.Errorf("status %d, want %d (body %q)", resp.StatusCode, tt.wantCode, body)
			}
			if !strings.Contains(string(body), tt.wantBody) {
				t.Errorf("body %q does not contain %q", body, tt.wantBody)
			}
			for k, v := range tt.wantHeader {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestHealthzBodyIsExactlyOK(t *testing.T) {
	s, _ := newTestServer(t, config.Admin{}, nil)
	rec := httptest.NewRecorder()
	s.srv.Handler.ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
	if rec.Code != 200 || rec.Body.String() != "ok" {
		t.Errorf("GET /healthz = %d %q, want 200 \"ok\"", rec.Code, rec.Body.String())
	}
}

func TestStatusJSON(t *testing.T) {
	tests := []struct {
		name     string
		src      Source
		wantCode int
		want     testStatus
	}{
		{"snapshot", fakeSource{status: testStatus{Namespaces: []string{"shop", "blog"}, Clients: 7}}, 200, testStatus{Namespaces: []string{"shop", "blog"}, Clients: 7}},
		{"nil source", nil, 503, testStatus{}},
		{"unencodable", fakeSource{status: map[string]any{"f": func() {}}}, 500, testStatus{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newTestServer(t, config.Admin{User: "a", Password: "b"}, tt.src)
			req := httptest.NewRequest("GET", "/api/status", nil)
			req.SetBasicAuth("a", "b")
			rec := httptest.NewRecorder()
			s.srv.Handler.ServeHTTP(rec, req)
			if rec.Code != tt.wantCode {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.wantCode, rec.Body)
			}
			if tt.wantCode != 200 {
				return
			}
			var got testStatus
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatalf("decode %q: %v", rec.Body, err)
			}
			if strings.Join(got.Namespaces, ",") != strings.Join(tt.want.Namespaces, ",") || got.Clients != tt.want.Clients {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestNoAdminUserDisablesAPI(t *testing.T) {
	tests := []struct {
		name       string
		user, pass string
		setAuth    bool
	}{
		{"no credentials", "", "", false},
		{"empty credentials", "", "", true},
		{"guessed credentials", "admin", "admin", true},
	}
	s, _ := newTestServer(t, config.Admin{}, fakeSource{status: 1})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/api/status", nil)
			if tt.setAuth {
				req.SetBasicAuth(tt.user, tt.pass)
			}
			rec := httptest.NewRecorder()
			s.srv.Handler.ServeHTTP(rec, req)
			if rec.Code != 401 || !strings.Contains(rec.Body.String(), "admin API disabled") {
				t.Errorf("got %d %q, want 401 admin API disabled", rec.Code, rec.Body)
			}
		})
	}
}

func TestHandle(t *testing.T) {
	s, _ := newTestServer(t, config.Admin{User: "a", Password: "b"}, nil)
	s.Handle("POST /api/reload", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		WriteJSON(w, http.StatusAccepted, map[string]string{"result": "reloaded"})
	}))
	s.Handle("/api/pools", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "pools")
	}))
	tests := []struct {
		name     string
		method   string
		path     string
		auth     bool
		wantCode int
		wantBody string
	}{
		{"added route with auth", "POST", "/api/reload", true, 202, `"result": "reloaded"`},
		{"added route without auth", "POST", "/api/reload", false, 401, "unauthorized"},
		{"any method route", "DELETE", "/api/pools", true, 200, "pools"},
		{"any method route without auth", "GET", "/api/pools", false, 401, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.path, nil)
			if tt.auth {
				req.SetBasicAuth("a", "b")
			}
			rec := httptest.NewRecorder()
			s.srv.Handler.ServeHTTP(rec, req)
			if rec.Code != tt.wantCode || !strings.Contains(rec.Body.String(), tt.wantBody) {
				t.Errorf("got %d %q, want %d containing %q", rec.Code, rec.Body, tt.wantCode, tt.wantBody)
			}
		})
	}

	for _, bad := range []string{"/metrics2", "GET /status", "GET /apiary", "/api", "/consoles", "GET /console"} {
		t.Run("rejects "+bad, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("Handle(%q) did not panic", bad)
				}
			}()
			s.Handle(bad, http.NotFoundHandler())
		})
	}
}

func TestStartServeClose(t *testing.T) {
	s, _ := newTestServer(t, config.Admin{Listen: "127.0.0.1:0", User: "a", Password: "b"}, fakeSource{status: map[string]int{"clients": 2}})
	if s.Addr() != nil {
		t.Error("Addr before Start is not nil")
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err == nil {
		t.Error("second Start succeeded")
	}
	addr := s.Addr()
	if addr == nil {
		t.Fatal("Addr is nil after Start")
	}
	base := "http://" + addr.String()

	resp, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "ok" {
		t.Errorf("healthz = %d %q", resp.StatusCode, body)
	}

	req, _ := http.NewRequest("GET", base+"/api/status", nil)
	req.SetBasicAuth("a", "b")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"clients": 2`) {
		t.Errorf("status = %d %q", resp.StatusCode, body)
	}

	// A route added after Start is served.
	s.Handle("GET /api/late", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "late") }))
	req, _ = http.NewRequest("GET", base+"/api/late", nil)
	req.SetBasicAuth("a", "b")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "late" {
		t.Errorf("late route = %d %q", resp.StatusCode, body)
	}

	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := net.DialTimeout("tcp", addr.String(), time.Second); err == nil {
		t.Error("still accepting connections after Close")
	}
	if err := s.Start(); err == nil {
		t.Error("Start after Close succeeded")
	}
}

func TestStartErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	tests := []struct {
		name   string
		listen string
	}{
		{"address in use", busy.Addr().String()},
		{"bad address", "127.0.0.1:notaport"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(config.Admin{Listen: tt.listen}, nil, nil, nil)
			if err := s.Start(); err == nil {
				s.Close()
				t.Fatalf("Start on %q succeeded", tt.listen)
			}
			if err := s.Close(); err != nil {
				t.Errorf("Close after failed Start: %v", err)
			}
		})
	}
}

func TestCloseBeforeStart(t *testing.T) {
	s := New(config.Admin{Listen: "127.0.0.1:0"}, nil, nil, nil)
	if err := s.Close(); err != nil {
		t.Errorf("Close before Start: %v", err)
	}
}

func TestNoMetrics(t *testing.T) {
	s := New(config.Admin{}, nil, nil, nil)
	rec := httptest.NewRecorder()
	s.srv.Handler.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 404 {
		t.Errorf("GET /metrics without metrics = %d, want 404", rec.Code)
	}
}
