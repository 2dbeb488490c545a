package shard

import (
	"github.com/switchyard-db/switchyard/internal/config"
)

// LoadConfig reads a configuration file and validates it as ParseConfig
// does.
func LoadConfig(path string) (*config.Config, error) {
	return config.LoadWith(path, check)
}

// ParseConfig parses and validates a configuration: the document
// (config.Parse) and where its sharding rules place tables. It is the one
// way to check a configuration before it is used, saved or published. On
// failure the error joins every problem found, in line order; each is a
// *config.Error.
func ParseConfig(data []byte, name string) (*config.Config, error) {
	return config.ParseWith(data, name, check)
}

// check resolves the sharding rules of every namespace (a config.Checker).
func check(c *config.Config, r *config.Report) {
	for i, ns := range c.Namespaces {
		build(ns, indexPath("namespaces", i), r.Error, r.Failed)
	}
}
