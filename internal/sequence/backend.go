package sequence

import (
	"context"
	"sync"
	"time"

	"github.com/switchyard-db/switchyard/internal/backend"
	"github.com/switchyard-db/switchyard/internal/protocol"
)

// ForConn adapts one backend connection, which the returned functions then
// own: they serialize their calls, bound each by ctx (a deadline or a
// cancellation breaks the connection) and record LAST_INSERT_ID() changes
// in c.LastInsertID. Use it for a dedicated connection; once broken
// (c.Broken()), every call fails.
func ForConn(c *backend.Conn) (Execer, Querier) {
	var mu sync.Mutex
	exec := func(ctx context.Context, sql string) (protocol.OK, error) {
		mu.Lock()
		defer mu.Unlock()
		return execOn(ctx, c, sql)
	}
	query := func(ctx context.Context, sql string) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		return queryOn(ctx, c, sql)
	}
	return exec, query
}

// ForPool adapts a backend pool (of the primary of the slice holding the
// sequence table): each call takes a connection and puts it back.
func ForPool(p *backend.Pool) (Execer, Querier) {
	exec := func(ctx context.Context, sql string) (protocol.OK, error) {
		c, err := p.Get(ctx)
		if err != nil {
			return protocol.OK{}, err
		}
		defer p.Put(c)
		return execOn(ctx, c, sql)
	}
	query := func(ctx context.Context, sql string) (string, error) {
		c, err := p.Get(ctx)
		if err != nil {
			return "", err
		}
		defer p.Put(c)
		return queryOn(ctx, c, sql)
	}
	return exec, query
}

func execOn(ctx context.Context, c *backend.Conn, sql string) (ok protocol.OK, err error) {
	err = withCtx(ctx, c, func() error {
		ok, err = c.Exec(sql)
		return err
	})
	if err == nil && ok.LastInsertID != 0 {
		// Sessions resynchronize LAST_INSERT_ID() from this field.
		c.LastInsertID = ok.LastInsertID
	}
	return ok, err
}

func queryOn(ctx context.Context, c *backend.Conn, sql string) (v string, err error) {
	err = withCtx(ctx, c, func() error {
		_, rows, err := c.QueryRows(sql)
		if err == nil && len(rows) > 0 && len(rows[0]) > 0 {
			v = rows[0][0]
		}
		return err
	})
	return v, err
}

// withCtx runs f with c's deadlines following ctx.
func withCtx(ctx context.Context, c *backend.Conn, f func() error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	nc := c.Conn.Conn
	if dl, ok := ctx.Deadline(); ok {
		_ = nc.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = nc.SetDeadline(time.Unix(1, 0)) })
	err := f()
	if !stop() {
		// ctx ended during f (or right after): the exchange may be cut
		// short and the deadline is in the past.
		c.MarkBroken()
		if err != nil {
			err = ctx.Err()
		}
		return err
	}
	_ = nc.SetDeadline(time.Time{})
	return err
}
