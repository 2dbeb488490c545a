package merge

import (
	"errors"

	"github.com/switchyard-db/switchyard/internal/protocol"
)

// ErrTooBig is the code of the *protocol.Error (ER_OUT_OF_SORTMEMORY,
// SQLSTATE HY001) Run returns when what it must hold exceeds Plan.MaxRows
// or Plan.MaxBytes.
const ErrTooBig uint16 = 1038

const (
	errCodeMalformed  uint16 = 2027 // CR_MALFORMED_PACKET
	errCodeOutOfRange uint16 = 1690 // ER_DATA_OUT_OF_RANGE
)

// errStop ends reading once LIMIT rows went out; Run returns nil for it.
var errStop = errors.New("merge: limit reached")

func tooBig(p *Plan) error {
	return protocol.NewError(ErrTooBig, "HY001",
		"merging sharded results needs more than merge_max_rows=%d rows (or merge_max_bytes=%d bytes) in memory; narrow the query by its shard key or raise the limit",
		p.MaxRows, p.MaxBytes)
}

func malformed() error {
	return protocol.NewError(errCodeMalformed, "HY000", "Malformed packet")
}

func outOfRange(unsigned bool) error {
	if unsigned {
		return protocol.NewError(errCodeOutOfRange, "22003", "BIGINT UNSIGNED value is out of range")
	}
	return protocol.NewError(errCodeOutOfRange, "22003", "BIGINT value is out of range")
}

func badPlan(format string, args ...any) error {
	return protocol.NewError(protocol.ErrUnknown, "HY000", "invalid merge plan: "+format, args...)
}
