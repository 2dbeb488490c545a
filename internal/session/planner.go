package session

import (
	"errors"

	"github.com/switchyard-db/switchyard/internal/router"
	"github.com/switchyard-db/switchyard/internal/sequence"
	"github.com/switchyard-db/switchyard/internal/shard"
)

// The router does no I/O. What it needs from the servers while planning
// (a table's columns and column types, sequence IDs) comes from caches;
// when a cache cannot answer, the source notes the need and the router
// plans without it. planSharded then fetches what was missing (the only
// I/O, outside the router) and plans the statement again. Caches hold
// columns until the next DDL and IDs by whole blocks, so a statement is
// planned twice only on such a miss.

// planNeeds is what one planning pass missed: tables whose columns (names
// and types, one read) and sequence IDs were not cached.
type planNeeds struct {
	tables []*shard.Table
	ids    []idNeed
}

type idNeed struct {
	t *shard.Table
	n int
}

func (n *planNeeds) empty() bool {
	return len(n.tables) == 0 && len(n.ids) == 0
}

// errNeedsFetch makes the router stop where it needs what a cache lacks;
// its plan is discarded.
var errNeedsFetch = errors.New("switchyard: planning needs metadata that is being fetched")

// fetched holds what planSharded fetched for the next pass.
type fetched struct {
	ids map[*shard.Table][]uint64
	// colErrs and idErrs are fetch failures, answered by the sources as
	// they were.
	colErrs map[*shard.Table]error
	idErrs  map[*shard.Table]error
}

// planSharded analyzes and plans sql in a namespace with rules, from the
// plan cache when it holds the statement.
func (s *Session) planSharded(sql string) (*router.Analysis, router.Node) {
	key := planKey{rules: s.ns.Rules, db: s.db, sql: sql}
	p, gen, ok := s.env.plans.get(key)
	if ok {
		return p.a, p.root
	}
	defer func() { s.needs, s.fetched, s.tookIDs = planNeeds{}, fetched{}, false }()
	for attempt := 0; ; attempt++ {
		s.needs = planNeeds{}
		a, root := router.AnalyzeShardedWith(sql, s.ns.Rules, s.db, s.sources())
		if s.needs.empty() {
			if !s.tookIDs && len(s.fetched.colErrs) == 0 && len(s.fetched.idErrs) == 0 {
				s.env.plans.put(key, cachedPlan{a: a, root: root}, gen)
			}
			return a, root
		}
		if attempt == 2 {
			return a, root
		}
		s.fetchNeeds()
	}
}

// planTemplate is router.PrepareTemplateWith with the fetching of
// planSharded.
func (s *Session) planTemplate(sql string) *router.Template {
	defer func() { s.needs, s.fetched = planNeeds{}, fetched{} }()
	for attempt := 0; ; attempt++ {
		s.needs = planNeeds{}
		tpl := router.PrepareTemplateWith(sql, s.ns.Rules, s.db, s.sources().Schema)
		if s.needs.empty() || attempt == 2 {
			return tpl
		}
		s.fetchNeeds()
	}
}

// planBound is router.PrepareBound with the fetching of planSharded.
func (s *Session) planBound(sql string) *router.Bound {
	defer func() { s.needs, s.fetched = planNeeds{}, fetched{} }()
	for attempt := 0; ; attempt++ {
		s.needs = planNeeds{}
		b := router.PrepareBound(sql, s.ns.Rules, s.db, s.sources())
		if s.needs.empty() {
			if len(s.fetched.colErrs) > 0 {
				return nil
			}
			return b
		}
		if attempt == 2 {
			return nil
		}
		s.fetchNeeds()
	}
}

// fetchNeeds reads what the last planning pass missed.
func (s *Session) fetchNeeds() {
	f := &s.fetched
	if f.ids == nil {
		f.ids, f.colErrs, f.idErrs = map[*shard.Table][]uint64{}, map[*shard.Table]error{}, map[*shard.Table]error{}
	}
	for _, t := range s.needs.tables {
		if f.colErrs[t] != nil {
			continue
		}
		// One retry on another connection: a pooled connection the server
		// closed must not turn into a refusal.
		_, err := s.env.schemaOf(s.ns, t)
		if err != nil {
			_, err = s.env.schemaOf(s.ns, t)
		}
		if err != nil {
			s.log.Warn("reading a ruled table's columns", "table", t.Name(), "err", err)
			f.colErrs[t] = err
		}
	}
	for _, need := range s.needs.ids {
		ids := make([]uint64, need.n)
		if err := s.nextIDs(need.t, ids); err != nil {
			f.idErrs[need.t] = err
			continue
		}
		f.ids[need.t] = ids
	}
}

// cachedSchema is the router's SchemaSource.
func (s *Session) cachedSchema(t *shard.Table) ([]shard.Column, bool) {
	if cols, ok := s.env.cachedSchema(t); ok {
		return cols, true
	}
	if s.fetched.colErrs[t] == nil {
		s.needs.tables = append(s.needs.tables, t)
	}
	return nil, false
}

// cachedColumns is the router's ColumnSource.
func (s *Session) cachedColumns(t *shard.Table) ([]string, error) {
	if cols, ok := s.env.cachedColumns(t); ok {
		return cols, nil
	}
	if err := s.fetched.colErrs[t]; err != nil {
		return nil, err
	}
	s.needs.tables = append(s.needs.tables, t)
	return nil, errNeedsFetch
}

// cachedIDs is the router's IDSource.
func (s *Session) cachedIDs(t *shard.Table, ids []uint64) error {
	// A plan with IDs is this statement's alone: not cached.
	s.tookIDs = true
	if pre, ok := s.fetched.ids[t]; ok && len(pre) == len(ids) {
		copy(ids, pre)
		delete(s.fetched.ids, t)
		return nil
	}
	if err := s.fetched.idErrs[t]; err != nil {
		return err
	}
	g, err := s.env.generator(s.ns, t)
	if err != nil {
		return err
	}
	if nb, ok := g.(sequence.NonBlocking); ok && nb.TryNext(ids) {
		return nil
	}
	s.needs.ids = append(s.needs.ids, idNeed{t, len(ids)})
	return errNeedsFetch
}
