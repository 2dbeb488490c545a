package sequence

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a clock that only moves when told, or when the generator
// sleeps.
type fakeClock struct {
	now    time.Time
	slept  time.Duration
	sleeps int
	// onSleep, when set, replaces the default (advance by d).
	onSleep func(d time.Duration)
}

func (c *fakeClock) install(s *Snowflake) {
	s.now = func() time.Time { return c.now }
	s.sleep = func(ctx context.Context, d time.Duration) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		c.slept += d
		c.sleeps++
		if c.onSleep != nil {
			c.onSleep(d)
		} else {
			c.now = c.now.Add(d)
		}
		return nil
	}
}

func newFakeSnowflake(t *testing.T, worker uint16, at time.Time) (*Snowflake, *fakeClock) {
	t.Helper()
	c := &fakeClock{now: at}
	s, err := NewSnowflake(worker, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.install(s)
	return s, c
}

func TestSnowflakeWorkerRange(t *testing.T) {
	for _, tc := range []struct {
		worker uint16
		ok     bool
	}{{0, true}, {1023, true}, {1024, false}, {65535, false}} {
		_, err := NewSnowflake(tc.worker, nil)
		if (err == nil) != tc.ok {
			t.Errorf("NewSnowflake(%d) = %v", tc.worker, err)
		}
	}
}

func TestSnowflakeLayout(t *testing.T) {
	at := SnowflakeEpoch.Add(123*time.Millisecond + 400*time.Microsecond)
	s, _ := newFakeSnowflake(t, 5, at)
	ids := next(t, s, 3)
	want := []uint64{123<<22 | 5<<12, 123<<22 | 5<<12 | 1, 123<<22 | 5<<12 | 2}
	if fmtIDs(ids) != fmtIDs(want) {
		t.Errorf("IDs %v, want %v", ids, want)
	}
	tm, w, sq := ParseSnowflake(ids[2])
	if !tm.Equal(SnowflakeEpoch.Add(123*time.Millisecond)) || w != 5 || sq != 2 {
		t.Errorf("ParseSnowflake = %v %d %d", tm, w, sq)
	}
	// The last millisecond of the 41 bits, worker 1023, sequence 4095.
	max := uint64(1)<<63 - 1
	tm, w, sq = ParseSnowflake(max)
	if w != 1023 || sq != 4095 || tm.Year() != 2089 {
		t.Errorf("ParseSnowflake(max) = %v %d %d", tm, w, sq)
	}
}

func TestSnowflakeClock(t *testing.T) {
	base := SnowflakeEpoch.Add(1000 * time.Millisecond)
	ms := func(id uint64) int64 { return int64(id >> 22) }
	sq := func(id uint64) uint64 { return id & 4095 }
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, s *Snowflake, c *fakeClock)
	}{
		{"sequence wraps: waits for the next millisecond", func(t *testing.T, s *Snowflake, c *fakeClock) {
			ids := next(t, s, 5000)
			if ms(ids[4095]) != 1000 || sq(ids[4095]) != 4095 || ms(ids[4096]) != 1001 || sq(ids[4096]) != 0 || sq(ids[4999]) != 903 {
				t.Errorf("around the wrap: %d/%d %d/%d", ms(ids[4095]), sq(ids[4095]), ms(ids[4096]), sq(ids[4096]))
			}
			if c.sleeps != 1 || c.slept != time.Millisecond {
				t.Errorf("slept %d times, %v; want once, 1ms", c.sleeps, c.slept)
			}
		}},
		{"new millisecond resets the sequence", func(t *testing.T, s *Snowflake, c *fakeClock) {
			next(t, s, 10)
			c.now = c.now.Add(3 * time.Millisecond)
			ids := next(t, s, 1)
			if ms(ids[0]) != 1003 || sq(ids[0]) != 0 {
				t.Errorf("got %d/%d", ms(ids[0]), sq(ids[0]))
			}
		}},
		{"clock back, sequence left: continues in the last millisecond", func(t *testing.T, s *Snowflake, c *fakeClock) {
			a := next(t, s, 1)
			c.now = c.now.Add(-time.Second)
			b := next(t, s, 2)
			if b[0] <= a[0] || ms(b[1]) != 1000 || c.sleeps != 0 {
				t.Errorf("a %v b %v sleeps %d", a, b, c.sleeps)
			}
		}},
		{"clock back 3ms at a wrap: waits, then continues", func(t *testing.T, s *Snowflake, c *fakeClock) {
			next(t, s, 4096) // millisecond 1000 full
			c.now = c.now.Add(-3 * time.Millisecond)
			ids := next(t, s, 1)
			if ms(ids[0]) != 1001 || sq(ids[0]) != 0 {
				t.Errorf("got %d/%d", ms(ids[0]), sq(ids[0]))
			}
			if c.slept < 3*time.Millisecond || c.slept > MaxClockBackwards+time.Millisecond {
				t.Errorf("slept %v", c.slept)
			}
		}},
		{"clock back 10ms at a wrap: error at once", func(t *testing.T, s *Snowflake, c *fakeClock) {
			next(t, s, 4096)
			c.now = c.now.Add(-10 * time.Millisecond)
			err := s.Next(context.Background(), make([]uint64, 1))
			if !errors.Is(err, ErrClockBackwards) || c.sleeps != 0 {
				t.Errorf("Next = %v after %d sleeps", err, c.sleeps)
			}
			// Once the clock is back, it works again.
			c.now = c.now.Add(11 * time.Millisecond)
			if ids := next(t, s, 1); ms(ids[0]) != 1001 {
				t.Errorf("then %d", ms(ids[0]))
			}
		}},
		{"clock stuck behind: error after waiting the bound", func(t *testing.T, s *Snowflake, c *fakeClock) {
			next(t, s, 4096)
			c.now = c.now.Add(-2 * time.Millisecond)
			c.onSleep = func(time.Duration) {} // the clock does not move
			err := s.Next(context.Background(), make([]uint64, 1))
			if !errors.Is(err, ErrClockBackwards) || c.slept < MaxClockBackwards || c.slept > MaxClockBackwards+3*time.Millisecond {
				t.Errorf("Next = %v after sleeping %v", err, c.slept)
			}
		}},
		{"canceled while waiting", func(t *testing.T, s *Snowflake, c *fakeClock) {
			next(t, s, 4096)
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			if err := s.Next(ctx, make([]uint64, 1)); !errors.Is(err, context.Canceled) {
				t.Errorf("Next = %v", err)
			}
		}},
		{"clock before the epoch", func(t *testing.T, s *Snowflake, c *fakeClock) {
			c.now = SnowflakeEpoch.Add(-time.Hour)
			err := s.Next(context.Background(), make([]uint64, 1))
			if err == nil || !strings.Contains(err.Error(), "outside the ID range") {
				t.Errorf("Next = %v", err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, c := newFakeSnowflake(t, 7, base)
			tc.run(t, s, c)
		})
	}
}

// TestSnowflakeConcurrent uses the real clock: many goroutines on several
// workers; IDs unique overall, monotonic per generator.
func TestSnowflakeConcurrent(t *testing.T) {
	const gens, workers, calls = 3, 16, 2000
	recs := make([]*recorder, gens)
	var wg sync.WaitGroup
	for i := range recs {
		recs[i] = &recorder{}
		s, err := NewSnowflake(uint16(100+i), nil)
		if err != nil {
			t.Fatal(err)
		}
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for c := 0; c < calls; c++ {
					n := 1 + (w+c)%5
					if c%500 == 0 {
						n = 5000 // crosses a millisecond
					}
					if err := recs[i].do(context.Background(), s, n); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	var sets [][]call
	want := 0
	for i, r := range recs {
		checkMonotonic(t, r.calls)
		sets = append(sets, r.calls)
		for _, c := range r.calls {
			want += len(c.ids)
			if _, w, _ := ParseSnowflake(c.ids[0]); w != uint16(100+i) {
				t.Fatalf("worker %d in an ID of generator %d", w, i)
			}
		}
	}
	if n := checkUnique(t, sets...); n != want {
		t.Errorf("%d distinct IDs, want %d", n, want)
	}
}
