package governance

import (
	"testing"

	"github.com/switchyard-db/switchyard/internal/digest"
)

// BenchmarkCheck measures the access check on the statement path: the
// fast path (no qualified name) and a full parse.
func BenchmarkCheck(b *testing.B) {
	p := policy(&testing.T{}, "ua") // a valid fixture: policy does not fail
	for _, q := range []struct{ name, sql string }{
		{"fast", "SELECT id, name FROM t WHERE id = 42"},
		{"qualified", "SELECT u.id, u.name FROM a1.t u JOIN a2.t o ON o.id = u.id WHERE u.id = 42"},
	} {
		b.Run(q.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				p.Check(q.sql, "a1")
			}
		})
	}
	b.Run("fingerprint", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			digest.Fingerprint("SELECT u.id, u.name FROM a1.t u JOIN a2.t o ON o.id = u.id WHERE u.id = 42")
		}
	})
}
