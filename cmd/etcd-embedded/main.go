// Command etcd-embedded runs a single-member etcd v3 server (the real one,
// go.etcd.io/etcd/server/v3 embed) for local fleets, demos and benchmarks
// where Debian's etcd-server is not installed:
//
//	etcd-embedded --listen 127.0.0.1:2379 --dir /tmp/etcd
package main

import (
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"syscall"

	"go.etcd.io/etcd/server/v3/embed"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:2379", "client address")
	peer := flag.String("peer", "127.0.0.1:2380", "peer address")
	dir := flag.String("dir", "etcd-data", "data directory")
	flag.Parse()
	cfg := embed.NewConfig()
	cfg.Dir = *dir
	cfg.LogLevel = "error"
	c, _ := url.Parse("http://" + *listen)
	p, _ := url.Parse("http://" + *peer)
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{*c}, []url.URL{*c}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{*p}, []url.URL{*p}
	cfg.InitialCluster = cfg.Name + "=" + p.String()
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "etcd:", err)
		os.Exit(1)
	}
	<-e.Server.ReadyNotify()
	fmt.Println("etcd ready on", *listen)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	select {
	case <-sig:
	case err := <-e.Err():
		fmt.Fprintln(os.Stderr, "etcd:", err)
	}
	e.Close()
}
