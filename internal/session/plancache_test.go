package session

import (
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"github.com/switchyard-db/switchyard/internal/protocol"
)

// TestPlanCache: a statement on a ruled table is planned once and served
// from the cache after; the cached plan routes exactly as a fresh one (the
// fake slices see the same physical statements); DDL through the proxy
// empties the cache.
func TestPlanCache(t *testing.T) {
	h := newHarness(t, "xa")
	c := h.connect()
	const sel = "SELECT * FROM t_user WHERE id = 3"
	if r := c.query(sel); r.err != nil {
		t.Fatal(r.err)
	}
	if n := h.env.plans.len(); n != 1 {
		t.Fatalf("after one statement the cache holds %d plans, want 1", n)
	}
	before := len(h.slices[1].Log())
	for _, prepared := range []bool{false, true} {
		if r := c.run(prepared, sel); r.err != nil {
			t.Fatal(r.err)
		}
	}
	if n := h.env.plans.len(); n != 1 {
		t.Errorf("the same statement again: the cache holds %d plans, want 1", n)
	}
	// Both runs reached slice s1's physical table (id 3 is odd).
	var phys int
	for _, l := range h.slices[1].Log()[before:] {
		if strings.Contains(l, "`t_user_0001`") && strings.Contains(l, "`id`=3") {
			phys++
		}
	}
	if phys < 2 {
		t.Errorf("s1 saw %d physical statements of the cached plan, want 2: %q", phys, h.slices[1].Log()[before:])
	}
	// Other values are other plans.
	if r := c.query("SELECT * FROM t_user WHERE id = 4"); r.err != nil {
		t.Fatal(r.err)
	}
	if n := h.env.plans.len(); n != 2 {
		t.Errorf("a second statement: %d plans, want 2", n)
	}
	c.exec("ALTER TABLE t_user ADD COLUMN note INT")
	if n := h.env.plans.len(); n != 0 {
		t.Errorf("after DDL through the proxy the cache holds %d plans, want 0", n)
	}
}

// TestPlanCacheBounds: the cache never grows past its bound, and long
// statements are not kept.
func TestPlanCacheBounds(t *testing.T) {
	var c planCache
	_, gen, _ := c.get(planKey{})
	for i := 0; i < planCacheEntries*2; i++ {
		c.put(planKey{sql: strings.Repeat("x", i%50) + string(rune('a'+i%26)) + strings.Repeat("y", i/26)}, cachedPlan{}, gen)
		if c.len() > planCacheEntries {
			t.Fatalf("%d plans after %d puts, bound %d", c.len(), i+1, planCacheEntries)
		}
	}
	c.clear()
	c.put(planKey{sql: strings.Repeat("s", planCacheMaxSQL+1)}, cachedPlan{}, gen+1)
	if c.len() != 0 {
		t.Error("a statement longer than planCacheMaxSQL was cached")
	}
	// A plan made before a clear is not stored after it.
	c.put(planKey{sql: "SELECT 1"}, cachedPlan{}, gen)
	if c.len() != 0 {
		t.Error("a plan made before the cache was emptied was stored")
	}
}

// prepare sends COM_STMT_PREPARE and returns the statement id.
func (c *client) prepare(sql string) uint32 {
	c.t.Helper()
	c.send(protocol.ComStmtPrepare, []byte(sql))
	p := c.read()
	if protocol.IsErr(p) {
		c.t.Fatalf("prepare %s: %v", sql, protocol.ParseErr(p))
	}
	id := binary.LittleEndian.Uint32(p[1:])
	cols, params := binary.LittleEndian.Uint16(p[5:]), binary.LittleEndian.Uint16(p[7:])
	for i := 0; i < int(cols)+int(params); i++ {
		c.read()
	}
	return id
}

// executeStrings executes statement id with string parameters.
func (c *client) executeStrings(id uint32, vals ...string) result {
	c.t.Helper()
	body := binary.LittleEndian.AppendUint32(nil, id)
	body = append(body, 0, 1, 0, 0, 0)
	body = append(body, make([]byte, (len(vals)+7)/8)...)
	body = append(body, 1)
	for range vals {
		body = append(body, protocol.TypeVarString, 0)
	}
	for _, v := range vals {
		body = protocol.AppendLenEncString(body, v)
	}
	c.send(protocol.ComStmtExecute, body)
	return c.readResult()
}

// TestBoundExecutions: a statement the proxy prepares whose parameters
// cannot change its plan is planned once; each execution's values reach
// every physical statement, and nothing is planned again.
func TestBoundExecutions(t *testing.T) {
	h := newHarness(t, "xa")
	c := h.connect()
	id := c.prepare("SELECT * FROM t_user WHERE name = ?")
	cached := h.env.plans.len()
	for _, v := range []string{"ann", "o'brien"} {
		before := [2]int{len(h.slices[0].Log()), len(h.slices[1].Log())}
		if r := c.executeStrings(id, v); r.err != nil {
			t.Fatal(r.err)
		}
		want := "`name`='" + strings.ReplaceAll(v, "'", "''") + "'"
		for i, s := range h.slices {
			found := false
			for _, l := range s.Log()[before[i]:] {
				if strings.Contains(l, fmt.Sprintf("`t_user_%04d`", i)) && strings.Contains(l, want) {
					found = true
				}
			}
			if !found {
				t.Errorf("value %q: slice %d did not get its physical statement with %s: %q", v, i, want, s.Log()[before[i]:])
			}
		}
	}
	if n := h.env.plans.len(); n != cached {
		t.Errorf("executions planned again: the plan cache went from %d to %d plans", cached, n)
	}
}

// TestBoundRouteRunsPrepared: a statement planned once whose plan is one
// physical statement is prepared on its backend and executed there with
// the client's parameters (MariaDB reads them), not substituted into text.
func TestBoundRouteRunsPrepared(t *testing.T) {
	h := newHarness(t, "xa")
	c := h.connect()
	id := c.prepare("SELECT ?, name FROM t_user WHERE id = 2")
	before := len(h.slices[0].Log())
	if r := c.executeStrings(id, "x"); r.err != nil {
		t.Fatal(r.err)
	}
	var got []string
	for _, l := range h.slices[0].Log()[before:] {
		if strings.Contains(l, "t_user") {
			got = append(got, l)
		}
	}
	if len(got) == 0 || !strings.Contains(got[len(got)-1], "`t_user_0000`") || !strings.Contains(got[len(got)-1], "?") || strings.Contains(got[len(got)-1], "'x'") {
		t.Errorf("s0 got %q, want the physical statement with its marker (prepared there)", got)
	}
	if n := h.slices[1].Log(); len(n) > 0 {
		for _, l := range n {
			if strings.Contains(l, "t_user") {
				t.Errorf("s1 got %q; id 2 lives on s0", l)
			}
		}
	}
}
