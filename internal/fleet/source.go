package fleet

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/switchyard-db/switchyard/internal/config"
)

func quietLogger() *zap.Logger { return zap.NewNop() }

// Target is what a Source applies configurations to (the proxy).
type Target interface {
	// Apply makes cfg the running configuration or rejects it (recording
	// and logging why).
	Apply(cfg *config.Config, rev int64) error
	// Reject records a change that could not even be built.
	Reject(rev int64, err error)
	// Revision is the applied revision.
	Revision() int64
}

// Source keeps a proxy's namespaces in step with etcd.
type Source struct {
	Store     *Store
	Local     []byte // the local file (proxy-local settings)
	LocalName string
	Secret    *Secret
	Log       *slog.Logger

	mu     sync.Mutex // one load/apply at a time
	target Target
}

// SetTarget sets what Reload and Watch apply configurations to.
func (s *Source) SetTarget(t Target) { s.target = t }

// Load reads the namespaces from etcd and composes the configuration.
func (s *Source) Load(ctx context.Context) (*config.Config, int64, error) {
	nss, rev, err := s.Store.Get(ctx)
	if err != nil {
		return nil, 0, &unreachableError{err}
	}
	cfg, err := Compose(s.Local, s.LocalName, nss, s.Secret)
	return cfg, rev, err
}

// unreachableError is a failure to read etcd (not a bad configuration).
type unreachableError struct{ err error }

func (e *unreachableError) Error() string { return "reading namespaces from etcd: " + e.err.Error() }
func (e *unreachableError) Unwrap() error { return e.err }

// Reload reads etcd again and applies what it holds (POST /api/reload in
// etcd mode, and after every watched change).
func (s *Source) Reload() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cfg, rev, err := s.Load(ctx)
	var unreachable *unreachableError
	if errors.As(err, &unreachable) {
		return err
	}
	if err != nil {
		s.target.Reject(rev, err)
		return err
	}
	if rev <= s.target.Revision() && rev != 0 {
		return nil // already applied (or newer)
	}
	return s.target.Apply(cfg, rev)
}

// Watch applies every change of the namespaces until ctx ends. It starts
// after revision rev (the one applied at start). While etcd is
// unreachable the proxy keeps its configuration; the watch resumes (and
// catches up) when etcd is back.
func (s *Source) Watch(ctx context.Context, rev int64) {
	t := s.target
	for ctx.Err() == nil {
		wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
		wch := s.Store.Client.Watch(wctx, s.Store.nsPrefix(), clientv3.WithPrefix(), clientv3.WithRev(rev+1))
		for resp := range wch {
			if err := resp.Err(); err != nil {
				s.Log.Warn("etcd watch of the namespaces ended; reading them again", "err", err)
				break
			}
			if len(resp.Events) == 0 {
				continue
			}
			_ = s.Reload()
			rev = max(rev, resp.Header.Revision)
		}
		cancel()
		// Catch up on what happened while the watch was down.
		if err := s.Reload(); err == nil {
			rev = max(rev, t.Revision())
		}
		select {
		case <-ctx.Done():
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func quietSlog() *slog.Logger { return slog.New(slog.DiscardHandler) }
