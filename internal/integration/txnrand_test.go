package integration

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
)

// TestRandomTransactionControl is the adversary of the transaction
// control: random sequences of BEGIN / START TRANSACTION, COMMIT, ROLLBACK,
// SET autocommit, SAVEPOINT / ROLLBACK TO, DDL (implicit commit) and writes
// over three slices, each sent as text or as a server-side prepared
// statement at random, run through the proxy and, as the same text, on one
// plain MariaDB session. After every statement the error codes and
// affected rows must match; whenever the reference has no open transaction
// the committed rows must match, as seen by another connection (the proxy's
// read directly from every slice's physical table, so a row on the wrong
// slice is a failure too).
//
// SWITCHYARD_TXNRAND_SEEDS=n runs n random seeds instead of the fixed ones.
func TestRandomTransactionControl(t *testing.T) {
	h, _ := dtxSetup(t)
	ref := h.topo.Slices[0].Primary
	h.topo.Exec(t, ref, "DROP DATABASE IF EXISTS it_txref", "CREATE DATABASE it_txref",
		"CREATE TABLE it_txref.t_user (id BIGINT PRIMARY KEY, name VARCHAR(40))")
	t.Cleanup(func() { h.topo.Exec(t, ref, "DROP DATABASE IF EXISTS it_txref") })
	refDB := h.rootDB(ref, "it_txref")
	var slices [3]*sql.DB
	for i := range slices {
		slices[i] = h.rootDB(h.topo.Slices[i].Primary, "it_dtx")
	}
	proxyDB := h.open(plainUser, plainPass, "it_dtx", "") // reads on primaries: the reference is one server
	seeds := []uint64{1, 2, 3, 4, 5, 6}
	if n, err := strconv.Atoi(os.Getenv("SWITCHYARD_TXNRAND_SEEDS")); err == nil && n > 0 {
		seeds = seeds[:0]
		for i := 0; i < n; i++ {
			seeds = append(seeds, rand.Uint64())
		}
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			mustExec(t, proxyDB, "DELETE FROM t_user")
			mustExec(t, refDB, "DELETE FROM t_user")
			runTxnSequence(t, slices[:], proxyDB, refDB, seed, 80)
		})
	}
}

// txnOp is one generated statement; prepared says how the proxy gets it.
type txnOp struct {
	sql      string
	prepared bool
}

func genTxnOp(r *rand.Rand) txnOp {
	id := func() int { return r.IntN(30) }
	var q string
	switch k := r.IntN(100); {
	case k < 8:
		q = []string{"BEGIN", "START TRANSACTION"}[r.IntN(2)]
	case k < 18:
		q = "COMMIT"
	case k < 25:
		q = "ROLLBACK"
	case k < 33:
		q = fmt.Sprintf("SET autocommit=%d", r.IntN(2))
	case k < 37:
		q = "SAVEPOINT sp" + strconv.Itoa(r.IntN(2))
	case k < 40:
		q = "ROLLBACK TO SAVEPOINT sp" + strconv.Itoa(r.IntN(2))
	case k < 42:
		q = fmt.Sprintf("ALTER TABLE t_user COMMENT = 'c%d'", r.IntN(1000))
	case k < 62:
		q = fmt.Sprintf("INSERT INTO t_user (id, name) VALUES (%d, 'i%d')", id(), r.IntN(100))
	case k < 70:
		q = fmt.Sprintf("INSERT INTO t_user (id, name) VALUES (%d, 'm'), (%d, 'm')", id(), id())
	case k < 84:
		q = fmt.Sprintf("UPDATE t_user SET name = 'u%d' WHERE id IN (%d, %d)", r.IntN(100), id(), id())
	case k < 92:
		q = fmt.Sprintf("DELETE FROM t_user WHERE id = %d", id())
	default:
		q = "SELECT COUNT(*), SUM(id) FROM t_user"
	}
	return txnOp{sql: q, prepared: r.IntN(2) == 0}
}

// outcome is what a statement did: an error code, or affected rows / the
// first row of a result.
type outcome struct {
	code     uint16
	affected int64
	row      string
}

func (o outcome) String() string {
	if o.code != 0 {
		return fmt.Sprintf("error %d", o.code)
	}
	if o.row != "" {
		return "row " + o.row
	}
	return fmt.Sprintf("%d affected", o.affected)
}

