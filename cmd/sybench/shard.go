package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"time"
)

// shardQueries are the scatter queries of `sybench scatter`: the same
// text runs through the proxy (a table sharded over three slices) and on
// one server holding every row.
var shardQueries = []string{
	"SELECT id, k FROM t_big ORDER BY k, id LIMIT 10",
	"SELECT id, k FROM t_big ORDER BY k, id LIMIT 100000, 10",
	"SELECT id, k FROM t_big ORDER BY k, id",
	"SELECT k % 1000, COUNT(*), SUM(id) FROM t_big GROUP BY k % 1000",
	"SELECT COUNT(*), SUM(k), AVG(k), MIN(k), MAX(k) FROM t_big",
	"SELECT COUNT(DISTINCT k) FROM t_big",
	"SELECT id, k FROM t_big WHERE id IN (17, 500001, 999999)",
}

// readAll runs q and reads every row; it returns the time and row count.
func readAll(db *sql.DB, q string) (time.Duration, int64, error) {
	start := time.Now()
	rows, err := db.Query(q)
	if err != nil {
		return 0, 0, err
	}
	cols, _ := rows.Columns()
	vals := make([]sql.RawBytes, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var n int64
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			rows.Close()
			return 0, 0, err
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return 0, 0, err
	}
	rows.Close()
	return time.Since(start), n, nil
}

// scatter times the scatter queries through the proxy and directly, and
// samples the proxy's memory while they run.
func scatter(args []string) error {
	fs := flag.NewFlagSet("scatter", flag.ContinueOnError)
	proxy := fs.String("proxy", "", "proxy address")
	direct := fs.String("direct", "", "address of the server holding the reference table")
	user := fs.String("user", "", "proxy user")
	pass := fs.String("pass", "", "proxy password")
	duser := fs.String("direct-user", "root", "direct user")
	dpass := fs.String("direct-pass", "root", "direct password")
	db := fs.String("db", "bench_shard", "logical database (proxy)")
	refdb := fs.String("ref-db", "bench_ref", "database of the reference table (direct)")
	repeat := fs.Int("repeat", 3, "runs per query and target")
	pid := fs.Int("pid", 0, "proxy pid (memory sampling)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	pdb, err := openDB(*proxy, *user, *pass, *db)
	if err != nil {
		return err
	}
	defer pdb.Close()
	ddb, err := openDB(*direct, *duser, *dpass, *refdb)
	if err != nil {
		return err
	}
	defer ddb.Close()
	fmt.Println("| query | rows | proxy (3 slices) s | one server s | proxy peak RSS MiB |")
	fmt.Println("|---|---:|---:|---:|---:|")
	for _, q := range shardQueries {
		var pt, dt []float64
		var rows int64
		var peak int64
		for i := 0; i < *repeat; i++ {
			var s *sampler
			if *pid > 0 {
				s = startSampler(*pid, 20*time.Millisecond)
			}
			d, n, err := readAll(pdb, q)
			if s != nil {
				if p := s.Stop(); p > peak {
					peak = p
				}
			}
			if err != nil {
				return fmt.Errorf("proxy: %s: %w", q, err)
			}
			rows = n
			pt = append(pt, d.Seconds())
			d, n2, err := readAll(ddb, strings.ReplaceAll(q, "t_big", "t_ref"))
			if err != nil {
				return fmt.Errorf("direct: %s: %w", q, err)
			}
			if n2 != n {
				return fmt.Errorf("%s: %d rows through the proxy, %d directly", q, n, n2)
			}
			dt = append(dt, d.Seconds())
		}
		fmt.Printf("| `%s` | %d | %.3f | %.3f | %s |\n", q, rows, median(pt), median(dt), mib(peak))
	}
	return nil
}

// txn compares transactions that write on one slice with transactions
// that write on two (XA two-phase commit), and measures sequence inserts.
func txn(args []string) error {
	fs := flag.NewFlagSet("txn", flag.ContinueOnError)
	proxy := fs.String("proxy", "", "proxy address")
	user := fs.String("user", "", "proxy user")
	pass := fs.String("pass", "", "proxy password")
	db := fs.String("db", "bench_shard", "logical database")
	clients := fs.Int("clients", 8, "client connections")
	dur := fs.Duration("time", 10*time.Second, "duration of each workload")
	accounts := fs.Int("accounts", 3000, "accounts (t_acct, sharded by id % 3 over three slices)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	d, err := openDB(*proxy, *user, *pass, *db)
	if err != nil {
		return err
	}
	defer d.Close()
	d.SetMaxOpenConns(*clients)
	d.SetMaxIdleConns(*clients)
	type workload struct {
		name string
		run  func(r *rand.Rand, conn *sql.Conn) error
	}
	pick := func(r *rand.Rand, sameSlice bool) (int, int) {
		a := r.IntN(*accounts)
		for {
			b := r.IntN(*accounts)
			if b != a && (b%3 == a%3) == sameSlice {
				if b < a {
					a, b = b, a
				}
				return a, b
			}
		}
	}
	tx := func(sameSlice bool) func(r *rand.Rand, conn *sql.Conn) error {
		return func(r *rand.Rand, conn *sql.Conn) error {
			a, b := pick(r, sameSlice)
			ctx := context.Background()
			t, err := conn.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			if _, err := t.Exec("UPDATE t_acct SET balance = balance - 1 WHERE id = ?", a); err != nil {
				t.Rollback()
				return err
			}
			if _, err := t.Exec("UPDATE t_acct SET balance = balance + 1 WHERE id = ?", b); err != nil {
				t.Rollback()
				return err
			}
			return t.Commit()
		}
	}
	workloads := []workload{
		{"transaction on one slice (2 UPDATEs)", tx(true)},
		{"transaction on two slices (2 UPDATEs, XA)", tx(false)},
		{"INSERT with the id given", func(r *rand.Rand, conn *sql.Conn) error {
			_, err := conn.ExecContext(context.Background(), "INSERT INTO t_given (id, v) VALUES (?, 'x')", r.Uint64()>>1)
			return err
		}},
		{"INSERT, id from the proxy's sequence", func(r *rand.Rand, conn *sql.Conn) error {
			_, err := conn.ExecContext(context.Background(), "INSERT INTO t_seq (v) VALUES ('x')")
			return err
		}},
	}
	fmt.Printf("| workload (%d clients, %v) | per second | p95 ms | errors |\n", *clients, *dur)
	fmt.Println("|---|---:|---:|---:|")
	for _, w := range workloads {
		var mu sync.Mutex
		var lat []time.Duration
		errs := 0
		var wg sync.WaitGroup
		end := time.Now().Add(*dur)
		for c := 0; c < *clients; c++ {
			wg.Add(1)
			go func(c int) {
				defer wg.Done()
				r := rand.New(rand.NewPCG(uint64(c), uint64(time.Now().UnixNano())))
				conn, err := d.Conn(context.Background())
				if err != nil {
					mu.Lock()
					errs++
					mu.Unlock()
					return
				}
				defer conn.Close()
				for time.Now().Before(end) {
					start := time.Now()
					err := w.run(r, conn)
					el := time.Since(start)
					mu.Lock()
					if err != nil {
						errs++
						if errs <= 3 {
							fmt.Fprintf(os.Stderr, "sybench txn: %s: %v\n", w.name, err)
						}
					} else {
						lat = append(lat, el)
					}
					mu.Unlock()
				}
			}(c)
		}
		wg.Wait()
		fmt.Printf("| %s | %.0f | %.2f | %d |\n", w.name, float64(len(lat))/dur.Seconds(), ms(p95(lat)), errs)
	}
	return nil
}
