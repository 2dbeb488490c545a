package session

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/switchyard-db/switchyard/internal/backend"
	"github.com/switchyard-db/switchyard/internal/gtid"
	"github.com/switchyard-db/switchyard/internal/metrics"
	"github.com/switchyard-db/switchyard/internal/protocol"
	"github.com/switchyard-db/switchyard/internal/router"
	"github.com/switchyard-db/switchyard/internal/topology"
)

// Read consistency levels (Aurora's aurora_replica_read_consistency).
const (
	levelEventual = metrics.LevelEventual
	levelSession  = metrics.LevelSession
	levelGlobal   = metrics.LevelGlobal
)

var levelNames = []string{"eventual", "session", "global"}

func parseLevel(s string) (int, bool) {
	for i, n := range levelNames {
		if s == n {
			return i, true
		}
	}
	return 0, false
}

// setConsistency implements SET switchyard_read_consistency.
func (s *Session) setConsistency(v string) bool {
	if v == "default" {
		v = s.user.ReadConsistency
	}
	l, ok := parseLevel(v)
	if !ok {
		s.writeErr(protocol.NewError(protocol.ErrWrongValueForVar, "42000",
			"Variable 'switchyard_read_consistency' can't be set to the value of '%s' (allowed: 'eventual', 'session', 'global')", v))
		return false
	}
	s.level = l
	s.writeOK(0, 0)
	return true
}

// showConsistency answers SELECT @@switchyard_read_consistency.
func (s *Session) showConsistency(label string, binary bool) {
	s.writeStringResult(label, levelNames[s.level], binary)
}

// replicaRead returns a replica connection that satisfies the session's
// read consistency, or nil when the read must go to the primary. With
// pipeline, a replica that must first reach a position comes with the
// wait for the caller to send before the statement (one round trip
// instead of two); without, the wait runs here.
func (s *Session) replicaRead(slice *topology.Slice, level router.Consistency, pipeline bool) (*backend.Conn, *topology.Node, gtidWait) {
	lv := int(level)
	need := ""
	switch lv {
	case levelSession:
		if s.wroteWithoutGTID {
			s.nsm.ConsistencyRead(lv, metrics.OutcomePrimaryNoGTID)
			return nil, nil, gtidWait{}
		}
		if s.dirtySlices[slice] {
			// The session wrote here without seeing the GTID (a
			// distributed commit): the primary's position covers it.
			pos, err := s.env.positions(slice).get(func() (string, error) { return s.primaryPosition(slice) })
			if err != nil || pos == "" {
				s.nsm.ConsistencyRead(lv, metrics.OutcomePrimaryNoGTID)
				return nil, nil, gtidWait{}
			}
			s.noteGTID(slice, pos)
			delete(s.dirtySlices, slice)
		}
		need = s.gtidBySlice[slice]
	case levelGlobal:
		pos, err := s.env.positions(slice).get(func() (string, error) { return s.primaryPosition(slice) })
		if err != nil || pos == "" {
			if err == nil {
				s.warnNoGTID(slice)
			}
			s.nsm.ConsistencyRead(lv, metrics.OutcomePrimaryNoGTID)
			return nil, nil, gtidWait{}
		}
		need = pos
	}
	if need == "" {
		r := slice.PickReplica()
		if r == nil {
			s.nsm.ConsistencyRead(lv, metrics.OutcomePrimaryNoReplica)
			return nil, nil, gtidWait{}
		}
		c, err := s.get(r)
		if err != nil {
			r.Suspect()
			s.log.Warn("replica unavailable, reading from primary", "slice", slice.Name, "node", r.Addr, "err", err)
			s.nsm.ConsistencyRead(lv, metrics.OutcomePrimaryNoReplica)
			return nil, nil, gtidWait{}
		}
		s.nsm.ConsistencyRead(lv, metrics.OutcomeReplica)
		return c, r, gtidWait{}
	}
	// A replica the monitor already saw at the position needs no wait.
	if r := slice.ReplicaWhere(func(n *topology.Node) bool { return gtid.Covers(n.GTID(), need) }); r != nil {
		if c, err := s.get(r); err == nil {
			s.nsm.ConsistencyRead(lv, metrics.OutcomeReplicaKnown)
			return c, r, gtidWait{}
		}
	}
	r := slice.PickReplica()
	if r == nil {
		s.nsm.ConsistencyRead(lv, metrics.OutcomePrimaryNoReplica)
		return nil, nil, gtidWait{}
	}
	c, err := s.get(r)
	if err != nil {
		r.Suspect()
		s.nsm.ConsistencyRead(lv, metrics.OutcomePrimaryNoReplica)
		return nil, nil, gtidWait{}
	}
	timeout := s.ns.Config.ConsistencyTimeout.Seconds()
	if !gtid.Valid(need) {
		s.release(c, r)
		s.nsm.ConsistencyRead(lv, metrics.OutcomePrimaryNoGTID)
		return nil, nil, gtidWait{}
	}
	// Both answer 0 once the replica has the position (MariaDB -1, MySQL 1
	// on timeout).
	wait := fmt.Sprintf("SELECT MASTER_GTID_WAIT('%s', %s)", need, strconv.FormatFloat(timeout, 'f', 3, 64))
	if !c.IsMariaDB() {
		wait = fmt.Sprintf("SELECT WAIT_FOR_EXECUTED_GTID_SET('%s', %s)", need, strconv.FormatFloat(timeout, 'f', 3, 64))
	}
	if pipeline {
		// run sends the wait and the statement in one write and reads the
		// wait's answer first.
		return c, r, gtidWait{sql: wait, need: need}
	}
	_, rows, err := c.QueryRows(wait)
	if err == nil && len(rows) == 1 && rows[0][0] == "0" {
		r.NoteReached(need)
		s.nsm.ConsistencyRead(lv, metrics.OutcomeReplicaWaited)
		return c, r, gtidWait{}
	}
	s.release(c, r)
	s.nsm.ConsistencyRead(lv, metrics.OutcomePrimaryTimeout)
	return nil, nil, gtidWait{}
}

