package merge

import (
	"errors"
	"testing"

	"github.com/switchyard-db/switchyard/internal/protocol"
)

// TestSharedBudget: merges draw from the proxy-wide budget on top of their
// own bound, fail with 1038 when it has no room, and give everything back
// when they end, whether they failed or not.
func TestSharedBudget(t *testing.T) {
	many := func() []*fakeSource {
		return []*fakeSource{src(r(1, 1), r(2, 1), r(3, 1)), src(r(4, 1), r(5, 1))}
	}
	sorting := func(sh *Shared) *Plan {
		return &Plan{Aggs: aggs(AggNone, AggNone), OrderBy: []Order{{Col: 0}}, NeedSort: true, Limit: -1, Shared: sh}
	}
	big := NewShared(1 << 20)
	if _, err := runPlan(t, sorting(big), cols(intCol("a"), intCol("b")), many()...); err != nil {
		t.Fatal(err)
	}
	if u := big.Used(); u != 0 {
		t.Fatalf("%d bytes still taken after the merge ended", u)
	}
	// Another query holds almost all of it: this one gets 1038.
	small := NewShared(600)
	if !small.Take(580) {
		t.Fatal("Take within the budget failed")
	}
	_, err := runPlan(t, sorting(small), cols(intCol("a"), intCol("b")), many()...)
	var pe *protocol.Error
	if !errors.As(err, &pe) || pe.Code != ErrTooBig || pe.State != "HY001" {
		t.Fatalf("err = %v, want 1038 from the shared budget", err)
	}
	if u := small.Used(); u != 580 {
		t.Fatalf("a failed merge left %d bytes taken, want the other query's 580", u)
	}
	small.Give(580)
	if _, err := runPlan(t, sorting(small), cols(intCol("a"), intCol("b")), many()...); err != nil {
		t.Fatalf("with the budget free again: %v", err)
	}
	if NewShared(0) != nil || !(*Shared)(nil).Take(1<<40) {
		t.Fatal("a zero budget must be unlimited")
	}
}
