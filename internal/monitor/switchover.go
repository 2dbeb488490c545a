package monitor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/switchyard-db/switchyard/internal/backend"
	"github.com/switchyard-db/switchyard/internal/protocol"
	"github.com/switchyard-db/switchyard/internal/topology"
)

// SwitchoverOptions describe a planned switchover.
type SwitchoverOptions struct {
	// Admin are credentials with READ_ONLY ADMIN and replication
	// administration privileges on every node of the slice.
	Admin Credentials
	// Replication are the credentials replicas use toward the new primary.
	Replication Credentials
	// Drain bounds the wait for statements and transactions already running
	// on the old primary (default 10s); what still runs then is aborted.
	Drain time.Duration
	// CatchUp bounds the wait for the new primary to apply every
	// transaction of the old one (default 30s).
	CatchUp time.Duration
}

// SwitchoverResult reports what a switchover did.
type SwitchoverResult struct {
	Slice      string        `json:"slice"`
	OldPrimary string        `json:"old_primary"`
	NewPrimary string        `json:"new_primary"`
	GTID       string        `json:"gtid"`
	WritesHeld time.Duration `json:"writes_held_ns"`
	Aborted    int           `json:"aborted_connections"`
}

// Switchover makes target the primary of slice s on self-managed MariaDB
// replication: it holds new writes, lets running ones finish, makes the
// old primary read-only, waits for target to catch up by GTID, promotes
// it, repoints the other nodes and releases the writes. Clients see writes
// pause, not fail.
func (m *Monitor) Switchover(ctx context.Context, s *topology.Slice, target *topology.Node, o SwitchoverOptions) (SwitchoverResult, error) {
	if o.Drain <= 0 {
		o.Drain = 10 * time.Second
	}
	if o.CatchUp <= 0 {
		o.CatchUp = 30 * time.Second
	}
	res := SwitchoverResult{Slice: s.Name, NewPrimary: target.Addr}
	sm := m.sliceMon(s)
	if sm == nil || target.Slice != s {
		return res, fmt.Errorf("node %s is not in slice %s", target.Addr, s.Name)
	}
	sm.switching.Lock()
	defer sm.switching.Unlock()
	old := s.Primary()
	if old == nil {
		return res, fmt.Errorf("slice %s has no primary to switch from", s.Name)
	}
	if old == target {
		return res, fmt.Errorf("%s is already the primary of slice %s", target.Addr, s.Name)
	}
	if st, _ := m.State(target); !st.Up || !st.Checked {
		return res, fmt.Errorf("target %s is not up", target.Addr)
	}
	res.OldPrimary = old.Addr
	dial := func(n *topology.Node) (*backend.Conn, error) {
		c, err := backend.Dial(ctx, n.Addr, backend.DialOptions{User: o.Admin.User, Password: o.Admin.Password, ConnectTimeout: 5 * time.Second})
		if err != nil {
			return nil, fmt.Errorf("connecting to %s as %s: %w", n.Addr, o.Admin.User, err)
		}
		return c, nil
	}
	oc, err := dial(old)
	if err != nil {
		return res, err
	}
	defer oc.Close()
	tc, err := dial(target)
	if err != nil {
		return res, err
	}
	defer tc.Close()

	// 1. Hold new writes; let running statements and transactions finish.
	start := time.Now()
	s.SetPrimary(nil, "planned switchover to "+target.Addr)
	m.decided(s, nil)
	released := false
	defer func() {
		if !released {
			// Failed before promotion: give the old primary back its role.
			_, _ = oc.Exec("SET GLOBAL read_only = OFF")
			s.SetPrimary(old, "")
			m.decided(s, old)
		}
	}()
	drainBy := time.Now().Add(o.Drain)
	for inUse(old) > 0 && time.Now().Before(drainBy) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := inUse(old); n > 0 {
		res.Aborted = old.KillConnections()
		m.log.Warn("switchover aborted statements still running on the old primary", "slice", s.Name, "connections", n)
	}
	// 2. Stop writes on the old primary and learn its last transaction.
	if _, err := oc.Exec("SET GLOBAL read_only = ON"); err != nil {
		return res, fmt.Errorf("making %s read-only: %w", old.Addr, err)
	}
	// Sessions of other users may still hold write connections: end them.
	_, rows, err := oc.QueryRows("SELECT @@global.gtid_binlog_pos")
	if err != nil || len(rows) != 1 {
		return res, fmt.Errorf("reading the old primary's GTID position: %v", err)
	}
	res.GTID = rows[0][0]
	// 3. Wait for the target to apply everything.
	wait := fmt.Sprintf("SELECT MASTER_GTID_WAIT('%s', %d)", strings.ReplaceAll(res.GTID, "'", ""), int(o.CatchUp.Seconds()))
	_, rows, err = tc.QueryRows(wait)
	if err != nil || len(rows) != 1 || rows[0][0] != "0" {
		return res, fmt.Errorf("target %s did not reach %s within %v: %v %v", target.Addr, res.GTID, o.CatchUp, rows, err)
	}
	// 4. Promote the target.
	for _, q := range []string{"STOP SLAVE", "RESET SLAVE ALL", "SET GLOBAL read_only = OFF"} {
		if _, err := tc.Exec(q); err != nil {
			return res, fmt.Errorf("promoting %s: %s: %w", target.Addr, q, err)
		}
	}
	released = true
	// What the monitor probed before now is stale: record the new roles.
	m.mu.Lock()
	if nm := m.nodes[old]; nm != nil {
		nm.st.ReadOnly = true
	}
	if nm := m.nodes[target]; nm != nil {
		nm.st.ReadOnly = false
	}
	sm.gen.Add(1)
	m.mu.Unlock()
	s.SetPrimary(target, "")
	m.decided(s, target)
	res.WritesHeld = time.Since(start)
	m.log.Warn("planned switchover done", "slice", s.Name, "old", old.Addr, "new", target.Addr, "gtid", res.GTID, "writes_held", res.WritesHeld)
	// 5. Repoint the other nodes (the old primary included) at the target.
	host, port, _ := net.SplitHostPort(target.Addr)
	var errs []error
	for _, n := range s.Nodes {
		if n == target {
			continue
		}
		c := oc
		if n != old {
			if c, err = dial(n); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		use := "slave_pos"
		if n == old {
			use = "current_pos"
		}
		qs := []string{
			"STOP SLAVE",
			fmt.Sprintf("CHANGE MASTER TO MASTER_HOST='%s', MASTER_PORT=%s, MASTER_USER='%s', MASTER_PASSWORD='%s', MASTER_USE_GTID=%s",
				host, port, sqlEscape(o.Replication.User), sqlEscape(o.Replication.Password), use),
			"START SLAVE",
		}
		for _, q := range qs {
			if _, err := c.Exec(q); err != nil {
				var pe *protocol.Error
				if q == "STOP SLAVE" && errors.As(err, &pe) {
					continue // not replicating yet
				}
				errs = append(errs, fmt.Errorf("repointing %s: %w", n.Addr, err))
				break
			}
		}
		if c != oc {
			c.Close()
		}
	}
	return res, errors.Join(errs...)
}

// inUse counts the node's pooled connections in use.
func inUse(n *topology.Node) int {
	k := 0
	for _, p := range n.Pools() {
		k += p.Stats().InUse
	}
	return k
}

func sqlEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s)
}
