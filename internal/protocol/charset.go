package protocol

// Collation describes a collation id sent in a handshake.
type Collation struct {
	ID      uint8
	Charset string
	Name    string
}

var collations = map[uint8]Collation{
	8:   {8, "latin1", "latin1_swedish_ci"},
	28:  {28, "gbk", "gbk_chinese_ci"},
	33:  {33, "utf8mb3", "utf8mb3_general_ci"},
	45:  {45, "utf8mb4", "utf8mb4_general_ci"},
	46:  {46, "utf8mb4", "utf8mb4_bin"},
	47:  {47, "latin1", "latin1_bin"},
	63:  {63, "binary", "binary"},
	83:  {83, "utf8mb3", "utf8mb3_bin"},
	87:  {87, "gbk", "gbk_bin"},
	192: {192, "utf8mb3", "utf8mb3_unicode_ci"},
	224: {224, "utf8mb4", "utf8mb4_unicode_ci"},
	// MySQL 8's default; MariaDB does not know it, its closest is general_ci.
	255: {255, "utf8mb4", "utf8mb4_general_ci"},
}

// LookupCollation returns the collation for a handshake id, falling back to
// utf8mb4_general_ci for ids Switchyard does not know.
func LookupCollation(id uint8) (Collation, bool) {
	c, ok := collations[id]
	if !ok {
		return collations[CharsetUTF8MB4GeneralCI], false
	}
	return c, true
}
