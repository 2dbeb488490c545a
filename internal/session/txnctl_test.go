package session

import (
	"fmt"
	"testing"

	"github.com/switchyard-db/switchyard/internal/protocol"
)

// TestTransactionControlMatrix drives sessions through transaction control
// in both protocols, with autocommit on and off, on one slice and two, and
// checks what each fake slice committed: text and prepared forms must do
// the same, and nothing may stay open or prepared afterwards.
func TestTransactionControlMatrix(t *testing.T) {
	ins := func(id int) string { return fmt.Sprintf("INSERT INTO t_user (id, name) VALUES (%d, 'x')", id) }
	// id % 2 picks the slice: 2 → s0, 1 → s1.
	cases := []struct {
		name  string
		steps []string
		want  [2]int
	}{
		{"commit two slices", []string{"BEGIN", ins(2), ins(1), "COMMIT"}, [2]int{1, 1}},
		{"rollback two slices", []string{"START TRANSACTION", ins(2), ins(1), "ROLLBACK"}, [2]int{0, 0}},
		{"commit one slice", []string{"BEGIN", ins(1), ins(3), "COMMIT"}, [2]int{0, 2}},
		{"autocommit off, commit", []string{"SET autocommit=0", ins(2), ins(1), "COMMIT", "SET autocommit=1"}, [2]int{1, 1}},
		{"autocommit off, rollback", []string{"SET autocommit=0", ins(2), ins(1), "ROLLBACK", "SET autocommit=1"}, [2]int{0, 0}},
		{"autocommit off, read first", []string{"SET autocommit=0", "SELECT * FROM t_user", ins(1), "ROLLBACK", ins(2), "COMMIT", "SET autocommit=1"}, [2]int{1, 0}},
		{"autocommit on again commits", []string{"SET autocommit=0", ins(2), ins(1), "SET autocommit=1"}, [2]int{1, 1}},
		{"autocommit on while on: no commit", []string{"BEGIN", ins(2), ins(1), "SET autocommit=1", "ROLLBACK"}, [2]int{0, 0}},
		{"BEGIN commits the open transaction", []string{"BEGIN", ins(2), ins(1), "BEGIN", ins(4), "ROLLBACK"}, [2]int{1, 1}},
		{"multi-row insert outside a transaction", []string{"INSERT INTO t_user (id, name) VALUES (2, 'a'), (1, 'b')"}, [2]int{1, 1}},
		{"savepoint rollback", []string{"BEGIN", ins(2), "SAVEPOINT a", ins(1), "ROLLBACK TO SAVEPOINT a", "COMMIT"}, [2]int{1, 1}},
	}
	for _, mode := range []string{"xa", "best_effort"} {
		for _, tc := range cases {
			if mode == "best_effort" && tc.name == "savepoint rollback" {
				continue // savepoints over several slices need XA
			}
			for _, prepared := range []bool{false, true} {
				name := fmt.Sprintf("%s/%s/text", mode, tc.name)
				if prepared {
					name = fmt.Sprintf("%s/%s/prepared", mode, tc.name)
				}
				t.Run(name, func(t *testing.T) {
					h := newHarness(t, mode)
					c := h.connect()
					var last result
					for _, sql := range tc.steps {
						last = c.run(prepared, sql)
					}
					if last.status&protocol.StatusInTrans != 0 {
						t.Errorf("the session still reports a transaction after %q", tc.steps[len(tc.steps)-1])
					}
					if got := h.userWrites(); got != tc.want {
						t.Errorf("committed writes per slice %v, want %v", got, tc.want)
					}
					for i, s := range h.slices {
						if n := s.Prepared(); n != 0 {
							t.Errorf("slice %d: %d XA branches left prepared", i, n)
						}
					}
					// Out of any transaction, a read of both slices works.
					if r := c.query("SELECT * FROM t_user"); r.err != nil {
						t.Errorf("read of both slices afterwards: %v", r.err)
					}
				})
			}
		}
	}
}

// TestStatusFlags: the session reports the transaction as MariaDB does.
func TestStatusFlags(t *testing.T) {
	h := newHarness(t, "xa")
	c := h.connect()
	if r := c.run(false, "BEGIN"); r.status&protocol.StatusInTrans == 0 {
		t.Error("BEGIN: no in-transaction flag")
	}
	if r := c.run(true, "COMMIT"); r.status&protocol.StatusInTrans != 0 {
		t.Error("prepared COMMIT: in-transaction flag still set")
	}
	if r := c.run(true, "SET autocommit=0"); r.status&protocol.StatusAutocommit != 0 {
		t.Error("SET autocommit=0: autocommit flag still set")
	}
	if r := c.run(false, "SET autocommit=1"); r.status&protocol.StatusAutocommit == 0 {
		t.Error("SET autocommit=1: no autocommit flag")
	}
}

// TestRouteMetrics: statements are counted under where they ran: a read of
// both slices as scatter, a keyed write as primary.
func TestRouteMetrics(t *testing.T) {
	h := newHarness(t, "xa")
	c := h.connect()
	c.run(false, "SELECT * FROM t_user")
	c.run(true, "SELECT * FROM t_user")
	c.run(false, "INSERT INTO t_user (id, name) VALUES (1, 'a')")
	got := map[string]float64{}
	mfs, err := h.env.Metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "switchyard_queries_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			var typ, route string
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "type":
					typ = l.GetValue()
				case "route":
					route = l.GetValue()
				}
			}
			if v := m.GetCounter().GetValue(); v > 0 {
				got[typ+"/"+route] = v
			}
		}
	}
	if got["select/scatter"] != 2 || got["insert/primary"] != 1 {
		t.Errorf("queries by type/route: %v, want select/scatter 2 and insert/primary 1", got)
	}
}
