// Package admin serves Switchyard's admin HTTP endpoints: health checks,
// Prometheus metrics and the authenticated JSON API under /api/.
//
// Routes:
//
//	GET /healthz     200 "ok" (no authentication)
//	GET /metrics     Prometheus exposition of metrics.Metrics.Registry (no authentication)
//	GET /api/status  JSON of Source.Status() (HTTP basic auth)
//	/api/...         further endpoints added with Server.Handle (HTTP basic auth)
//	/console/...     the web console's pages, added with Server.Handle (HTTP basic auth)
package admin

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/switchyard-db/switchyard/internal/config"
	"github.com/switchyard-db/switchyard/internal/metrics"
)

// ShutdownTimeout bounds how long Close waits for in-flight requests.
const ShutdownTimeout = 3 * time.Second

// Source gives the admin API its data; the proxy implements it.
type Source interface {
	// Status returns a JSON-able snapshot for GET /api/status
	// (namespaces, slices, nodes, pools, client connections).
	Status() any
}

// Server is the admin HTTP server.
type Server struct {
	cfg config.Admin
	log *slog.Logger
	mux *http.ServeMux
	srv *http.Server

	// Precomputed digests of the expected credentials, so that the
	// comparison is constant-time regardless of the supplied lengths.
	userSum, passSum [sha256.Size]byte

	mu     sync.Mutex
	ln     net.Listener
	done   chan struct{}
	closed bool
}

// New creates an admin server for cfg; m may be nil (no /metrics route) and
// log may be nil (discard). Routes can be added with Handle before or after
// Start.
func New(cfg config.Admin, m *metrics.Metrics, src Source, log *slog.Logger) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		cfg:     cfg,
		log:     log,
		mux:     http.NewServeMux(),
		userSum: sha256.Sum256([]byte(cfg.User)),
		passSum: sha256.Sum256([]byte(cfg.Password)),
	}
	s.srv = &http.Server{
		Handler:           s.logRequests(s.mux),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       60 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}

	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok"))
	})
	if m != nil {
		s.mux.Handle("GET /metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{
			ErrorLog:      slog.NewLogLogger(log.Handler(), slog.LevelWarn),
			ErrorHandling: promhttp.ContinueOnError,
		}))
	}
	// Unknown /api/ paths answer 404 only after authentication, so that
	// the set of endpoints is not visible to anonymous clients.
	s.mux.Handle("/api/", s.authenticate(http.NotFoundHandler()))
	s.mux.Handle("/console/", s.authenticate(http.NotFoundHandler()))
	s.Handle("GET /api/status", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if src == nil {
			http.Error(w, "status unavailable", http.StatusServiceUnavailable)
			return
		}
		WriteJSON(w, http.StatusOK, src.Status())
	}))
	return s
}

// Handle registers h for pattern behind HTTP basic auth. pattern uses
// http.ServeMux syntax with an optional method ("GET /api/pools",
// "POST /api/reload") and its path must start with /api/ (or /console/ for
// the web console's pages). Handle panics on
// an invalid or duplicate pattern, like http.ServeMux.Handle. It is safe to
// call concurrently with serving.
func (s *Server) Handle(pattern string, h http.Handler) {
	path := pattern
	if i := strings.IndexByte(pattern, ' '); i >= 0 {
		path = strings.TrimLeft(pattern[i:], " \t")
	}
	if !strings.HasPrefix(path, "/api/") && !strings.HasPrefix(path, "/console/") {
		panic(fmt.Sprintf("admin: Handle(%q): path must start with /api/ or /console/", pattern))
	}
	s.mux.Handle(pattern, s.authenticate(h))
}

// WriteJSON writes v as indented JSON with the given status code; encoding
// failures produce a 500. Handlers added with Handle may use it.
func WriteJSON(w http.ResponseWriter, code int, v any) {
	body, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		http.Error(w, "encoding response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(append(body, '\n'))
}

// authenticate wraps h with HTTP basic auth against cfg.User/cfg.Password.
// With no admin user configured every request is refused.
func (s *Server) authenticate(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok || !s.checkCredentials(user, pass) {
			w.Header().Set("WWW-Authenticate", `Basic realm="switchyard admin", charset="UTF-8"`)
			msg := "unauthorized"
			if s.cfg.User == "" {
				msg = "admin API disabled: set admin.user and admin.password"
			}
			http.Error(w, msg, http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func (s *Server) checkCredentials(user, pass string) bool {
	u := sha256.Sum256([]byte(user))
	p := sha256.Sum256([]byte(pass))
	userOK := subtle.ConstantTimeCompare(u[:], s.userSum[:])
	passOK := subtle.ConstantTimeCompare(p[:], s.passSum[:])
	return userOK&passOK == 1 && s.cfg.User != ""
}

// statusWriter records the status code for request logging.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (s *Server) logRequests(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.log.Enabled(r.Context(), slog.LevelDebug) {
			h.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(sw, r)
		s.log.Debug("admin request", "method", r.Method, "path", r.URL.Path,
			"status", sw.code, "remote", r.RemoteAddr, "duration", time.Since(start))
	})
}

// Start listens on cfg.Listen and serves in the background. Listen errors
// are returned synchronously. A Server can be started once.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("admin: server closed")
	}
	if s.ln != nil {
		return errors.New("admin: server already started")
	}
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("admin: listen: %w", err)
	}
	s.ln = ln
	s.done = make(chan struct{})
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("admin server stopped", "err", err)
		}
	}()
	s.log.Info("admin server listening", "addr", ln.Addr().String())
	return nil
}

// Addr returns the listening address, or nil before Start.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Close shuts the server down gracefully, waiting at most ShutdownTimeout
// for in-flight requests before closing their connections. It is safe to
// call more than once and before Start.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	started := s.ln != nil
	s.mu.Unlock()
	if !started {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = s.srv.Close()
	}
	<-s.done
	return err
}
