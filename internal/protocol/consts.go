// Package protocol implements the MySQL client/server wire protocol pieces
// Switchyard needs on both sides: packet framing, length-encoded values,
// OK/ERR/EOF packets, handshakes and authentication scrambles.
package protocol

// Capability flags (CLIENT_*).
const (
	ClientLongPassword               uint32 = 1 << 0
	ClientFoundRows                  uint32 = 1 << 1
	ClientLongFlag                   uint32 = 1 << 2
	ClientConnectWithDB              uint32 = 1 << 3
	ClientNoSchema                   uint32 = 1 << 4
	ClientCompress                   uint32 = 1 << 5
	ClientODBC                       uint32 = 1 << 6
	ClientLocalFiles                 uint32 = 1 << 7
	ClientIgnoreSpace                uint32 = 1 << 8
	ClientProtocol41                 uint32 = 1 << 9
	ClientInteractive                uint32 = 1 << 10
	ClientSSL                        uint32 = 1 << 11
	ClientIgnoreSigpipe              uint32 = 1 << 12
	ClientTransactions               uint32 = 1 << 13
	ClientReserved                   uint32 = 1 << 14
	ClientSecureConnection           uint32 = 1 << 15
	ClientMultiStatements            uint32 = 1 << 16
	ClientMultiResults               uint32 = 1 << 17
	ClientPSMultiResults             uint32 = 1 << 18
	ClientPluginAuth                 uint32 = 1 << 19
	ClientConnectAttrs               uint32 = 1 << 20
	ClientPluginAuthLenencClientData uint32 = 1 << 21
	ClientCanHandleExpiredPasswords  uint32 = 1 << 22
	ClientSessionTrack               uint32 = 1 << 23
	ClientDeprecateEOF               uint32 = 1 << 24
)

// MariaDB extended capabilities: the upper 32 bits of MariaDB's 64-bit
// capability set, exchanged in the last 4 filler bytes of the greeting and
// of the handshake response when CLIENT_LONG_PASSWORD (CLIENT_MYSQL) is not
// set by the server.
const (
	MariaDBClientProgress         uint32 = 1 << 0
	MariaDBClientStmtBulk         uint32 = 1 << 2
	MariaDBClientExtendedMetadata uint32 = 1 << 3
	MariaDBClientCacheMetadata    uint32 = 1 << 4
)

// Commands (COM_*).
const (
	ComSleep            byte = 0x00
	ComQuit             byte = 0x01
	ComInitDB           byte = 0x02
	ComQuery            byte = 0x03
	ComFieldList        byte = 0x04
	ComCreateDB         byte = 0x05
	ComDropDB           byte = 0x06
	ComRefresh          byte = 0x07
	ComShutdown         byte = 0x08
	ComStatistics       byte = 0x09
	ComProcessInfo      byte = 0x0a
	ComConnect          byte = 0x0b
	ComProcessKill      byte = 0x0c
	ComDebug            byte = 0x0d
	ComPing             byte = 0x0e
	ComTime             byte = 0x0f
	ComDelayedInsert    byte = 0x10
	ComChangeUser       byte = 0x11
	ComBinlogDump       byte = 0x12
	ComTableDump        byte = 0x13
	ComConnectOut       byte = 0x14
	ComRegisterSlave    byte = 0x15
	ComStmtPrepare      byte = 0x16
	ComStmtExecute      byte = 0x17
	ComStmtSendLongData byte = 0x18
	ComStmtClose        byte = 0x19
	ComStmtReset        byte = 0x1a
	ComSetOption        byte = 0x1b
	ComStmtFetch        byte = 0x1c
	ComDaemon           byte = 0x1d
	ComBinlogDumpGTID   byte = 0x1e
	ComResetConnection  byte = 0x1f
)

// Server status flags (SERVER_*).
const (
	StatusInTrans            uint16 = 0x0001
	StatusAutocommit         uint16 = 0x0002
	StatusMoreResultsExists  uint16 = 0x0008
	StatusNoGoodIndexUsed    uint16 = 0x0010
	StatusNoIndexUsed        uint16 = 0x0020
	StatusCursorExists       uint16 = 0x0040
	StatusLastRowSent        uint16 = 0x0080
	StatusDBDropped          uint16 = 0x0100
	StatusNoBackslashEscapes uint16 = 0x0200
	StatusMetadataChanged    uint16 = 0x0400
	StatusQueryWasSlow       uint16 = 0x0800
	StatusPSOutParams        uint16 = 0x1000
	StatusInTransReadonly    uint16 = 0x2000
	StatusSessionStateChange uint16 = 0x4000
)

