package merge

import (
	"sync/atomic"

	"github.com/switchyard-db/switchyard/internal/protocol"
)

// Shared is a memory budget in bytes that the merges (and held results) of
// every session draw from together: the proxy-wide merge_memory, on top of
// each query's merge_max_bytes. A nil *Shared is unlimited.
type Shared struct {
	max  int64
	used atomic.Int64
}

// NewShared returns a budget of max bytes (nil when max <= 0: unlimited).
func NewShared(max int64) *Shared {
	if max <= 0 {
		return nil
	}
	return &Shared{max: max}
}

// Take reserves n bytes, or reports false (and reserves nothing) when that
// would exceed the budget.
func (s *Shared) Take(n int64) bool {
	if s == nil || n <= 0 {
		return true
	}
	if s.used.Add(n) > s.max {
		s.used.Add(-n)
		return false
	}
	return true
}

// Give returns n bytes taken before.
func (s *Shared) Give(n int64) {
	if s != nil && n > 0 {
		s.used.Add(-n)
	}
}

// Used is the number of bytes taken now.
func (s *Shared) Used() int64 {
	if s == nil {
		return 0
	}
	return s.used.Load()
}

func (s *Shared) tooBig() error {
	return protocol.NewError(ErrTooBig, "HY001",
		"merging sharded results needs memory the proxy-wide merge_memory=%d bytes has no room for now (other queries hold it); retry, narrow the query by its shard key or raise merge_memory", s.max)
}

// TooBig is the error for a held result that does not fit in s.
func (s *Shared) TooBig() error { return s.tooBig() }
