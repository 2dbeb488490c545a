package session

import (
	"strings"
	"testing"
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
