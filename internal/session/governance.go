package session

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard-db/switchyard/internal/backend"
	"github.com/switchyard-db/switchyard/internal/sessvars"

	"github.com/switchyard-db/switchyard/internal/config"
	"github.com/switchyard-db/switchyard/internal/governance"
	"github.com/switchyard-db/switchyard/internal/protocol"
	"github.com/switchyard-db/switchyard/internal/relay"
	"github.com/switchyard-db/switchyard/internal/router"
)

// Admitted records the release of the connection slot the login took.
func (s *Session) Admitted(release func()) { s.admit = release }

// leave gives the connection slot back.
func (s *Session) leave() {
	if s.admit != nil {
		s.admit()
		s.admit = nil
	}
}

// admitChange admits the new user of COM_CHANGE_USER; the old user's slot
// is given back once the new one is taken.
func (s *Session) admitChange(nc *config.Namespace, u *config.User) *protocol.Error {
	release, why, e := s.env.Gate.Admit(nc, u, s.host, s.secure)
	if e != nil {
		s.env.Metrics.LoginRefused(string(why))
		return e
	}
	s.leave()
	s.admit = release
	return nil
}

// newPolicy builds the access policy of the session's user.
func (s *Session) newPolicy(nc *config.Namespace, u *config.User) *governance.Policy {
	p := governance.NewPolicy(s.env.Current().Config, nc, u, s.host)
	p.Exists = s.dbExists
	return p
}

// dbExists asks the default slice whether a database exists (for
// statements the parser does not understand). Errors count as existing.
func (s *Session) dbExists(db string) bool {
	node := s.ns.Default.Primary()
	if node == nil {
		node = s.ns.Default.PickReplica()
	}
	if node == nil {
		return true
	}
	pool := node.Pool(false)
	c, err := pool.Get(context.Background())
	if err != nil {
		return true
	}
	defer pool.Put(c)
	_, rows, err := c.QueryRows("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '" +
		strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(db) + "'")
	if err != nil {
		return true
	}
	return len(rows) > 0
}

// govern checks a client statement against the user's access policy. It
// returns the statement to run (possibly rewritten), or handled = true when
// the answer was already written (an error, or a filtered SHOW); ok is
// false when the client is gone.
func (s *Session) govern(sql string, binary bool) (out string, handled, ok bool) {
	if s.gov == nil {
		return sql, false, true
	}
	v := s.gov.Check(sql, s.db)
	if v.Err != nil {
		s.env.Metrics.StatementRefused(s.ns.Name, v.Reason)
		s.writeErr(v.Err)
		return "", true, true
	}
	if v.Limits != nil {
		if e := s.applyLimits(v.Limits, binary); e != nil {
			s.writeErr(e)
			return "", true, true
		}
	}
	if v.Show != nil {
		if binary {
			s.writeErr(protocol.ErrUnsupported("this SHOW as a prepared statement (it lists several databases); run it as a plain query"))
			return "", true, true
		}
		_, err := s.showFiltered(v.SQL, v.Show)
		return "", true, err == nil
	}
	return v.SQL, false, true
}

// showFiltered runs a SHOW that lists several databases on the default
// slice and keeps the rows of databases the client may see (the first
// column names the database).
func (s *Session) showFiltered(sql string, sh *governance.Show) (failed bool, clientErr error) {
	plan := router.Plan{Analysis: &router.Analysis{Kind: router.KindShow}, Target: router.TargetPrimary}
	if s.pin.active() {
		plan.Target = router.TargetPinned
	}
	c, node, err := s.acquire(&plan)
	if err != nil {
		s.writeErr(toProtoErr(err))
		return true, nil
	}
	c.Seq = 0
	s.buf = append(s.buf[:0], protocol.ComQuery)
	s.buf = append(s.buf, sql...)
	if err := c.WriteFlush(s.buf); err != nil {
		s.writeErr(s.lost(c, node, &relay.BackendError{Err: err}))
		return true, nil
	}
	src := &branch{c: c, node: node, sent: true}
	cols, err := src.readHeader()
	if err != nil {
		s.failOn(c, node, err)
		return true, nil
	}
	var rows [][][]byte
	seen := map[string]bool{}
	for {
		p, err := src.Next()
		if err != nil {
			s.failOn(c, node, err)
			return true, nil
		}
		if p == nil {
			break
		}
		fields, ok := splitRow(p, len(cols))
		if !ok {
			c.MarkBroken()
			s.writeErr(s.lost(c, node, &relay.BackendError{Err: protocol.ErrMalformed}))
			return true, nil
		}
		if len(fields) == 0 || fields[0] == nil || !s.gov.Listed(string(fields[0])) {
			continue
		}
		if len(rows) >= metaMaxRows {
			src.drain()
			s.release(c, node)
			s.writeErr(protocol.NewError(1038, "HY001", "SHOW result too large to filter (more than %d rows)", metaMaxRows))
			return true, nil
		}
		seen[string(fields[0])] = true
		rows = append(rows, fields)
	}
	node.CountStatement()
	s.release(c, node)
	if sh.Databases && !sh.Where && len(cols) > 0 {
		// Logical databases of sharding rules need not exist on the
		// default slice.
		for _, db := range s.gov.Logical() {
			if seen[db] || sh.Like != "" && !router.LikeMatch(db, sh.Like) {
				continue
			}
			seen[db] = true
			r := make([][]byte, len(cols))
			r[0] = []byte(db)
			rows = append(rows, r)
		}
		sort.SliceStable(rows, func(i, j int) bool { return string(rows[i][0]) < string(rows[j][0]) })
	}
	return s.writeRows(cols, rows, false)
}