func runOp(ctx context.Context, c *sql.Conn, op txnOp) (outcome, error) {
	if strings.HasPrefix(op.sql, "SELECT") {
		var a, b sql.NullString
		var err error
		if op.prepared {
			var st *sql.Stmt
			if st, err = c.PrepareContext(ctx, op.sql); err == nil {
				err = st.QueryRowContext(ctx).Scan(&a, &b)
				st.Close()
			}
		} else {
			err = c.QueryRowContext(ctx, op.sql).Scan(&a, &b)
		}
		if err != nil {
			return errOutcome(err)
		}
		return outcome{row: a.String + "," + b.String}, nil
	}
	var res sql.Result
	var err error
	if op.prepared {
		var st *sql.Stmt
		if st, err = c.PrepareContext(ctx, op.sql); err == nil {
			res, err = st.ExecContext(ctx)
			st.Close()
		}
	} else {
		res, err = c.ExecContext(ctx, op.sql)
	}
	if err != nil {
		return errOutcome(err)
	}
	n, _ := res.RowsAffected()
	return outcome{affected: n}, nil
}

func errOutcome(err error) (outcome, error) {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return outcome{code: me.Number}, nil
	}
	return outcome{}, err
}

func runTxnSequence(t *testing.T, slices []*sql.DB, proxyDB, refDB *sql.DB, seed uint64, n int) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	pc, err := proxyDB.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	rc, err := refDB.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var log []string
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("seed %d after:\n  %s\n%s", seed, strings.Join(log, "\n  "), fmt.Sprintf(format, args...))
	}
	for i := 0; i < n; i++ {
		op := genTxnOp(r)
		mode := "text"
		if op.prepared {
			mode = "prepared"
		}
		log = append(log, fmt.Sprintf("[%s] %s", mode, op.sql))
		want, err := runOp(ctx, rc, txnOp{sql: op.sql})
		if err != nil {
			fail("reference: %v", err)
		}
		got, err := runOp(ctx, pc, op)
		if err != nil {
			fail("proxy: %v", err)
		}
		if got != want {
			fail("proxy answered %s, MariaDB %s", got, want)
		}
		var inTxn int
		if err := rc.QueryRowContext(ctx, "SELECT @@in_transaction").Scan(&inTxn); err != nil {
			fail("reference: %v", err)
		}
		if inTxn == 0 {
			if p, w := proxyCommitted(t, slices), refCommitted(t, refDB); p != w {
				fail("committed rows differ:\n  proxy (physical): %s\n  MariaDB:          %s", p, w)
			}
		}
	}
	mustExec(t, rc, "ROLLBACK", "SET autocommit=1")
	mustExec(t, pc, "ROLLBACK", "SET autocommit=1")
	if p, w := proxyCommitted(t, slices), refCommitted(t, refDB); p != w {
		fail("committed rows differ at the end:\n  proxy (physical): %s\n  MariaDB:          %s", p, w)
	}
}

// proxyCommitted lists the committed rows of every physical t_user table,
// read directly from the slices; a row on a slice its id does not select is
// reported as misplaced.
func proxyCommitted(t *testing.T, slices []*sql.DB) string {
	t.Helper()
	var rows []string
	for s, d := range slices {
		q, err := d.Query(fmt.Sprintf("SELECT id, name FROM t_user_%04d", s))
		if err != nil {
			t.Fatal(err)
		}
		for q.Next() {
			var id int
			var name string
			if err := q.Scan(&id, &name); err != nil {
				t.Fatal(err)
			}
			if id%3 != s {
				name += fmt.Sprintf("(MISPLACED on slice %d)", s)
			}
			rows = append(rows, fmt.Sprintf("%d:%s", id, name))
		}
		q.Close()
	}
	sort.Strings(rows)
	return strings.Join(rows, " ")
}

func refCommitted(t *testing.T, refDB *sql.DB) string {
	t.Helper()
	q, err := refDB.Query("SELECT id, name FROM t_user")
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	var rows []string
	for q.Next() {
		var id int
		var name string
		if err := q.Scan(&id, &name); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, fmt.Sprintf("%d:%s", id, name))
	}
	sort.Strings(rows)
	return strings.Join(rows, " ")
}
