package fleet

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

func (m *Member) primariesPrefix() string { return Prefix(m.o.Cluster) + "primaries/" }

// campaign runs for leader in sess (the member's lease) until the lease
// is lost or the member stops. The leader decides failovers and planned
// switchovers and publishes each slice's primary; the others follow.
func (m *Member) campaign(sess *concurrency.Session) {
	e := concurrency.NewElection(sess, Prefix(m.o.Cluster)+"leader")
	ctx, cancel := context.WithCancel(m.ctx)
	defer cancel()
	go func() {
		select {
		case <-sess.Done():
			cancel()
		case <-ctx.Done():
		}
	}()
	if err := e.Campaign(ctx, m.id); err != nil {
		return
	}
	m.setLeader(true)
	m.o.Log.Warn("this proxy is the fleet leader: it decides failovers", "cluster", m.o.Cluster, "id", m.id)
	// Publish what this proxy sees now, so followers agree from here on.
	for k, addr := range m.p.Monitor().Primaries() {
		m.publish(k[0], k[1], addr)
	}
	<-ctx.Done()
	m.setLeader(false)
	if m.ctx.Err() != nil {
		rctx, rcancel := context.WithTimeout(context.Background(), time.Second)
		_ = e.Resign(rctx)
		rcancel()
	}
}

// setLeader records leadership and sets the monitor's mode: the leader
// (and a proxy in degraded mode) decides; the others follow.
func (m *Member) setLeader(on bool) {
	m.mu.Lock()
	m.leader = on
	healthy := m.healthy
	m.mu.Unlock()
	m.p.Monitor().SetFollower(healthy && !on)
}

// IsLeader reports whether this proxy is the fleet leader.
func (m *Member) IsLeader() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.leader
}

// publish writes a slice's primary (leader only; "" holds writes).
func (m *Member) publish(ns, slice, addr string) {
	if !m.IsLeader() {
		return
	}
	ctx, cancel := context.WithTimeout(m.ctx, 2*time.Second)
	defer cancel()
	key := m.primariesPrefix() + ns + "/" + slice
	if _, err := m.cli.Put(ctx, key, addr); err != nil {
		m.o.Log.Error("publishing a slice's primary", "namespace", ns, "slice", slice, "primary", addr, "err", err)
		return
	}
	m.o.Log.Info("published a slice's primary", "namespace", ns, "slice", slice, "primary", addr)
}

// follow applies the leader's publications to the monitor (which acts on
// them only while following).
func (m *Member) follow() {
	for m.ctx.Err() == nil {
		ctx, cancel := context.WithTimeout(m.ctx, 2*time.Second)
		resp, err := m.cli.Get(ctx, m.primariesPrefix(), clientv3.WithPrefix())
		cancel()
		if err != nil {
			m.sleep(500 * time.Millisecond)
			continue
		}
		for _, kv := range resp.Kvs {
			m.applyPublished(string(kv.Key), string(kv.Value))
		}
		wctx, wcancel := context.WithCancel(clientv3.WithRequireLeader(m.ctx))
		for wr := range m.cli.Watch(wctx, m.primariesPrefix(), clientv3.WithPrefix(), clientv3.WithRev(resp.Header.Revision+1)) {
			if wr.Err() != nil {
				break
			}
			for _, ev := range wr.Events {
				if ev.Type == clientv3.EventTypePut {
					m.applyPublished(string(ev.Kv.Key), string(ev.Kv.Value))
				}
			}
		}
		wcancel()
		m.sleep(200 * time.Millisecond)
	}
}

func (m *Member) applyPublished(key, addr string) {
	rest := strings.TrimPrefix(key, m.primariesPrefix())
	ns, slice, ok := strings.Cut(rest, "/")
	if !ok {
		return
	}
	m.p.Monitor().Published(ns, slice, addr)
}

// switchoverGuard lets only the leader (or a proxy in degraded mode) run a
// planned switchover.
func (m *Member) switchoverGuard() error {
	if m.IsLeader() || !m.Healthy() {
		return nil
	}
	ctx, cancel := context.WithTimeout(m.ctx, 2*time.Second)
	defer cancel()
	list, _ := m.Proxies(ctx)
	for _, p := range list {
		if p.Leader {
			return fmt.Errorf("this proxy follows the fleet leader; send the switchover to the leader's admin API at %s", p.Admin)
		}
	}
	return errors.New("this proxy follows the fleet leader; send the switchover to the leader (none is elected right now)")
}
