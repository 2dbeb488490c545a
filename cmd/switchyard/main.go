// Command switchyard is a MySQL-protocol database proxy.
//
//	switchyard serve --config FILE   run the proxy
//	switchyard check --config FILE   validate a configuration and exit
package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	_ "net/http/pprof" // served only when SWITCHYARD_PPROF is set
	"os"
	"os/signal"
	"syscall"

	"github.com/switchyard-db/switchyard/internal/config"
	"github.com/switchyard-db/switchyard/internal/convert"
	"github.com/switchyard-db/switchyard/internal/fleet"
	"github.com/switchyard-db/switchyard/internal/globalcheck"
	"github.com/switchyard-db/switchyard/internal/proxy"
	"github.com/switchyard-db/switchyard/internal/shard"
)

const usage = `usage:
  switchyard serve --config FILE          run the proxy
  switchyard check --config FILE          validate a configuration and exit
  switchyard check global-tables --config FILE [--namespace NS] [--table DB.TABLE] [--chunk N]
                  [--repair-from SLICE [--dry-run]] [--max-rows N] [--json]
                                          compare (and repair) the copies of global tables
  switchyard convert gaea NAMESPACE.json  print a Gaea namespace as Switchyard YAML
  switchyard convert shardingsphere FILE [--slices s0,s1,...] [--single TABLE=DS,...] [--skip-unconvertible]
                                          print a ShardingSphere rule file as Switchyard YAML
  switchyard serve --config FILE --etcd ENDPOINTS --cluster NAME [--secret-key-file F]
                                          run in a fleet: namespaces from etcd, the rest from FILE
  switchyard config put --etcd ENDPOINTS --cluster NAME [--secret-key-file F] FILE
                                          validate FILE's namespaces and write them to etcd
  switchyard config get --etcd ENDPOINTS --cluster NAME
                                          print the namespaces in etcd as YAML (passwords redacted)
  switchyard config diff --etcd ENDPOINTS --cluster NAME FILE
                                          show what put would change
  switchyard config rm --etcd ENDPOINTS --cluster NAME NAMESPACE
                                          remove a namespace from etcd
  switchyard version                      print the version
`

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, rest := args[0], args[1:]
	if cmd == "check" && len(rest) > 0 && rest[0] == "global-tables" {
		return globalcheck.Command(rest[1:], stdout, stderr)
	}
	switch cmd {
	case "serve", "check":
	case "version":
		fmt.Fprintln(stdout, "switchyard", version)
		return 0
	case "convert":
		return convertCmd(rest, stdout, stderr)
	case "config":
		return configCmd(rest, stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "switchyard: unknown command %q\n%s", cmd, usage)
		return 2
	}
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "configuration file (YAML)")
	endpoints := fs.String("etcd", "", "etcd endpoints (comma separated): namespaces come from etcd")
	cluster := fs.String("cluster", "", "fleet name in etcd (with --etcd)")
	keyFile := fs.String("secret-key-file", "", "AES key for encrypted passwords in etcd (or $"+fleet.KeyEnv+")")
	if err := fs.Parse(rest); err != nil {
		return 2
	}
	if *path == "" {
		fmt.Fprintf(stderr, "switchyard %s: --config FILE is required\n", cmd)
		return 2
	}
	if cmd == "serve" && *endpoints != "" {
		return serveFleet(fleet.Options{Endpoints: *endpoints, Cluster: *cluster, ConfigFile: *path, Version: version}, *keyFile, stderr)
	}
	cfg, err := shard.LoadConfig(*path)
	if err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		return 1
	}
	if cmd == "check" {
		for _, ns := range cfg.Namespaces {
			if _, closed := ns.ClientDatabases(); !closed && len(cfg.Namespaces) > 1 {
				fmt.Fprintf(stderr, "%s: warning: namespace %q lists no databases (allowed_databases or sharding rules): its clients may use every database of its backend account except those other namespaces list\n", *path, ns.Name)
			}
		}
		fmt.Fprintf(stdout, "%s: ok (%d namespaces)\n", *path, len(cfg.Namespaces))
		return 0
	}
	log := newLogger(cfg.Log, stderr)
	p, err := proxy.New(cfg, log)
	if err != nil {
		log.Error("cannot start", "err", err)
		return 1
	}
	if err := p.Start(); err != nil {
		log.Error("cannot start", "err", err)
		return 1
	}
	if addr := os.Getenv("SWITCHYARD_PPROF"); addr != "" {
		// Go's profiler, for performance work: SWITCHYARD_PPROF=127.0.0.1:6060.
		go func() { log.Info("pprof", "err", http.ListenAndServe(addr, nil)) }()
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	s := <-sig
	for s == syscall.SIGHUP {
		// Reload: Reload logs the outcome and keeps the running
		// configuration when the new one is rejected.
		_ = p.Reload()
		s = <-sig
	}
	log.Info("shutting down", "signal", s.String())
	p.Close()
	return 0
}

func newLogger(c config.Log, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// convertCmd implements `switchyard convert gaea FILE`.
func convertCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "shardingsphere" {
		return convertShardingSphereCmd(args[1:], stdout, stderr)
	}
	if len(args) != 2 || args[0] != "gaea" {
		fmt.Fprintf(stderr, "usage: switchyard convert gaea NAMESPACE.json\n")
		return 2
	}
	data, err := os.ReadFile(args[1])
	if err != nil {
		fmt.Fprintf(stderr, "switchyard convert: %v\n", err)
		return 1
	}
	out, warnings, err := convert.GaeaWithWarnings(data)
	if err != nil {
		fmt.Fprintf(stderr, "switchyard convert: %s: %v\n", args[1], err)
		return 1
	}
	for _, w := range warnings {
		fmt.Fprintf(stderr, "warning: %s\n", w)
	}
	stdout.Write(out)
	return 0
}

// convertShardingSphereCmd implements `switchyard convert shardingsphere`.
func convertShardingSphereCmd(args []string, stdout, stderr io.Writer) int {
	file, opts, err := convert.ShardingSphereCommandLine(args)
	if err != nil {
		fmt.Fprintf(stderr, "switchyard convert shardingsphere: %v\nusage: switchyard convert shardingsphere FILE [--slices s0,s1,...|s0=HOST:PORT,...] [--single TABLE=DATASOURCE,...] [--skip-unconvertible]\n", err)
		return 2
	}
	data, err := os.ReadFile(file)
	if err != nil {
		fmt.Fprintf(stderr, "switchyard convert: %v\n", err)
		return 1
	}
	res, err := convert.ShardingSphere(data, opts)
	if err != nil {
		fmt.Fprintf(stderr, "switchyard convert: %s: %v\n", file, err)
		return 1
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(stderr, "warning: %s\n", w)
	}
	stdout.Write(res.YAML)
	return 0
}