// Packet header bytes.
const (
	OKHeader          byte = 0x00
	EOFHeader         byte = 0xfe
	ErrHeader         byte = 0xff
	LocalInfileHeader byte = 0xfb
	AuthMoreData      byte = 0x01
	AuthSwitchRequest byte = 0xfe
)

// Session state change types (SESSION_TRACK_*).
const (
	SessionTrackSystemVariables byte = 0
	SessionTrackSchema          byte = 1
	SessionTrackStateChange     byte = 2
	SessionTrackGTIDs           byte = 3
)

// Column types.
const (
	TypeDecimal    byte = 0x00
	TypeTiny       byte = 0x01
	TypeShort      byte = 0x02
	TypeLong       byte = 0x03
	TypeFloat      byte = 0x04
	TypeDouble     byte = 0x05
	TypeNull       byte = 0x06
	TypeTimestamp  byte = 0x07
	TypeLongLong   byte = 0x08
	TypeInt24      byte = 0x09
	TypeDate       byte = 0x0a
	TypeTime       byte = 0x0b
	TypeDateTime   byte = 0x0c
	TypeYear       byte = 0x0d
	TypeNewDate    byte = 0x0e
	TypeVarchar    byte = 0x0f
	TypeBit        byte = 0x10
	TypeJSON       byte = 0xf5
	TypeNewDecimal byte = 0xf6
	TypeEnum       byte = 0xf7
	TypeSet        byte = 0xf8
	TypeTinyBlob   byte = 0xf9
	TypeMediumBlob byte = 0xfa
	TypeLongBlob   byte = 0xfb
	TypeBlob       byte = 0xfc
	TypeVarString  byte = 0xfd
	TypeString     byte = 0xfe
	TypeGeometry   byte = 0xff
)

// Column definition flags.
const (
	FlagNotNull     uint16 = 1
	FlagPriKey      uint16 = 2
	FlagUniqueKey   uint16 = 4
	FlagBinary      uint16 = 128
	FlagUnsigned    uint16 = 32
	FlagAutoIncr    uint16 = 512
	FlagNum         uint16 = 32768
	FlagBlob        uint16 = 16
	FlagTimestamp   uint16 = 1024
	FlagOnUpdateNow uint16 = 8192
)

// Character set ids.
const (
	CharsetUTF8MB4GeneralCI uint8 = 45
	CharsetBinary           uint8 = 63
	CharsetUTF8GeneralCI    uint8 = 33
)

// MaxPayloadLen is the largest payload of one physical packet; larger logical
// packets are split into several physical ones.
const MaxPayloadLen = 1<<24 - 1

// Authentication plugin names.
const (
	AuthNativePassword      = "mysql_native_password"
	AuthCachingSHA2Password = "caching_sha2_password"
	AuthClearPassword       = "mysql_clear_password"
)

// CommandName returns the COM_ name of a command byte, for logs and errors.
func CommandName(c byte) string {
	switch c {
	case ComSleep:
		return "COM_SLEEP"
	case ComQuit:
		return "COM_QUIT"
	case ComInitDB:
		return "COM_INIT_DB"
	case ComQuery:
		return "COM_QUERY"
	case ComFieldList:
		return "COM_FIELD_LIST"
	case ComCreateDB:
		return "COM_CREATE_DB"
	case ComDropDB:
		return "COM_DROP_DB"
	case ComRefresh:
		return "COM_REFRESH"
	case ComShutdown:
		return "COM_SHUTDOWN"
	case ComStatistics:
		return "COM_STATISTICS"
	case ComProcessInfo:
		return "COM_PROCESS_INFO"
	case ComProcessKill:
		return "COM_PROCESS_KILL"
	case ComDebug:
		return "COM_DEBUG"
	case ComPing:
		return "COM_PING"
	case ComChangeUser:
		return "COM_CHANGE_USER"
	case ComBinlogDump:
		return "COM_BINLOG_DUMP"
	case ComRegisterSlave:
		return "COM_REGISTER_SLAVE"
	case ComStmtPrepare:
		return "COM_STMT_PREPARE"
	case ComStmtExecute:
		return "COM_STMT_EXECUTE"
	case ComStmtSendLongData:
		return "COM_STMT_SEND_LONG_DATA"
	case ComStmtClose:
		return "COM_STMT_CLOSE"
	case ComStmtReset:
		return "COM_STMT_RESET"
	case ComSetOption:
		return "COM_SET_OPTION"
	case ComStmtFetch:
		return "COM_STMT_FETCH"
	case ComBinlogDumpGTID:
		return "COM_BINLOG_DUMP_GTID"
	case ComResetConnection:
		return "COM_RESET_CONNECTION"
	}
	return "COM_UNKNOWN"
}
