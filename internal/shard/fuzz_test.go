package shard

import (
	"testing"
	"time"
)

// FuzzLocate throws arbitrary keys at every algorithm: no panics, and a
// successful Locate always returns one of All.
func FuzzLocate(f *testing.F) {
	for _, s := range []string{"2016-03-04", "2016-03-04 10:11:12.123456", "2016-02-30", "42", "abc", "", "9999-12-31T23:59:59"} {
		f.Add(s, int64(len(s)))
	}
	f.Add("x", int64(-1<<63))
	f.Add("y", int64(1<<63-1))
	r := rulesFor(f, benchBody+`          - {name: t_x, type: sharded, key: id, algorithm: range, slices: [s0, s1], ranges: [[min, 0], [0, max]]}
          - {name: t_d, type: sharded, key: c, algorithm: date_day, slices: [s0, s1], ranges: ["20151231-20160101", "20160102-20160103"], timezone: Asia/Shanghai}
`)
	f.Fuzz(func(t *testing.T, s string, n int64) {
		vals := []Value{String(s), Int(n), Uint(uint64(n)), Time(time.Unix(n%(1<<40), 0))}
		for _, tb := range r.Tables() {
			in := make(map[Target]bool)
			for _, tg := range tb.All() {
				in[tg] = true
			}
			for _, v := range vals {
				if tg, err := tb.Locate(v); err == nil && !in[tg] {
					t.Fatalf("%s.Locate(%s) = %+v, not in All", tb.Name(), v, tg)
				}
				_, _ = tb.LocateRange(Inclusive(v), Exclusive(vals[1]))
				_, _ = tb.LocateRange(Exclusive(v), Unbounded)
			}
			_, _ = tb.LocateIn(vals)
		}
	})
}
