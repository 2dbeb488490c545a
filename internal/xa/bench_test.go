package xa

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard-db/switchyard/internal/protocol"
)

// countConn counts round trips.
type countConn struct {
	Conn
	n *atomic.Int64
}

func (c countConn) Exec(sql string) (protocol.OK, error) {
	c.n.Add(1)
	return c.Conn.Exec(sql)
}

func (c countConn) QueryRows(sql string) ([]string, [][]string, error) {
	c.n.Add(1)
	return c.Conn.QueryRows(sql)
}

// BenchmarkCommit compares, on the real topology, a transaction that stays
// on one slice (BEGIN, one UPDATE, COMMIT) with the same work spread over 2
// and 3 slices and committed with XA. Each op is a whole transaction; the
// metrics give the round trips per transaction and per Commit (all
// connections counted) and the time of Commit alone. On the critical path a
// local commit is 1 round trip and an XA commit 3 whatever the number of
// branches (PREPARE, the decision's COMMIT, XA COMMIT; each phase runs on
// the branches in parallel), plus XA START when a branch joins.
//
//	SWITCHYARD_TOPOLOGY=... go test -run '^$' -bench Commit ./internal/xa
func BenchmarkCommit(b *testing.B) {
	e := newEnv(b, accountsSchema, "INSERT INTO acct VALUES (1, 0)")
	co := e.coordinator("bench", nil)
	for _, slices := range []int{1, 2, 3} {
		name := "local-1slice"
		if slices > 1 {
			name = fmt.Sprintf("xa-%dslices", slices)
		}
		b.Run(name, func(b *testing.B) {
			var trips atomic.Int64
			conns := make([]Conn, slices)
			for i := range conns {
				bc := e.dial(e.names[i])
				defer bc.Close()
				conns[i] = countConn{bc, &trips}
			}
			var commitTime time.Duration
			var commitTrips int64
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				mustExec(b, conns[0], "BEGIN")
				tx := co.Begin(e.names[0], conns[0])
				mustExec(b, conns[0], "UPDATE acct SET bal = bal + 1 WHERE id = 1")
				for j := 1; j < slices; j++ {
					if err := tx.Join(e.names[j], conns[j]); err != nil {
						b.Fatal(err)
					}
					mustExec(b, conns[j], "UPDATE acct SET bal = bal + 1 WHERE id = 1")
				}
				before := trips.Load()
				start := time.Now()
				if err := tx.Commit(context.Background()); err != nil {
					b.Fatal(err)
				}
				commitTime += time.Since(start)
				commitTrips += trips.Load() - before
			}
			b.StopTimer()
			b.ReportMetric(float64(trips.Load())/float64(b.N), "roundtrips/op")
			b.ReportMetric(float64(commitTime.Nanoseconds())/float64(b.N), "commit-ns/op")
			b.ReportMetric(float64(commitTrips)/float64(b.N), "commit-roundtrips/op")
			if _, err := co.FlushCleanup(e.names[0], conns[0]); err != nil {
				b.Fatal(err)
			}
			if got := e.query(e.names[0], "SELECT COUNT(*) FROM "+e.decDB+".xa_decisions"); strings.TrimSpace(got) != "0" {
				b.Errorf("%s decision rows left", got)
			}
		})
	}
}
