package globalcheck

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/switchyard-db/switchyard/internal/shard"
)

// Usage is the command line of `switchyard check global-tables`.
const Usage = `usage: switchyard check global-tables --config FILE [--namespace NS] [--table DB.TABLE]
        [--chunk N] [--max-rows N] [--repair-from SLICE [--dry-run]] [--json]

Compares every copy of every global table (row counts and checksums per key
range of --chunk rows; differing ranges row by row) and lists differing
rows. --repair-from makes the other copies equal to that slice's copy in
the differing ranges; with --dry-run it prints the statements instead.
Exit status: 0 all copies equal, 1 copies differ (with --repair-from: they
differed and were repaired and verified), 2 errors.
`

// Command runs `switchyard check global-tables ARGS` and returns its exit
// status.
func Command(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check global-tables", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, Usage) }
	path := fs.String("config", "", "configuration file (YAML)")
	var opts Options
	fs.StringVar(&opts.Namespace, "namespace", "", "only this namespace")
	fs.StringVar(&opts.Table, "table", "", "only this global table (db.table)")
	fs.IntVar(&opts.Chunk, "chunk", DefaultChunk, "rows per checksummed key range")
	fs.IntVar(&opts.MaxRows, "max-rows", DefaultMaxRows, "differing rows listed per table")
	fs.StringVar(&opts.RepairFrom, "repair-from", "", "make the other copies equal to this slice's copy")
	fs.BoolVar(&opts.DryRun, "dry-run", false, "with --repair-from: print the statements instead of running them")
	asJSON := fs.Bool("json", false, "print the report as JSON (dry-run statements then go to stderr)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "switchyard check global-tables: unexpected argument %q\n%s", fs.Arg(0), Usage)
		return 2
	}
	if *path == "" {
		fmt.Fprintf(stderr, "switchyard check global-tables: --config FILE is required\n%s", Usage)
		return 2
	}
	if opts.Chunk < 1 {
		fmt.Fprintln(stderr, "switchyard check global-tables: --chunk must be at least 1")
		return 2
	}
	if opts.MaxRows == 0 {
		opts.MaxRows = -1 // --max-rows 0: list none
	}
	cfg, err := shard.LoadConfig(*path)
	if err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		return 2
	}
	opts.Statements = stdout
	if *asJSON {
		opts.Statements = stderr
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := Check(ctx, cfg.Namespaces, opts)
	if err != nil {
		fmt.Fprintf(stderr, "switchyard check global-tables: %v\n", err)
		if errors.Is(err, ErrUsage) {
			fmt.Fprint(stderr, Usage)
		}
		return 2
	}
	if *asJSON {
		b, _ := json.MarshalIndent(rep, "", "  ")
		stdout.Write(append(b, '\n'))
	} else {
		rep.WriteText(stdout)
	}
	return rep.ExitCode()
}
