// Command sybench is Switchyard's small load tool for the memory
// benchmarks (scripts/bench/memory.sh, docs/benchmarks.md).
//
//	sybench bigselect -proxy ADDR -direct ADDR -user U -pass P [-direct-user U -direct-pass P]
//	                  [-db bench] [-rows 1000000] [-repeat 3] [-pid PROXY_PID]
//	sybench idle      -proxy ADDR -user U -pass P [-n 5000] [-pid PROXY_PID]
//	                  [-admin ADDR -admin-user U -admin-pass P]
//
// bigselect streams one large result (MariaDB's Sequence engine,
// `SELECT seq, REPEAT('x', 100) FROM seq_1_to_N`) through the proxy and
// directly from the server, interleaved, and reports the times and the
// proxy's memory (VmRSS sampled every 20 ms while the proxy streams, VmHWM).
//
// idle opens N client connections through the proxy, runs `SELECT 1` once on
// each and keeps them idle, then reports the proxy's memory and backend
// connection count; it closes them and reports again after a pause.
//
// scatter times scatter queries (ORDER BY/LIMIT, GROUP BY, aggregates) over
// a table sharded on three slices against the same table on one server
// (scripts/bench/sharding.sh); txn compares one-slice and two-slice (XA)
// transactions and sequence inserts.
//
// Every result ends with a markdown table row (lines starting with "|").
package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"
)

