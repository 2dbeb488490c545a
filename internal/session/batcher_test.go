package session

import (
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestPosBatcher: every read gets a position fetched by a query that
// started after the read arrived, one query runs at a time per slice, and
// concurrent reads share queries.
func TestPosBatcher(t *testing.T) {
	var b posBatcher
	var running, peak, fetches atomic.Int64
	fetch := func() (string, error) {
		n := running.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		fetches.Add(1)
		started := time.Now().UnixNano()
		time.Sleep(2 * time.Millisecond)
		running.Add(-1)
		return strconv.FormatInt(started, 10), nil
	}
	var wg sync.WaitGroup
	const readers = 200
	for i := 0; i < readers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			time.Sleep(time.Duration(i%20) * 300 * time.Microsecond)
			arrived := time.Now().UnixNano()
			pos, err := b.get(fetch)
			if err != nil {
				t.Error(err)
				return
			}
			started, _ := strconv.ParseInt(pos, 10, 64)
			if started < arrived {
				t.Errorf("read %d arrived at %d got a fetch started at %d", i, arrived, started)
			}
		}(i)
	}
	wg.Wait()
	if p := peak.Load(); p > 1 {
		t.Errorf("%d fetches ran at once, want 1", p)
	}
	if f := fetches.Load(); f >= readers {
		t.Errorf("%d fetches for %d reads: no sharing", f, readers)
	}
	t.Logf("%d reads, %d fetches, at most %d at once", readers, fetches.Load(), peak.Load())
}
