package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Consistency levels and read outcomes for switchyard_consistency_reads_total.
const (
	LevelEventual = iota
	LevelSession
	LevelGlobal
	numLevels
)

var levelNames = [numLevels]string{"eventual", "session", "global"}

// Outcomes of a read under a consistency level.
const (
	// OutcomeReplica: a replica served it with nothing to wait for.
	OutcomeReplica = iota
	// OutcomeReplicaKnown: a replica the monitor knew had the position.
	OutcomeReplicaKnown
	// OutcomeReplicaWaited: a replica, after MASTER_GTID_WAIT returned.
	OutcomeReplicaWaited
	// OutcomePrimaryTimeout: the wait timed out; the primary served it.
	OutcomePrimaryTimeout
	// OutcomePrimaryNoReplica: no usable replica; the primary served it.
	OutcomePrimaryNoReplica
	// OutcomePrimaryNoGTID: the backend reports no GTIDs; the primary served it.
	OutcomePrimaryNoGTID
	numOutcomes
)

var outcomeNames = [numOutcomes]string{"replica", "replica_known", "replica_waited", "primary_timeout", "primary_no_replica", "primary_no_gtid"}

type consistencyMetrics struct {
	once     sync.Once
	vec      *prometheus.CounterVec
	nodeVec  *prometheus.CounterVec
	mu       sync.Mutex
	nsCounts map[string]*[numLevels][numOutcomes]prometheus.Counter
}

func (m *Metrics) consistency() *consistencyMetrics {
	c := &m.cons
	c.once.Do(func() {
		c.vec = prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchyard_consistency_reads_total",
			Help: "Replica-eligible reads by read consistency level and where they were served.",
		}, []string{"namespace", "level", "outcome"})
		c.nodeVec = prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchyard_node_statements_total",
			Help: "Statements run on each backend node.",
		}, []string{"namespace", "slice", "node"})
		c.nsCounts = map[string]*[numLevels][numOutcomes]prometheus.Counter{}
		m.Registry.MustRegister(c.vec, c.nodeVec)
	})
	return c
}

// NodeStatements returns the statement counter of one backend node.
func (m *Metrics) NodeStatements(namespace, slice, node string) prometheus.Counter {
	return m.consistency().nodeVec.WithLabelValues(namespace, slice, node)
}

// ConsistencyRead counts a replica-eligible read (allocation-free after
// the first call for a namespace).
func (ns *NamespaceMetrics) ConsistencyRead(level, outcome int) {
	if ns == nil || level < 0 || level >= numLevels || outcome < 0 || outcome >= numOutcomes {
		return
	}
	c := ns.m.consistency()
	c.mu.Lock()
	counts := c.nsCounts[ns.name]
	if counts == nil {
		counts = new([numLevels][numOutcomes]prometheus.Counter)
		for l := range numLevels {
			for o := range numOutcomes {
				counts[l][o] = c.vec.WithLabelValues(ns.name, levelNames[l], outcomeNames[o])
			}
		}
		c.nsCounts[ns.name] = counts
	}
	c.mu.Unlock()
	counts[level][outcome].Inc()
}
