// Command failover-bench measures what clients of Switchyard see while the
// topology behind it fails over (docs/failover.md).
//
//	go run ./cmd/failover-bench [-scenarios all|killed,frozen,switchover,replica,return]
//	                            [-repeat N] [-base-port 4610] [-interval 500ms]
//	                            [-max-replica-lag D] [-proxy-log FILE]
//
// Every scenario run starts a fresh private MariaDB topology (1 slice: a
// primary and 2 replicas, scripts/topology.sh in a temporary directory,
// ports BASE..BASE+2) and Switchyard in-process in front of it, drives
// writes (8 clients, one INSERT every 10 ms each) and reads (2 clients)
// through the proxy with 50 idle client connections open (internal/loadgen),
// lets that run for 1 s, then breaks something:
//
//	killed      SIGKILL the primary; 1 s later promote replica 1
//	            (STOP SLAVE; RESET SLAVE ALL; SET GLOBAL read_only=OFF) and
//	            repoint replica 2 at it
//	frozen      SIGSTOP the primary, same promotion; after the load the old
//	            primary gets SIGCONT and is demoted (read_only=ON, replica of
//	            the new primary with MASTER_USE_GTID=current_pos)
//	switchover  POST /api/switchover to the admin API, target replica 1
//	replica     SIGKILL replica 1, restart it 2 s later (topology.sh up)
//	return      a "killed" failover first (its own load), then a new load and
//	            the old primary restarted (it comes back writable) and
//	            demoted at once
//
// It reports per run: detection time (event -> the proxy has no primary, or
// marks the node down/up), the time from the new primary becoming writable to
// the first successful write after it, the longest time without a successful
// write, failed statements by error code, dropped idle client connections,
// and whether every acknowledged write is on the new primary (and the
// replicas have the same rows). Nothing is asserted: it prints a markdown
// table and the raw per-run lines.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"
)

var allScenarios = []string{"killed", "frozen", "switchover", "replica", "return"}

type options struct {
	scenarios []string
	repeat    int
	basePort  int
	interval  time.Duration
	hold      time.Duration
	maxLag    time.Duration
	proxyLog  string
	script    string
	tmpRoot   string
}

func parseScenarios(s string) ([]string, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "all" {
		return append([]string(nil), allScenarios...), nil
	}
	var out []string
	seen := map[string]bool{}
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		ok := false
		for _, a := range allScenarios {
			if f == a {
				ok = true
			}
		}
		if !ok {
			return nil, fmt.Errorf("unknown scenario %q (want all or a comma-separated list of %s)", f, strings.Join(allScenarios, ", "))
		}
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out, nil
}

// progress lines go to stderr, results to stdout.
var logMu sync.Mutex

func logf(format string, args ...any) {
	logMu.Lock()
	defer logMu.Unlock()
	fmt.Fprintf(os.Stderr, "%s failover-bench: %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, args...))
}

func main() {
	var o options
	scen := flag.String("scenarios", "all", "all, or a comma-separated list of "+strings.Join(allScenarios, ","))
	flag.IntVar(&o.repeat, "repeat", 1, "runs per scenario")
	flag.IntVar(&o.basePort, "base-port", 4610, "port of the topology's primary (replicas: +1, +2); 127.0.0.1 only")
	flag.DurationVar(&o.interval, "interval", 500*time.Millisecond, "the proxy's monitor.interval (and monitor.timeout)")
	flag.DurationVar(&o.hold, "hold", 30*time.Second, "the proxy's failover_hold_timeout")
	flag.DurationVar(&o.maxLag, "max-replica-lag", 0, "the proxy's monitor.max_replica_lag (0: not set)")
	flag.StringVar(&o.proxyLog, "proxy-log", "", "append the proxy's log (info level) to this file (default: discarded)")
	flag.StringVar(&o.script, "topology-script", "", "path of scripts/topology.sh (default: found above the working directory)")
	flag.StringVar(&o.tmpRoot, "tmp", "", "directory for the temporary topologies (default: $TMPDIR or /tmp)")
	flag.Parse()
	var err error
	if o.scenarios, err = parseScenarios(*scen); err != nil {
		fatal(err)
	}
	if o.repeat < 1 {
		fatal(errors.New("-repeat must be at least 1"))
	}
	if o.basePort < 1024 || o.basePort > 65530 {
		fatal(errors.New("-base-port must be in 1024..65530"))
	}
	if o.interval <= 0 {
		fatal(errors.New("-interval must be positive"))
	}
	if o.script == "" {
		if o.script, err = findScript(); err != nil {
			fatal(err)
		}
	}
	// The driver logs lost connections through log.Print: keep the output
	// for results.
	_ = mysql.SetLogger(&mysql.NopLogger{})

	var plog *slog.Logger
	if o.proxyLog != "" {
		f, err := os.OpenFile(o.proxyLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			fatal(err)
		}
		defer f.Close()
		plog = slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelInfo}))
	} else {
		plog = slog.New(slog.NewTextHandler(io.Discard, nil))
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		s := <-sigs
		logf("got %v: stopping the load, the proxy and the topology", s)
		cancel()
		closeActive()
		os.Exit(130)
	}()
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(os.Stderr, "panic: %v\n%s", r, debug.Stack())
			closeActive()
			os.Exit(2)
		}
	}()

	start := time.Now()
	logf("scenarios %s, %d run(s) each, topology on 127.0.0.1:%d-%d, monitor interval %v",
		strings.Join(o.scenarios, ","), o.repeat, o.basePort, o.basePort+2, o.interval)
	var results []*result
	// Interleaved: killed#1 frozen#1 ... killed#2 ..., so that drift on the
	// machine hits every scenario alike.
	for i := 1; i <= o.repeat; i++ {
		for _, s := range o.scenarios {
			if ctx.Err() != nil {
				break
			}
			r := runScenario(ctx, o, plog, s, i)
			results = append(results, r)
			if r.Err != nil {
				logf("%s #%d FAILED: %v", s, i, r.Err)
			} else {
				logf("%s #%d: %s", s, i, r.summary())
			}
		}
	}
	fmt.Println()
	fmt.Print(renderTable(results, o.scenarios, o.repeat))
	fmt.Println()
	fmt.Println("Raw report lines:")
	fmt.Println()
	for _, r := range results {
		fmt.Print(r.raw())
	}
	fmt.Printf("\ntotal run time %v\n", time.Since(start).Round(time.Second))
	for _, r := range results {
		if r.Err != nil {
			os.Exit(1)
		}
	}
}

func fatal(err error) {
	fmt.Fprintf(os.Stderr, "failover-bench: %v\n", err)
	os.Exit(2)
}

// findScript walks up from the working directory to the module root.
func findScript() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			s := filepath.Join(dir, "scripts", "topology.sh")
			if _, err := os.Stat(s); err != nil {
				return "", fmt.Errorf("module root %s has no scripts/topology.sh (use -topology-script)", dir)
			}
			return s, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory (use -topology-script)")
		}
		dir = parent
	}
}
