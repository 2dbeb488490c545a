package session

import (
	"sync"

	"github.com/switchyard-db/switchyard/internal/router"
	"github.com/switchyard-db/switchyard/internal/shard"
)

// The plan cache keeps the plans of statements on tables with sharding
// rules, so that a statement sent again (by the text protocol, or as an
// execution of a statement the proxy prepared, with the same values) is
// not parsed and planned again.
//
// Its key is the statement's exact text, the session's database and the
// namespace's rules: a plan depends on the values in the statement (the
// key's value places the row), so statements that differ only in their
// literals (one digest) cannot share a plan. Statements whose placement
// follows one key parameter are prepared on the backend instead
// (router.Template) and planned once, at prepare.
//
// A plan is cached only when it is a function of that key and of the
// cached column types: not when it took sequence IDs, or when a column
// read failed. DDL through the proxy (which drops the column types) and a
// configuration reload empty the cache; a plan made while the cache was
// emptied is not stored.
type planCache struct {
	mu      sync.Mutex
	gen     uint64
	entries map[planKey]cachedPlan
}

type planKey struct {
	rules *shard.Rules
	db    string
	sql   string
}

type cachedPlan struct {
	a    *router.Analysis
	root router.Node
}

// Bounds: the number of plans, and the longest statement cached (long
// statements are rarely sent twice, and would hold memory).
const (
	planCacheEntries = 8192
	planCacheMaxSQL  = 4096
)

// get returns the cached plan of a statement and the cache's generation
// (to pass to put).
func (c *planCache) get(k planKey) (cachedPlan, uint64, bool) {
	c.mu.Lock()
	p, ok := c.entries[k]
	gen := c.gen
	c.mu.Unlock()
	return p, gen, ok
}

// put stores a plan made at generation gen, unless the cache was emptied
// since.
func (c *planCache) put(k planKey, p cachedPlan, gen uint64) {
	if len(k.sql) > planCacheMaxSQL {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.entries == nil {
		c.entries = make(map[planKey]cachedPlan)
	}
	if len(c.entries) >= planCacheEntries {
		// Drop about half, in map order (no bookkeeping per hit).
		n := 0
		for key := range c.entries {
			delete(c.entries, key)
			if n++; n >= planCacheEntries/2 {
				break
			}
		}
	}
	c.entries[k] = p
}

// clear empties the cache (DDL, reload).
func (c *planCache) clear() {
	c.mu.Lock()
	c.gen++
	c.entries = nil
	c.mu.Unlock()
}

// len is the number of cached plans (tests, status).
func (c *planCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
