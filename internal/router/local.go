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
)
