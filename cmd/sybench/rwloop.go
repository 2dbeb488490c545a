package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"sort"
	"sync"
	"time"
)

// rwloop: each client updates its own row and reads it back at once,
// counting reads that do not see the write just made (stale reads).
func rwLoop(args []string) error {
	fs := flag.NewFlagSet("rwloop", flag.ContinueOnError)
	addr := fs.String("proxy", "127.0.0.1:14506", "proxy address")
	user := fs.String("user", "", "user (its read_consistency applies)")
	pass := fs.String("pass", "", "password")
	db := fs.String("db", "bench", "database")
	clients := fs.Int("clients", 8, "client connections")
	dur := fs.Duration("time", 10*time.Second, "duration")
	if err := fs.Parse(args); err != nil {
		return err
	}
	d, err := sql.Open("mysql", fmt.Sprintf("%s:%s@tcp(%s)/%s", *user, *pass, *addr, *db))
	if err != nil {
		return err
	}
	defer d.Close()
	d.SetMaxOpenConns(*clients)
	if _, err := d.Exec("CREATE TABLE IF NOT EXISTS rwloop (id INT PRIMARY KEY, v BIGINT)"); err != nil {
		return err
	}
	for i := 0; i < *clients; i++ {
		if _, err := d.Exec("INSERT IGNORE INTO rwloop VALUES (?, 0)", i); err != nil {
			return err
		}
	}
	var mu sync.Mutex
	var lat []time.Duration
	loops, stale, errs := 0, 0, 0
	var wg sync.WaitGroup
	end := time.Now().Add(*dur)
	for c := 0; c < *clients; c++ {
		wg.Add(1)
		go func(id int) {
			defer wg.Done()
			conn, err := d.Conn(bgctx())
			if err != nil {
				return
			}
			defer conn.Close()
			for v := int64(1); time.Now().Before(end); v++ {
				start := time.Now()
				if _, err := conn.ExecContext(bgctx(), "UPDATE rwloop SET v = ? WHERE id = ?", v, id); err != nil {
					mu.Lock()
					errs++
					mu.Unlock()
					continue
				}
				var got int64
				err := conn.QueryRowContext(bgctx(), "SELECT v FROM rwloop WHERE id = ?", id).Scan(&got)
				el := time.Since(start)
				mu.Lock()
				loops++
				lat = append(lat, el)
				if err != nil {
					errs++
				} else if got != v {
					stale++
				}
				mu.Unlock()
			}
		}(c)
	}
	wg.Wait()
	fmt.Printf("| %s | %d | %.0f | %.2f | %d | %d |\n", *user, loops, float64(loops)/dur.Seconds(), ms(p95(lat)), stale, errs)
	return nil
}

func bgctx() context.Context { return context.Background() }

// p95 is the 95th percentile of lat (sorted in place).
func p95(lat []time.Duration) time.Duration {
	if len(lat) == 0 {
		return 0
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return lat[len(lat)*95/100]
}

// ms is d in milliseconds.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
