// Package loadgen drives a steady write and read load through a proxy while
// something happens to the backends (a failover, a switchover), and
// reports what clients saw: failed statements by error, the longest time
// without a successful write, and whether every acknowledged write
// survived. It is used by the failover tests and the failover benchmark.
package loadgen

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Options configure a load.
type Options struct {
	// DSN of the proxy, with a database that holds (or may hold) Table.
	DSN string
	// Table receives the writes (created if missing).
	Table string
	// Writers and Readers are the numbers of client connections of each kind.
	Writers, Readers int
	// Interval between two statements of one client (default 10ms).
	Interval time.Duration
	// Idle client connections opened at the start and checked at the end.
	Idle int
}

// Load is a running load.
type Load struct {
	opts   Options
	db     *sql.DB
	cancel context.CancelFunc
	wg     sync.WaitGroup
	start  time.Time

	mu        sync.Mutex
	acked     []int64 // ids of acknowledged inserts
	writes    int
	reads     int
	errs      map[string]int
	firstErr  string // text of the first failed write
	lastWrite time.Time
	maxGap    time.Duration
	gapStart  time.Time
	idle      []*sql.Conn
}

// Report is what a load saw.
type Report struct {
	Duration       time.Duration
	Writes, Reads  int
	FailedWrites   int
	FailedReads    int
	Errors         map[string]int
	MaxWriteGap    time.Duration
	MaxGapStarted  time.Duration // offset of the longest gap from the start
	IdleDropped    int
	AckedWrites    int
	MissingWrites  int
	WritesPerSec   float64
	FirstErrorText string
}

func (r Report) String() string {
	var keys []string
	for k := range r.Errors {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var e []string
	for _, k := range keys {
		e = append(e, fmt.Sprintf("%s×%d", k, r.Errors[k]))
	}
	return fmt.Sprintf("writes=%d (failed %d) reads=%d (failed %d) longest write gap=%v idle dropped=%d acked=%d missing=%d errors=[%s]",
		r.Writes, r.FailedWrites, r.Reads, r.FailedReads, r.MaxWriteGap.Round(time.Millisecond), r.IdleDropped, r.AckedWrites, r.MissingWrites, strings.Join(e, " "))
}

// Start opens the connections and starts the clients.
func Start(o Options) (*Load, error) {
	if o.Interval <= 0 {
		o.Interval = 10 * time.Millisecond
	}
	if o.Table == "" {
		o.Table = "loadgen"
	}
	db, err := sql.Open("mysql", o.DSN)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(o.Writers + o.Readers + o.Idle + 2)
	db.SetMaxIdleConns(o.Writers + o.Readers + 2)
	if _, err := db.Exec("CREATE TABLE IF NOT EXISTS " + o.Table + " (id BIGINT PRIMARY KEY AUTO_INCREMENT, client INT, seq INT, at DATETIME(6))"); err != nil {
		db.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &Load{opts: o, db: db, cancel: cancel, errs: map[string]int{}, start: time.Now()}
	l.lastWrite = l.start
	defer func() {
		// The load starts once the idle connections are open.
		l.mu.Lock()
		l.start = time.Now()
		l.lastWrite = l.start
		l.mu.Unlock()
	}()
	for i := 0; i < o.Idle; i++ {
		c, err := db.Conn(ctx)
		if err != nil {
			l.Stop()
			return nil, err
		}
		if err := c.PingContext(ctx); err != nil {
			l.Stop()
			return nil, err
		}
		l.idle = append(l.idle, c)
	}
	for i := 0; i < o.Writers; i++ {
		l.wg.Add(1)
		go l.writer(ctx, i)
	}
	for i := 0; i < o.Readers; i++ {
		l.wg.Add(1)
		go l.reader(ctx)
	}
	return l, nil
}

func errKey(err error) string {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return fmt.Sprintf("%d", me.Number)
	}
	if errors.Is(err, mysql.ErrInvalidConn) || strings.Contains(err.Error(), "invalid connection") {
		return "invalid_connection"
	}
	if strings.Contains(err.Error(), "bad connection") {
		return "bad_connection"
	}
	return "other"
}

func (l *Load) writer(ctx context.Context, client int) {
	defer l.wg.Done()
	t := time.NewTicker(l.opts.Interval)
	defer t.Stop()
	for seq := 0; ; seq++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		res, err := l.db.ExecContext(ctx, "INSERT INTO "+l.opts.Table+" (client, seq, at) VALUES (?, ?, NOW(6))", client, seq)
		now := time.Now()
		l.mu.Lock()
		l.writes++
		if err != nil {
			if ctx.Err() == nil {
				l.errs["write:"+errKey(err)]++
				if l.firstErr == "" {
					l.firstErr = err.Error()
				}
			}
		} else {
			id, _ := res.LastInsertId()
			l.acked = append(l.acked, id)
			if gap := now.Sub(l.lastWrite); gap > l.maxGap {
				l.maxGap = gap
				l.gapStart = l.lastWrite
			}
			l.lastWrite = now
		}
		l.mu.Unlock()
	}
}

func (l *Load) reader(ctx context.Context) {
	defer l.wg.Done()
	t := time.NewTicker(l.opts.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var n int64
		err := l.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+l.opts.Table+" WHERE id > 0").Scan(&n)
		l.mu.Lock()
		l.reads++
		if err != nil && ctx.Err() == nil {
			l.errs["read:"+errKey(err)]++
		}
		l.mu.Unlock()
	}
}

// SinceLastWrite reports how long ago the last write succeeded.
func (l *Load) SinceLastWrite() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return time.Since(l.lastWrite)
}

// WaitWrites blocks until a write succeeds after t, or the timeout passes.
func (l *Load) WaitWrites(after time.Time, timeout time.Duration) (time.Time, bool) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		l.mu.Lock()
		lw := l.lastWrite
		l.mu.Unlock()
		if lw.After(after) {
			return lw, true
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Time{}, false
}

// Stop ends the clients and returns the report. check, when not nil, is a
// connection to the primary (directly, not through the proxy) used to
// verify that every acknowledged write is there.
func (l *Load) Stop(check ...*sql.DB) Report {
	l.cancel()
	l.wg.Wait()
	r := Report{Duration: time.Since(l.start), Errors: map[string]int{}}
	l.mu.Lock()
	r.Writes, r.Reads = l.writes, l.reads
	r.FirstErrorText = l.firstErr
	for k, v := range l.errs {
		r.Errors[k] = v
		if strings.HasPrefix(k, "write:") {
			r.FailedWrites += v
		} else {
			r.FailedReads += v
		}
	}
	r.MaxWriteGap = l.maxGap
	r.MaxGapStarted = l.gapStart.Sub(l.start)
	r.AckedWrites = len(l.acked)
	acked := append([]int64(nil), l.acked...)
	l.mu.Unlock()
	r.WritesPerSec = float64(r.AckedWrites) / r.Duration.Seconds()
	for _, c := range l.idle {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		var one int
		if err := c.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
			r.IdleDropped++
		}
		cancel()
		c.Close()
	}
	if len(check) > 0 && check[0] != nil {
		present := map[int64]bool{}
		rows, err := check[0].Query("SELECT id FROM " + l.opts.Table)
		if err == nil {
			for rows.Next() {
				var id int64
				rows.Scan(&id)
				present[id] = true
			}
			rows.Close()
			for _, id := range acked {
				if !present[id] {
					r.MissingWrites++
				}
			}
		} else {
			r.MissingWrites = -1
		}
	}
	l.db.Close()
	return r
}
