package session

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/switchyard-db/switchyard/internal/shard"
	"github.com/switchyard-db/switchyard/internal/topology"
)

// schemaCache holds the column types of ruled tables (SHOW FULL COLUMNS of
// their first physical table), which the router needs to convert key
// literals as MariaDB does. Entries live until the next DDL through the
// proxy.
type schemaCache struct {
	mu   sync.Mutex
	cols map[*shard.Table][]shard.Column
}

// cachedSchema returns t's cached column types, without I/O.
func (e *Env) cachedSchema(t *shard.Table) ([]shard.Column, bool) {
	e.schema.mu.Lock()
	defer e.schema.mu.Unlock()
	cols, ok := e.schema.cols[t]
	return cols, ok
}

// schemaOf returns t's columns and types from the cache, reading them
// (SHOW FULL COLUMNS of its first physical table) on a miss.
func (e *Env) schemaOf(ns *topology.Namespace, t *shard.Table) ([]shard.Column, error) {
	c := &e.schema
	c.mu.Lock()
	cols, ok := c.cols[t]
	c.mu.Unlock()
	if ok {
		return cols, nil
	}
	cols, err := e.readSchema(ns, t)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.cols == nil {
		c.cols = map[*shard.Table][]shard.Column{}
	}
	c.cols[t] = cols
	c.mu.Unlock()
	return cols, nil
}

func (e *Env) readSchema(ns *topology.Namespace, t *shard.Table) ([]shard.Column, error) {
	x := t.All()[0]
	slice := ns.Slices[x.Slice]
	node, err := slice.WaitPrimary(context.Background(), e.FailoverHold)
	if err != nil {
		return nil, err
	}
	pool := node.Pool(false)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := plainConn(ctx, pool)
	if err != nil {
		return nil, err
	}
	q := "SHOW FULL COLUMNS FROM `" + strings.ReplaceAll(x.Database, "`", "``") + "`.`" + strings.ReplaceAll(x.Table, "`", "``") + "`"
	_, rows, err := conn.QueryRows(q)
	pool.Put(conn)
	if err != nil {
		return nil, err
	}
	// Field, Type, Collation, Null, Key, Default, Extra, Privileges, Comment
	cols := make([]shard.Column, 0, len(rows))
	for _, r := range rows {
		if len(r) < 7 {
			continue
		}
		cols = append(cols, shard.ParseColumn(r[0], r[1], r[2], r[5], r[6]))
	}
	return cols, nil
}

// forgetSchema drops the cached column types (after DDL).
func (e *Env) forgetSchema() {
	e.schema.mu.Lock()
	e.schema.cols = nil
	e.schema.mu.Unlock()
	// Plans were made with the old column types.
	e.plans.clear()
}