const usage = `usage:
  sybench bigselect -proxy ADDR -direct ADDR -user U -pass P [flags]
  sybench idle -proxy ADDR -user U -pass P [-n 5000] [-pid PID] [flags]
  sybench rwloop -proxy ADDR -user U -pass P [-clients 8] [-time 10s]
  sybench scatter -proxy ADDR -direct ADDR -user U -pass P [-pid PID] [-repeat 3]
  sybench txn -proxy ADDR -user U -pass P [-clients 8] [-time 10s]
run "sybench <command> -h" for the flags of a command
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	// The driver logs unexpected EOFs and such through log.Print; keep
	// stdout clean for the results.
	_ = mysql.SetLogger(&mysql.NopLogger{})
	var err error
	switch os.Args[1] {
	case "bigselect":
		err = bigSelect(os.Args[2:])
	case "idle":
		err = idle(os.Args[2:])
	case "rwloop":
		err = rwLoop(os.Args[2:])
	case "scatter":
		err = scatter(os.Args[2:])
	case "txn":
		err = txn(os.Args[2:])
	case "-h", "--help", "help":
		fmt.Print(usage)
		return
	default:
		fmt.Fprintf(os.Stderr, "sybench: unknown command %q\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "sybench %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

// ---------------------------------------------------------------- helpers

func openDB(addr, user, pass, db string) (*sql.DB, error) {
	cfg := mysql.NewConfig()
	cfg.Net = "tcp"
	cfg.Addr = addr
	cfg.User = user
	cfg.Passwd = pass
	cfg.DBName = db
	cfg.Timeout = 10 * time.Second
	c, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(c), nil
}

// procStatus returns VmRSS and VmHWM of pid in KiB.
func procStatus(pid int) (rss, hwm int64, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		switch fields[0] {
		case "VmRSS:":
			rss, _ = strconv.ParseInt(fields[1], 10, 64)
		case "VmHWM:":
			hwm, _ = strconv.ParseInt(fields[1], 10, 64)
		}
	}
	return rss, hwm, sc.Err()
}

// procNoFile returns the soft and hard "Max open files" limits of pid
// (-1 = unlimited).
func procNoFile(pid int) (soft, hard int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "Max open files") {
			continue
		}
		f := strings.Fields(strings.TrimPrefix(line, "Max open files"))
		if len(f) < 2 {
			break
		}
		parse := func(s string) int64 {
			if s == "unlimited" {
				return -1
			}
			n, _ := strconv.ParseInt(s, 10, 64)
			return n
		}
		return parse(f[0]), parse(f[1]), nil
	}
	return 0, 0, errors.New("no \"Max open files\" line")
}

// procFDs counts the open file descriptors of pid (-1 if unreadable).
func procFDs(pid int) int {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return -1
	}
	return len(ents)
}

func mib(kib int64) string { return fmt.Sprintf("%.1f", float64(kib)/1024) }

// sampler records the peak VmRSS of a process, sampled periodically.
type sampler struct {
	pid  int
	stop chan struct{}
	done chan struct{}
	peak atomic.Int64
}

func startSampler(pid int, every time.Duration) *sampler {
	s := &sampler{pid: pid, stop: make(chan struct{}), done: make(chan struct{})}
	sample := func() {
		if rss, _, err := procStatus(pid); err == nil && rss > s.peak.Load() {
			s.peak.Store(rss)
		}
	}
	sample()
	go func() {
		defer close(s.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				sample()
				return
			case <-t.C:
				sample()
			}
		}
	}()
	return s
}

// Stop ends sampling and returns the peak VmRSS in KiB.
func (s *sampler) Stop() int64 {
	close(s.stop)
	<-s.done
	return s.peak.Load()
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// ---------------------------------------------------------------- bigselect

type selectResult struct {
	dur   time.Duration
	rows  int64
	bytes int64
}

// streamOnce runs q on a fresh, already connected connection and reads
// every row; the connect time is not included.
func streamOnce(db *sql.DB, q string) (selectResult, error) {
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		return selectResult{}, fmt.Errorf("connect: %w", err)
	}
	defer conn.Close()
	if err := conn.PingContext(ctx); err != nil {
		return selectResult{}, fmt.Errorf("ping: %w", err)
	}
	var r selectResult
	start := time.Now()
	rows, err := conn.QueryContext(ctx, q)
	if err != nil {
		return r, err
	}
	var a, b sql.RawBytes
	for rows.Next() {
		if err := rows.Scan(&a, &b); err != nil {
			rows.Close()
			return r, err
		}
		r.rows++
		r.bytes += int64(len(a) + len(b))
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return r, err
	}
	if err := rows.Close(); err != nil {
		return r, err
	}
	r.dur = time.Since(start)
	return r, nil
}

func bigSelect(args []string) error {
	fs := flag.NewFlagSet("bigselect", flag.ContinueOnError)
	proxy := fs.String("proxy", "", "proxy address host:port (required)")
	direct := fs.String("direct", "", "server address host:port for the direct runs (required)")
	user := fs.String("user", "", "user for the proxy (and the server unless -direct-user)")
	pass := fs.String("pass", "", "password of -user")
	duser := fs.String("direct-user", "", "user for the direct runs (default -user)")
	dpass := fs.String("direct-pass", "", "password of -direct-user (default -pass)")
	dbName := fs.String("db", "bench", "database to select (any existing one; seq_1_to_N tables exist in every database)")
	nrows := fs.Int64("rows", 1000000, "rows in the result")
	repeat := fs.Int("repeat", 3, "runs per target (interleaved direct, proxy, direct, ...)")
	pid := fs.Int("pid", 0, "proxy process id, for its memory (0 = do not measure)")
	every := fs.Duration("sample", 20*time.Millisecond, "RSS sampling interval")
	settle := fs.Duration("settle", 2*time.Second, "pause before the final RSS reading")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *proxy == "" || *direct == "" || *user == "" {
		return errors.New("-proxy, -direct and -user are required")
	}
	if *duser == "" {
		*duser, *dpass = *user, *pass
	}
	if *nrows < 1 || *repeat < 1 {
		return errors.New("-rows and -repeat must be at least 1")
	}
	pdb, err := openDB(*proxy, *user, *pass, *dbName)
	if err != nil {
		return err
	}
	defer pdb.Close()
	ddb, err := openDB(*direct, *duser, *dpass, *dbName)
	if err != nil {
		return err
	}
	defer ddb.Close()

	q := fmt.Sprintf("SELECT seq, REPEAT('x', 100) FROM seq_1_to_%d", *nrows)
	fmt.Printf("bigselect: %s (proxy %s, direct %s, %d runs each, interleaved)\n", q, *proxy, *direct, *repeat)

	var rssBefore, hwmBefore int64
	if *pid > 0 {
		if rssBefore, hwmBefore, err = procStatus(*pid); err != nil {
			return fmt.Errorf("proxy pid %d: %w", *pid, err)
		}
		fmt.Printf("proxy pid %d before: VmRSS %s MiB, VmHWM %s MiB\n", *pid, mib(rssBefore), mib(hwmBefore))
	}

	var dTimes, pTimes []float64
	var peak, rssLast int64
	fmt.Printf("%-4s %-7s %9s %10s %8s %10s\n", "run", "target", "seconds", "rows/s", "MB/s", "peakRSS")
	for i := 1; i <= *repeat; i++ {
		for _, target := range []string{"direct", "proxy"} {
			db := ddb
			if target == "proxy" {
				db = pdb
			}
			var s *sampler
			if target == "proxy" && *pid > 0 {
				s = startSampler(*pid, *every)
			}
			r, err := streamOnce(db, q)
			runPeak := int64(0)
			if s != nil {
				runPeak = s.Stop()
				if runPeak > peak {
					peak = runPeak
				}
			}
			if err != nil {
				return fmt.Errorf("run %d %s: %w", i, target, err)
			}
			if r.rows != *nrows {
				return fmt.Errorf("run %d %s: read %d rows, want %d", i, target, r.rows, *nrows)
			}
			sec := r.dur.Seconds()
			peakCol := "-"
			if runPeak > 0 {
				peakCol = mib(runPeak) + "MiB"
			}
			fmt.Printf("%-4d %-7s %9.3f %10.0f %8.1f %10s\n", i, target, sec, float64(r.rows)/sec, float64(r.bytes)/sec/1e6, peakCol)
			if target == "proxy" {
				pTimes = append(pTimes, sec)
			} else {
				dTimes = append(dTimes, sec)
			}
		}
	}

	var rssAfter, hwmAfter int64
	if *pid > 0 {
		rssLast, _, _ = procStatus(*pid)
		time.Sleep(*settle)
		if rssAfter, hwmAfter, err = procStatus(*pid); err != nil {
			return fmt.Errorf("proxy pid %d: %w", *pid, err)
		}
		fmt.Printf("proxy after: VmRSS %s MiB right after the last run, %s MiB after %s; VmHWM %s MiB\n",
			mib(rssLast), mib(rssAfter), *settle, mib(hwmAfter))
	}

	dm, pm := median(dTimes), median(pTimes)
	fmt.Println()
	fmt.Println("| rows | direct s (median) | proxy s (median) | proxy/direct time | proxy VmRSS before MiB | peak VmRSS during MiB (20 ms samples) | VmHWM after MiB | VmRSS after MiB |")
	fmt.Println("|---:|---:|---:|---:|---:|---:|---:|---:|")
	memCols := "n/a | n/a | n/a | n/a"
	if *pid > 0 {
		memCols = fmt.Sprintf("%s | %s | %s | %s", mib(rssBefore), mib(peak), mib(hwmAfter), mib(rssAfter))
	}
	fmt.Printf("| %d | %.3f | %.3f | %.2f | %s |\n", *nrows, dm, pm, pm/dm, memCols)
	return nil
}

// ---------------------------------------------------------------- idle

// raiseNoFile raises this process's soft open-file limit to want (at most
// the hard limit) and returns the resulting soft limit.
func raiseNoFile(want uint64) (uint64, uint64, error) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, 0, err
	}
	if rl.Cur >= want {
		return rl.Cur, rl.Max, nil
	}
	if rl.Max < want {
		// Root may raise the hard limit too.
		try := syscall.Rlimit{Cur: want, Max: want}
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &try); err == nil {
			return want, want, nil
		}
		rl.Cur = rl.Max
	} else {
		rl.Cur = want
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, 0, err
	}
	return rl.Cur, rl.Max, nil
}

type proxyState struct {
	rss, hwm      int64 // KiB
	fds           int
	backendOpen   int // sum of the pools' open connections
	clientConns   int // -1 if unknown
	goroutines    int // -1 if unknown
	backendSource string
}

// adminStatus reads the backend connection count (and client connections)
// from /api/status, falling back to /metrics.
func adminState(admin, user, pass string) (backendOpen, clients, goroutines int, source string, err error) {
	clients, goroutines, backendOpen = -1, -1, -1
	cl := &http.Client{Timeout: 5 * time.Second}
	// /metrics: goroutines, and the pool gauge as a fallback.
	metricsOpen := -1
	if resp, e := cl.Get("http://" + admin + "/metrics"); e == nil {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		sum, found := 0.0, false
		for _, line := range strings.Split(string(body), "\n") {
			f := strings.Fields(line)
			if len(f) < 2 || strings.HasPrefix(line, "#") {
				continue
			}
			v, perr := strconv.ParseFloat(f[len(f)-1], 64)
			if perr != nil {
				continue
			}
			switch {
			case strings.HasPrefix(line, "switchyard_pool_open{") || strings.HasPrefix(line, "switchyard_pool_open "):
				sum += v
				found = true
			case strings.HasPrefix(line, "go_goroutines "):
				goroutines = int(v)
			}
		}
		if found {
			metricsOpen = int(sum)
		}
	} else {
		err = e
	}
	req, _ := http.NewRequest("GET", "http://"+admin+"/api/status", nil)
	req.SetBasicAuth(user, pass)
	if resp, e := cl.Do(req); e == nil {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var v any
		if resp.StatusCode == 200 && json.Unmarshal(body, &v) == nil {
			if m, ok := v.(map[string]any); ok {
				if c, ok := m["client_connections"].(float64); ok {
					clients = int(c)
				}
			}
			if sum, found := sumPoolsOpen(v); found {
				return sum, clients, goroutines, "/api/status", nil
			}
		} else if err == nil {
			err = fmt.Errorf("/api/status: HTTP %d", resp.StatusCode)
		}
	} else if err == nil {
		err = e
	}
	if metricsOpen >= 0 {
		return metricsOpen, clients, goroutines, "/metrics", nil
	}
	return -1, clients, goroutines, "", err
}

// sumPoolsOpen adds up "open" of every object in any "pools" array of the
// status JSON, wherever it is nested.
func sumPoolsOpen(v any) (int, bool) {
	sum, found := 0, false
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if k == "pools" {
				// A node whose pool was never used has "pools": null.
				found = true
				arr, _ := val.([]any)
				for _, p := range arr {
					if pm, ok := p.(map[string]any); ok {
						if o, ok := pm["open"].(float64); ok {
							sum += int(o)
						}
					}
				}
				continue
			}
			if s, f := sumPoolsOpen(val); f {
				sum += s
				found = true
			}
		}
	case []any:
		for _, e := range x {
			if s, f := sumPoolsOpen(e); f {
				sum += s
				found = true
			}
		}
	}
	return sum, found
}

func snapshot(pid int, admin, au, ap string) proxyState {
	st := proxyState{fds: -1, backendOpen: -1, clientConns: -1, goroutines: -1}
	if pid > 0 {
		st.rss, st.hwm, _ = procStatus(pid)
		st.fds = procFDs(pid)
	}
	if admin != "" {
		var err error
		st.backendOpen, st.clientConns, st.goroutines, st.backendSource, err = adminState(admin, au, ap)
		if err != nil {
			fmt.Fprintf(os.Stderr, "sybench idle: admin %s: %v\n", admin, err)
		}
	}
	return st
}

func (s proxyState) String() string {
	return fmt.Sprintf("VmRSS %s MiB, VmHWM %s MiB, fds %d, backend connections %d (%s), client connections %d, goroutines %d",
		mib(s.rss), mib(s.hwm), s.fds, s.backendOpen, s.backendSource, s.clientConns, s.goroutines)
}

func idle(args []string) error {
	fs := flag.NewFlagSet("idle", flag.ContinueOnError)
	proxy := fs.String("proxy", "", "proxy address host:port (required)")
	user := fs.String("user", "", "client user (required)")
	pass := fs.String("pass", "", "password of -user")
	dbName := fs.String("db", "", "database to select (none by default)")
	n := fs.Int("n", 5000, "client connections to open")
	pid := fs.Int("pid", 0, "proxy process id, for its memory and limits (0 = do not measure)")
	admin := fs.String("admin", "", "proxy admin address host:port for the backend connection count (empty = skip)")
	au := fs.String("admin-user", "admin", "admin API user")
	ap := fs.String("admin-pass", "admin", "admin API password")
	parallel := fs.Int("parallel", 32, "connections opened concurrently")
	settle := fs.Duration("settle", 2*time.Second, "pause after opening and after closing before measuring")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *proxy == "" || *user == "" || *n < 1 || *parallel < 1 {
		return errors.New("-proxy and -user are required, -n and -parallel must be at least 1")
	}

	// Our own file descriptors: one per connection plus slack.
	want := uint64(*n + 256)
	soft, hard, err := raiseNoFile(want)
	if err != nil {
		return fmt.Errorf("raising RLIMIT_NOFILE: %w", err)
	}
	if soft < want {
		return fmt.Errorf("open-file limit %d (hard %d) is below the %d needed for %d connections; raise it (ulimit -Hn) or lower -n", soft, hard, want, *n)
	}
	fmt.Printf("idle: %d connections to %s as %s (sybench open-file limit %d)\n", *n, *proxy, *user, soft)
	if *pid > 0 {
		ps, ph, err := procNoFile(*pid)
		if err != nil {
			fmt.Printf("warning: cannot read /proc/%d/limits: %v\n", *pid, err)
		} else {
			// One fd per client, the backend pools (64 per node by default),
			// listeners and log files.
			need := int64(*n) + 64*2 + 64
			fmt.Printf("proxy pid %d open-file limit: soft %d, hard %d\n", *pid, ps, ph)
			if ps >= 0 && ps < need {
				fmt.Printf("WARNING: the proxy's open-file limit (%d) may be too low for %d clients (needs about %d): start it after `ulimit -n %d`\n", ps, *n, need, need+1000)
			}
		}
	}

	before := snapshot(*pid, *admin, *au, *ap)
	fmt.Printf("before:       %s\n", before)

	db, err := openDB(*proxy, *user, *pass, *dbName)
	if err != nil {
		return err
	}
	db.SetMaxOpenConns(0)
	db.SetMaxIdleConns(*n)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)

	conns := make([]*sql.Conn, *n)
	var failed atomic.Int64
	var firstErr sync.Once
	var next atomic.Int64
	var wg sync.WaitGroup
	ctx := context.Background()
	start := time.Now()
	for w := 0; w < *parallel; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= *n {
					return
				}
				cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				c, err := db.Conn(cctx)
				if err == nil {
					var one int
					if err = c.QueryRowContext(cctx, "SELECT 1").Scan(&one); err != nil {
						c.Close()
					}
				}
				cancel()
				if err != nil {
					failed.Add(1)
					firstErr.Do(func() { fmt.Printf("first error (connection %d): %v\n", i, err) })
					continue
				}
				conns[i] = c
			}
		}()
	}
	wg.Wait()
	openTime := time.Since(start)
	ok := *n - int(failed.Load())
	fmt.Printf("opened %d of %d connections in %.2fs (%.0f/s), each ran SELECT 1; %d failed\n",
		ok, *n, openTime.Seconds(), float64(ok)/openTime.Seconds(), failed.Load())

	time.Sleep(*settle)
	runtime.GC()
	during := snapshot(*pid, *admin, *au, *ap)
	fmt.Printf("with %d idle: %s\n", ok, during)

	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
	db.Close()
	time.Sleep(*settle)
	after := snapshot(*pid, *admin, *au, *ap)
	fmt.Printf("%s after close: %s\n", *settle, after)

	perConn := "n/a"
	if ok > 0 && *pid > 0 {
		perConn = fmt.Sprintf("%.1f", float64(during.rss-before.rss)/float64(ok))
	}
	fmt.Println()
	fmt.Println("| clients | failed | open time s | proxy VmRSS before MiB | VmRSS with clients idle MiB | KiB per client | backend connections while idle | proxy goroutines while idle | VmRSS after close MiB | backend connections after close |")
	fmt.Println("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	fmt.Printf("| %d | %d | %.2f | %s | %s | %s | %d | %d | %s | %d |\n",
		ok, failed.Load(), openTime.Seconds(), mib(before.rss), mib(during.rss), perConn,
		during.backendOpen, during.goroutines, mib(after.rss), after.backendOpen)
	if failed.Load() > 0 {
		return fmt.Errorf("%d of %d connections failed", failed.Load(), *n)
	}
	return nil
}
