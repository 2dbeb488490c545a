package sequence

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-db/switchyard/internal/protocol"
)

// benchExecer is an in-memory row that answers the allocation UPDATE (and
// accepts the Ensure statements), after an optional simulated round trip.
func benchExecer(rtt time.Duration) Execer {
	var mu sync.Mutex
	next := uint64(1)
	return func(_ context.Context, sql string) (protocol.OK, error) {
		if rtt > 0 {
			time.Sleep(rtt)
		}
		i := strings.Index(sql, "next_id + ")
		if !strings.HasPrefix(sql, "UPDATE") || i < 0 {
			return protocol.OK{AffectedRows: 1}, nil
		}
		rest := sql[i+len("next_id + "):]
		k, err := strconv.ParseUint(rest[:strings.IndexByte(rest, ')')], 10, 64)
		if err != nil {
			return protocol.OK{}, err
		}
		mu.Lock()
		next += k
		v := next
		mu.Unlock()
		return protocol.OK{AffectedRows: 1, LastInsertID: v}, nil
	}
}

// BenchmarkTableNext: IDs per second from Table with an in-memory execer
// (rtt 0: the generator's own cost) or one simulating a 1ms round trip
// (time.Sleep: shorter sleeps also take about 1ms on Linux),
// by block size and IDs per call, from parallel goroutines.
func BenchmarkTableNext(b *testing.B) {
	for _, rtt := range []time.Duration{0, time.Millisecond} {
		for _, block := range []uint64{100, 1000} {
			for _, refill := range []float64{0, 0.8} {
				for _, n := range []int{1, 10} {
					name := fmt.Sprintf("rtt=%v/block=%d/refill=%v/ids=%d", rtt, block, refill, n)
					b.Run(name, func(b *testing.B) {
						g, err := NewTable(TableConfig{Name: "b", Table: "d.t", Block: block, Refill: refill}, benchExecer(rtt))
						if err != nil {
							b.Fatal(err)
						}
						b.ReportAllocs()
						b.RunParallel(func(pb *testing.PB) {
							ids := make([]uint64, n)
							for pb.Next() {
								if err := g.Next(context.Background(), ids); err != nil {
									b.Error(err)
									return
								}
							}
						})
						b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "IDs/s")
					})
				}
			}
		}
	}
}

// BenchmarkSnowflake: IDs per second from one Snowflake generator (real
// clock), serially and from parallel goroutines, by IDs per call. The
// ceiling is 4096 IDs per millisecond (4,096,000/s) per worker.
func BenchmarkSnowflake(b *testing.B) {
	for _, clock := range []string{"real", "fake"} {
		for _, n := range []int{1, 10, 100} {
			for _, parallel := range []bool{false, true} {
				b.Run(fmt.Sprintf("clock=%s/ids=%d/parallel=%v", clock, n, parallel), func(b *testing.B) {
					benchSnowflake(b, clock, n, parallel)
				})
			}
		}
	}
}

// benchSnowflake runs one BenchmarkSnowflake case. The fake clock moves a
// millisecond at every reading (Next reads it once per call), so that the
// generator's own cost shows without the 4096 IDs/ms ceiling.
func benchSnowflake(b *testing.B, clock string, n int, parallel bool) {
	var now func() time.Time
	if clock == "fake" {
		var ms int64 // read under the generator's lock
		now = func() time.Time {
			ms++
			return SnowflakeEpoch.Add(time.Duration(ms) * time.Millisecond)
		}
	}
	s, err := NewSnowflake(1, now)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	if parallel {
		b.RunParallel(func(pb *testing.PB) {
			ids := make([]uint64, n)
			for pb.Next() {
				if err := s.Next(context.Background(), ids); err != nil {
					b.Error(err)
					return
				}
			}
		})
	} else {
		ids := make([]uint64, n)
		for i := 0; i < b.N; i++ {
			if err := s.Next(context.Background(), ids); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "IDs/s")
}
