// Package fleet runs Switchyard proxies as one fleet on etcd v3: the
// namespaces live in etcd (one key per namespace, watched), proxies
// register with a lease, and one elected proxy decides each slice's
// primary for all.
//
// Keys, under /switchyard/<cluster>/:
//
//	namespaces/<name>         a namespace's YAML (as in a configuration file)
//	proxies/<id>              a live proxy (JSON), attached to its lease
//	leader                    the election of the proxy that decides failovers
//	primaries/<ns>/<slice>    the primary the leader decided (JSON)
package fleet

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// DialTimeout bounds connecting to etcd.
const DialTimeout = 5 * time.Second

// Dial connects to etcd; endpoints are comma separated host:port or URLs.
func Dial(endpoints string) (*clientv3.Client, error) {
	var eps []string
	for _, e := range strings.Split(endpoints, ",") {
		if e = strings.TrimSpace(e); e != "" {
			eps = append(eps, e)
		}
	}
	if len(eps) == 0 {
		return nil, errors.New("--etcd: no endpoint given")
	}
	return clientv3.New(clientv3.Config{Endpoints: eps, DialTimeout: DialTimeout, Logger: quietLogger()})
}

// Prefix is the key prefix of a cluster.
func Prefix(cluster string) string { return "/switchyard/" + cluster + "/" }

// Store reads and writes a cluster's namespaces.
type Store struct {
	Client  *clientv3.Client
	Cluster string
}

func (s *Store) nsPrefix() string { return Prefix(s.Cluster) + "namespaces/" }

// Get returns the stored namespaces (passwords as stored) and the store's
// revision.
func (s *Store) Get(ctx context.Context) ([]Namespace, int64, error) {
	resp, err := s.Client.Get(ctx, s.nsPrefix(), clientv3.WithPrefix())
	if err != nil {
		return nil, 0, err
	}
	var out []Namespace
	for _, kv := range resp.Kvs {
		out = append(out, Namespace{Name: strings.TrimPrefix(string(kv.Key), s.nsPrefix()), YAML: kv.Value})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, resp.Header.Revision, nil
}

// Put validates the namespaces of a configuration file together with the
// stored ones they do not replace, and writes them in one transaction,
// their passwords encrypted when secret is not nil. It returns the names
// written and the new revision.
func (s *Store) Put(ctx context.Context, file []byte, name string, secret *Secret) ([]string, int64, error) {
	nss, err := SplitFile(file, name)
	if err != nil {
		return nil, 0, err
	}
	for _, ns := range nss {
		if _, err := rewritePasswords(ns.YAML, func(v string) (string, error) {
			if v == Redacted {
				return "", fmt.Errorf("namespace %s: a password is %q (output of `config get`); give the real password", ns.Name, Redacted)
			}
			return v, nil
		}); err != nil {
			return nil, 0, err
		}
	}
	stored, rev, err := s.Get(ctx)
	if err != nil {
		return nil, 0, err
	}
	merged := mergeNamespaces(stored, nss)
	if _, err := Compose(nil, "etcd", merged, secret); err != nil {
		return nil, 0, fmt.Errorf("with the namespaces already in etcd: %w", err)
	}
	var ops []clientv3.Op
	var names []string
	for _, ns := range nss {
		val := ns.YAML
		if secret != nil {
			if val, err = rewritePasswords(val, func(v string) (string, error) {
				if strings.HasPrefix(v, encPrefix) {
					return v, nil
				}
				return secret.Encrypt(v)
			}); err != nil {
				return nil, 0, err
			}
		}
		ops = append(ops, clientv3.OpPut(s.nsPrefix()+ns.Name, string(val)))
		names = append(names, ns.Name)
	}
	// Nothing else changed the namespaces since they were validated.
	resp, err := s.Client.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(s.nsPrefix()).WithPrefix(), "<", rev+1)).Then(ops...).Commit()
	if err != nil {
		return nil, 0, err
	}
	if !resp.Succeeded {
		return nil, 0, errors.New("the namespaces changed in etcd meanwhile; try again")
	}
	return names, resp.Header.Revision, nil
}

// Remove deletes one namespace; it fails when the namespace does not exist.
func (s *Store) Remove(ctx context.Context, name string) (int64, error) {
	resp, err := s.Client.Delete(ctx, s.nsPrefix()+name)
	if err != nil {
		return 0, err
	}
	if resp.Deleted == 0 {
		return 0, fmt.Errorf("namespace %s is not in cluster %s", name, s.Cluster)
	}
	return resp.Header.Revision, nil
}

// mergeNamespaces returns stored with the namespaces of put added or
// replaced by name.
func mergeNamespaces(stored, put []Namespace) []Namespace {
	byName := map[string]Namespace{}
	for _, ns := range stored {
		byName[ns.Name] = ns
	}
	for _, ns := range put {
		byName[ns.Name] = ns
	}
	out := make([]Namespace, 0, len(byName))
	for _, ns := range byName {
		out = append(out, ns)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
