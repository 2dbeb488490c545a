package sequence

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"
)

// Snowflake ID layout, from the most significant bit: 0, 41 bits of
// milliseconds since SnowflakeEpoch (enough until 2089), 10 bits of worker
// id, 12 bits of sequence within the millisecond.
const (
	SnowflakeWorkerBits = 10
	SnowflakeSeqBits    = 12
	SnowflakeMaxWorker  = 1<<SnowflakeWorkerBits - 1
	snowflakeMaxSeq     = 1<<SnowflakeSeqBits - 1
	snowflakeMaxMillis  = 1<<41 - 1
)

// SnowflakeEpoch is the time of the millisecond 0 of Snowflake IDs.
var SnowflakeEpoch = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// MaxClockBackwards is how far the clock may step back before Next fails
// rather than wait: Next waits for the clock to catch up to the last
// millisecond it used when the step is at most this long.
const MaxClockBackwards = 5 * time.Millisecond

// ErrClockBackwards is returned (wrapped) when the clock stepped back more
// than MaxClockBackwards.
var ErrClockBackwards = errors.New("sequence: clock moved backwards")

// Snowflake is a Generator composing IDs from the time, a worker id and a
// per-millisecond counter: up to 4096 IDs per millisecond per worker (Next
// waits for the next millisecond beyond that). IDs are unique across
// generators with distinct worker ids (every proxy of a namespace needs its
// own), and across restarts of one worker as long as the clock does not step
// back over the restart. It is safe for concurrent use.
type Snowflake struct {
	worker uint64
	now    func() time.Time
	// sleep waits d or until ctx is done; replaced by tests with fake clocks.
	sleep func(ctx context.Context, d time.Duration) error

	mu   sync.Mutex
	last int64  // milliseconds since the epoch of the last ID, -1 before the first
	seq  uint64 // sequence of the last ID within last
}

// NewSnowflake returns a generator for workerID (0..1023) reading the clock
// with now (time.Now if nil).
func NewSnowflake(workerID uint16, now func() time.Time) (*Snowflake, error) {
	if workerID > SnowflakeMaxWorker {
		return nil, fmt.Errorf("sequence: snowflake worker id %d is not in 0..%d", workerID, SnowflakeMaxWorker)
	}
	if now == nil {
		now = time.Now
	}
	return &Snowflake{worker: uint64(workerID), now: now, sleep: sleepCtx, last: -1}, nil
}

// sleepCtx waits d or until ctx is done. Waits up to a millisecond (for
// the next millisecond after 4096 IDs) spin, yielding the processor: timers
// can fire a millisecond late, which would cost a quarter of the rate.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= time.Millisecond {
		for end := time.Now().Add(d); time.Now().Before(end); {
			if err := ctx.Err(); err != nil {
				return err
			}
			runtime.Gosched()
		}
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// millis returns the clock in milliseconds since the epoch.
func (s *Snowflake) millis() (int64, error) {
	ms := s.now().Sub(SnowflakeEpoch).Milliseconds()
	if ms < 0 || ms > snowflakeMaxMillis {
		return 0, fmt.Errorf("sequence: snowflake: clock %v is outside the ID range (%v + 2^41 ms)", s.now(), SnowflakeEpoch)
	}
	return ms, nil
}

// tick returns a millisecond after s.last, waiting for the clock to get
// there: at most until the next millisecond when the clock is on s.last, at
// most MaxClockBackwards (then an error) when it is behind.
func (s *Snowflake) tick(ctx context.Context) (int64, error) {
	var waited time.Duration
	for {
		ms, err := s.millis()
		if err != nil {
			return 0, err
		}
		if ms > s.last {
			return ms, nil
		}
		behind := time.Duration(s.last-ms) * time.Millisecond
		if behind > MaxClockBackwards {
			return 0, s.backwards(ms, waited)
		}
		// Sleep to the start of millisecond s.last+1 of the clock.
		d := SnowflakeEpoch.Add(time.Duration(s.last+1) * time.Millisecond).Sub(s.now())
		if d <= 0 {
			d = 50 * time.Microsecond
		}
		if d > time.Millisecond+behind {
			d = time.Millisecond + behind
		}
		if behind > 0 {
			// Wait at most MaxClockBackwards (+ the millisecond to get past
			// s.last) in all.
			budget := MaxClockBackwards + time.Millisecond - waited
			if budget <= 0 {
				return 0, s.backwards(ms, waited)
			}
			d = min(d, budget)
		}
		if err := s.sleep(ctx, d); err != nil {
			return 0, err
		}
		waited += d
	}
}

func (s *Snowflake) backwards(ms int64, waited time.Duration) error {
	return fmt.Errorf("%w by %v (clock at %d ms after the epoch, last ID at %d ms; waited %v)",
		ErrClockBackwards, time.Duration(s.last-ms)*time.Millisecond, ms, s.last, waited)
}

// Next implements Generator. It reads the clock once per call and again
// only when 4096 IDs of one millisecond are used up.
func (s *Snowflake) Next(ctx context.Context, ids []uint64) error {
	if len(ids) == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ms, err := s.millis()
	if err != nil {
		return err
	}
	if ms > s.last {
		s.last, s.seq = ms, 0
		ids[0] = s.id()
		ids = ids[1:]
	}
	for i := range ids {
		if s.seq == snowflakeMaxSeq {
			ms, err := s.tick(ctx)
			if err != nil {
				return err // the IDs before i stay unused: not a problem
			}
			s.last, s.seq = ms, 0
		} else {
			s.seq++
		}
		ids[i] = s.id()
	}
	return nil
}

// TryNext implements NonBlocking: it fails instead of waiting for the next
// millisecond (or for a clock that went back).
func (s *Snowflake) TryNext(ids []uint64) bool {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return s.Next(ctx, ids) == nil
}

func (s *Snowflake) id() uint64 {
	return uint64(s.last)<<(SnowflakeWorkerBits+SnowflakeSeqBits) | s.worker<<SnowflakeSeqBits | s.seq
}

// ParseSnowflake splits an ID into its time, worker id and sequence.
func ParseSnowflake(id uint64) (t time.Time, worker uint16, seq uint16) {
	ms := int64(id >> (SnowflakeWorkerBits + SnowflakeSeqBits))
	return SnowflakeEpoch.Add(time.Duration(ms) * time.Millisecond),
		uint16(id >> SnowflakeSeqBits & SnowflakeMaxWorker),
		uint16(id & snowflakeMaxSeq)
}
