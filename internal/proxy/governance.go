package proxy

import (
	"github.com/switchyard-db/switchyard/internal/config"
	"github.com/switchyard-db/switchyard/internal/digest"
)

// startDigests creates the digest store (its /metrics collector and
// /api/digests endpoint) and opens the slow log, as configured.
func (p *Proxy) startDigests(cfg *config.Config) error {
	if cfg.Digests.MaxEntries > 0 {
		p.env.Digests = digest.New(cfg.Digests.MaxEntries)
		p.metrics.Registry.MustRegister(digest.NewCollector(p.env.Digests, cfg.Digests.MetricsTop))
		p.admin.Handle("/api/digests", p.env.Digests.Handler())
	}
	if cfg.SlowLog.File != "" {
		l, err := digest.OpenSlowLog(cfg.SlowLog.File, int64(cfg.SlowLog.MaxSize), cfg.SlowLog.MaxFiles)
		if err != nil {
			return err
		}
		p.env.SlowLog = l
	}
	return nil
}
