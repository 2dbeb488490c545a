package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/switchyard-db/switchyard/internal/fleet"
)

// serveFleet runs `switchyard serve --etcd`: the proxy-local settings from
// the file, the namespaces from etcd.
func serveFleet(o fleet.Options, keyFile string, stderr io.Writer) int {
	secret, err := fleet.LoadSecret(keyFile)
	if err != nil {
		fmt.Fprintf(stderr, "switchyard serve: %v\n", err)
		return 1
	}
	o.Secret = secret
	// The logger follows the local file's log settings.
	local, err := os.ReadFile(o.ConfigFile)
	if err != nil {
		fmt.Fprintf(stderr, "switchyard serve: %v\n", err)
		return 1
	}
	lc, err := fleet.LocalSettings(local, o.ConfigFile)
	if err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		return 1
	}
	log := newLogger(lc.Log, stderr)
	o.Log = log
	m, err := fleet.Start(o)
	if err != nil {
		log.Error("cannot start", "err", err)
		return 1
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	s := <-sig
	for s == syscall.SIGHUP {
		_ = m.Proxy().Reload()
		s = <-sig
	}
	log.Info("shutting down", "signal", s.String())
	m.Close()
	return 0
}

// configCmd implements `switchyard config put|get|diff|rm`.
func configCmd(args []string, stdout, stderr io.Writer) int {
	const use = "usage: switchyard config put|get|diff|rm --etcd ENDPOINTS --cluster NAME [--secret-key-file F] [FILE|NAMESPACE]\n"
	if len(args) == 0 {
		fmt.Fprint(stderr, use)
		return 2
	}
	sub := args[0]
	fs := flag.NewFlagSet("config "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	endpoints := fs.String("etcd", "", "etcd endpoints (comma separated)")
	cluster := fs.String("cluster", "", "fleet name")
	keyFile := fs.String("secret-key-file", "", "AES key to encrypt passwords (or $"+fleet.KeyEnv+")")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	want := map[string]int{"put": 1, "get": 0, "diff": 1, "rm": 1}
	n, ok := want[sub]
	if !ok || fs.NArg() != n || *endpoints == "" || *cluster == "" {
		fmt.Fprint(stderr, use)
		return 2
	}
	cli, err := fleet.Dial(*endpoints)
	if err != nil {
		fmt.Fprintf(stderr, "switchyard config: %v\n", err)
		return 1
	}
	defer cli.Close()
	st := &fleet.Store{Client: cli, Cluster: *cluster}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	fail := func(err error) int {
		fmt.Fprintf(stderr, "switchyard config %s: %v\n", sub, err)
		return 1
	}
	switch sub {
	case "put":
		secret, err := fleet.LoadSecret(*keyFile)
		if err != nil {
			return fail(err)
		}
		data, err := os.ReadFile(fs.Arg(0))
		if err != nil {
			return fail(err)
		}
		names, rev, err := st.Put(ctx, data, fs.Arg(0), secret)
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "put %d namespace(s) %v at revision %d\n", len(names), names, rev)
		if keys := fleet.OtherKeys(data); len(keys) > 0 {
			fmt.Fprintf(stderr, "note: only namespaces are stored in etcd; %s stay(s) in each proxy's local file\n", strings.Join(keys, ", "))
		}
	case "get":
		nss, _, err := st.Get(ctx)
		if err != nil {
			return fail(err)
		}
		stdout.Write(fleet.FormatNamespaces(nss))
	case "diff":
		data, err := os.ReadFile(fs.Arg(0))
		if err != nil {
			return fail(err)
		}
		secret, err := fleet.LoadSecret(*keyFile)
		if err != nil {
			return fail(err)
		}
		out, err := st.Diff(ctx, data, fs.Arg(0), secret)
		if err != nil {
			return fail(err)
		}
		io.WriteString(stdout, out)
	case "rm":
		rev, err := st.Remove(ctx, fs.Arg(0))
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "removed namespace %s at revision %d\n", fs.Arg(0), rev)
	}
	return 0
}
