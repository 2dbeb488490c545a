package globalcheck

import (
	"context"
	"database/sql"
	"sync"
)

// maxCached bounds the statements one copy keeps prepared.
const maxCached = 32

// stmtCache runs the queries of the chunk walk as statements prepared once
// per copy (and connection) instead of once per chunk, which saves two
// round trips per query. It is a querier.
type stmtCache struct {
	db    *sql.DB
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, stmts: map[string]*sql.Stmt{}}
}

func (c *stmtCache) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.stmts[q]; s != nil {
		return s, nil
	}
	if len(c.stmts) >= maxCached {
		return nil, nil
	}
	s, err := c.db.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	c.stmts[q] = s
	return s, nil
}

// QueryContext runs q as a cached prepared statement when it has arguments.
func (c *stmtCache) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if len(args) > 0 {
		s, err := c.stmt(ctx, q)
		if err != nil {
			return nil, err
		}
		if s != nil {
			return s.QueryContext(ctx, args...)
		}
	}
	return c.db.QueryContext(ctx, q, args...)
}

// ExecContext runs q on the pool.
func (c *stmtCache) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return c.db.ExecContext(ctx, q, args...)
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, s := range c.stmts {
		s.Close()
		delete(c.stmts, q)
	}
}
