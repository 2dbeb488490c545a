package router

// Local names a statement the proxy answers without a backend.
type Local uint8

// Statements answered by the proxy.
const (
	LocalNone Local = iota
	// LocalKill: KILL [QUERY] id, where id is a Switchyard connection id.
	LocalKill
	// LocalLastInsertID: SELECT LAST_INSERT_ID() alone, answered from the
	// session (the connection that ran the INSERT may serve another session).
	LocalLastInsertID
	// LocalConnectionID: SELECT CONNECTION_ID() alone, answered with the
	// Switchyard connection id (the one KILL takes), not a backend's.
	LocalConnectionID
	// LocalRowCount: SELECT ROW_COUNT() alone, from the session's last
	// statement.
	LocalRowCount
	// LocalFoundRows: SELECT FOUND_ROWS() alone, from the session's last
	// result set.
	LocalFoundRows
	// LocalSetConsistency: SET [SESSION] switchyard_read_consistency = 'x'
	// (alias aurora_replica_read_consistency); Analysis.Value holds x.
	LocalSetConsistency
	// LocalShowConsistency: SELECT @@switchyard_read_consistency alone.
	LocalShowConsistency
)

// IsConsistencyVar reports whether name (lowercase, without @@ and scope)
// is the proxy's read-consistency variable or its Aurora alias.
func IsConsistencyVar(name string) bool {
	return name == "switchyard_read_consistency" || name == "aurora_replica_read_consistency"
}