// gtidWait is a replica's wait for a GTID position, sent in the same
// flush as the statement that needs it (sql "": none).
type gtidWait struct {
	sql  string
	need string // the position sql waits for
}

// primaryPosition reads the primary's current GTID position.
func (s *Session) primaryPosition(slice *topology.Slice) (string, error) {
	// A pooled connection as it is: reading a global variable needs none
	// of the session's state (no USE or SET round trips).
	node, err := slice.WaitPrimary(context.Background(), s.env.FailoverHold)
	if err != nil {
		return "", err
	}
	pool := node.Pool(false)
	c, err := pool.Get(context.Background())
	if err != nil {
		return "", err
	}
	defer pool.Put(c)
	q := "SELECT @@global.gtid_binlog_pos"
	if !c.IsMariaDB() {
		q = "SELECT @@global.gtid_executed"
	}
	_, rows, err := c.QueryRows(q)
	if err != nil || len(rows) != 1 {
		return "", fmt.Errorf("reading the primary's GTID position: %v", err)
	}
	if !gtid.Valid(rows[0][0]) {
		return "", nil
	}
	return rows[0][0], nil
}

var noGTIDWarned sync.Map // slice -> struct{}

func (s *Session) warnNoGTID(slice *topology.Slice) {
	if _, loaded := noGTIDWarned.LoadOrStore(slice, struct{}{}); !loaded {
		s.log.Warn("the primary reports no GTID position (binary log off?): session and global read consistency fall back to primary reads", "slice", slice.Name)
	}
}

// noteWrite records what a statement on the primary means for read-your-
// writes: the GTID it produced, or that it wrote without one.
func (s *Session) noteWrite(plan *router.Plan, gotGTID bool) {
	if s.level == levelEventual || gotGTID || plan.Flags&router.FlagWrites == 0 {
		return
	}
	if plan.Kind == router.KindInsert || plan.Kind == router.KindUpdate || plan.Kind == router.KindDelete || plan.Kind == router.KindReplace {
		if s.lastGTID == "" {
			s.wroteWithoutGTID = true
			if _, loaded := noGTIDWarned.LoadOrStore(s.ns.Default, struct{}{}); !loaded {
				s.log.Warn("a write reported no GTID (binary log off?): session read consistency falls back to primary reads", "slice", s.ns.Default.Name)
			}
		}
	}
}

// posBatcher shares one primary position fetch among concurrent global
// reads: a read needs a fetch that started after it arrived, so reads that
// arrive while a fetch runs wait for the next one, which serves them all.
type posBatcher struct {
	mu   sync.Mutex
	cur  *posFetch
	next *posFetch
	n    atomic.Int64 // fetches done (tests, metrics)
}

type posFetch struct {
	start chan struct{}
	done  chan struct{}
	pos   string
	err   error
}

func (b *posBatcher) get(fetch func() (string, error)) (string, error) {
	b.mu.Lock()
	if b.cur == nil {
		f := &posFetch{done: make(chan struct{})}
		b.cur = f
		b.mu.Unlock()
		b.run(f, fetch)
		return f.pos, f.err
	}
	leader := false
	if b.next == nil {
		b.next = &posFetch{start: make(chan struct{}), done: make(chan struct{})}
		leader = true
	}
	f := b.next
	b.mu.Unlock()
	if leader {
		<-f.start
		b.run(f, fetch)
	} else {
		<-f.done
	}
	return f.pos, f.err
}

func (b *posBatcher) run(f *posFetch, fetch func() (string, error)) {
	f.pos, f.err = fetch()
	b.n.Add(1)
	close(f.done)
	b.mu.Lock()
	n := b.next
	b.next = nil
	b.cur = n
	b.mu.Unlock()
	if n != nil {
		close(n.start)
	}
}

// noteGTID records the position a replica of slice must reach for the
// session's reads to see its writes there.
func (s *Session) noteGTID(slice *topology.Slice, pos string) {
	if s.gtidBySlice == nil {
		s.gtidBySlice = map[*topology.Slice]string{}
	}
	s.gtidBySlice[slice] = gtid.Merge(s.gtidBySlice[slice], pos)
}

// noteDirty records a write on slice whose GTID the session did not see.
func (s *Session) noteDirty(slice *topology.Slice) {
	if s.dirtySlices == nil {
		s.dirtySlices = map[*topology.Slice]bool{}
	}
	s.dirtySlices[slice] = true
}

// noteExec applies the session state of an OK packet read by Exec (writes
// the proxy runs itself) and records where the write's GTID must be seen.
func (s *Session) noteExec(slice *topology.Slice, ok protocol.OK) {
	had := s.lastGTID
	if len(ok.SessionState) > 0 {
		s.applyState(ok.SessionState)
	}
	if s.lastGTID != had {
		s.noteGTID(slice, s.lastGTID)
	} else {
		s.noteDirty(slice)
	}
}
