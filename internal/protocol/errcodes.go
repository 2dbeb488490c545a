package protocol

// Error codes and SQLSTATEs Switchyard sends itself. Errors that come from a
// backend are relayed with the backend's own code.
const (
	ErrConCount           uint16 = 1040 // 08004
	ErrHandshake          uint16 = 1043 // 08S01
	ErrDBAccessDenied     uint16 = 1044 // 42000
	ErrAccessDenied       uint16 = 1045 // 28000
	ErrNoDB               uint16 = 1046 // 3D000
	ErrUnknownCom         uint16 = 1047 // 08S01
	ErrBadDB              uint16 = 1049 // 42000
	ErrParse              uint16 = 1064 // 42000
	ErrEmptyQuery         uint16 = 1065 // 42000
	ErrUnknown            uint16 = 1105 // HY000
	ErrNotAllowedCommand  uint16 = 1148 // 42000
	ErrNetPacketTooLarge  uint16 = 1153 // 08S01
	ErrNetReadError       uint16 = 1158 // 08S01
	ErrUnknownSystemVar   uint16 = 1193 // HY000
	ErrWrongValueForVar   uint16 = 1231 // 42000
	ErrNotSupportedYet    uint16 = 1235 // 42000
	ErrUnknownStmtHandler uint16 = 1243 // HY000
	ErrWrongArguments     uint16 = 1210 // HY000
	ErrQueryInterrupted   uint16 = 1317 // 70100
	ErrConnectToBackend   uint16 = 2003 // HY000 (the client-library code for "can't connect", used for an unreachable backend node)
	ErrLostBackend        uint16 = 2013 // HY000 (lost connection to a backend node during a query)
	ErrCommandsOutOfSync  uint16 = 2014 // HY000
)

// ErrUnsupported returns ER_NOT_SUPPORTED_YET naming what is unsupported.
func ErrUnsupported(what string) *Error {
	return NewError(ErrNotSupportedYet, "42000", "Switchyard does not support %s", what)
}