// checkHost refuses client addresses the user may not log in from.
func (s *Session) checkHost(nc *config.Namespace, u *config.User) error {
	if e := governance.CheckHost(nc, u, s.host); e != nil {
		s.env.Metrics.LoginRefused(string(governance.RefusedHost))
		return e
	}
	return nil
}

// applyLimits sets the statement's time limit on the session (MariaDB's
// max_statement_time on every backend connection it uses, so that each
// part of a scatter is stopped with 1969) and takes its rate and
// concurrency turns (text queries only), given back by governed.
func (s *Session) applyLimits(lim *governance.Limits, binary bool) *protocol.Error {
	if e := s.applyTimeLimit(lim.ExecTime); e != nil {
		return e
	}
	if !binary && (lim.MaxRows > 0 || lim.MaxBytes > 0) {
		s.limitResult(lim.MaxRows, lim.MaxBytes)
	}
	if binary || len(lim.Rate) == 0 || s.env.Gate == nil {
		return nil
	}
	release, e := s.env.Gate.Limiter.Acquire(s.ns.Name, s.user.Name, lim)
	if e != nil {
		s.env.Metrics.StatementRefused(s.ns.Name, "rate_limit")
		return e
	}
	s.govDone = release
	return nil
}

// limitResult makes the relayer cut the statement's result sets at maxRows
// rows or maxBytes bytes (0: no limit), stopping the backend statement;
// the client gets 1226 and the connection stays usable.
func (s *Session) limitResult(maxRows, maxBytes int64) {
	s.relayer.Limit = func(rows, bytes int64) *protocol.Error {
		switch {
		case maxRows > 0 && rows > maxRows:
			s.env.Metrics.StatementRefused(s.ns.Name, "result_size")
			return protocol.NewError(1226, "42000", "User '%s' has exceeded the 'max_result_rows' resource (current value: %d)", s.user.Name, maxRows)
		case maxBytes > 0 && bytes > maxBytes:
			s.env.Metrics.StatementRefused(s.ns.Name, "result_size")
			return protocol.NewError(1226, "42000", "User '%s' has exceeded the 'max_result_bytes' resource (current value: %d)", s.user.Name, maxBytes)
		}
		return nil
	}
	s.relayer.Stop = func() {
		if c := s.active.Load(); c != nil {
			s.killBackendQuery(c)
		}
	}
}

// governed ends what applyLimits started for the statement.
func (s *Session) governed() {
	s.relayer.Limit, s.relayer.Stop = nil, nil
	if s.govDone != nil {
		s.govDone()
		s.govDone = nil
	}
}

// applyTimeLimit brings max_statement_time in step with the limit d (0:
// none) in the session's variables and on the connections the session
// holds.
func (s *Session) applyTimeLimit(d time.Duration) *protocol.Error {
	want := "0.000000"
	if d > 0 {
		want = strconv.FormatFloat(d.Seconds(), 'f', 6, 64)
	}
	cur, ok := s.vars.Get("max_statement_time")
	if !ok && d == 0 || ok && cur == want {
		return nil
	}
	s.vars = s.vars.With(map[string]string{"max_statement_time": want})
	held := []*backend.Conn{s.pin.conn()}
	for _, p := range s.txn.parts {
		held = append(held, p.c)
	}
	for _, c := range held {
		if c == nil || c.Vars.Key() == s.vars.Key() {
			continue
		}
		if q := sessvars.Diff(c.Vars, s.vars); q != "" {
			if _, err := c.Exec(q); err != nil {
				return toProtoErr(err)
			}
		}
		c.Vars = s.vars
	}
	return nil
}

// governExecute applies the SQL rules' limits to one execution of a
// prepared statement; false means an error was answered instead.
func (s *Session) governExecute(sql string) bool {
	lim, e := s.gov.ExecLimits(sql)
	if e == nil && lim != nil {
		e = s.applyLimits(lim, false)
	}
	if e != nil {
		s.writeErr(e)
		return false
	}
	return true
}
