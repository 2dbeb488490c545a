package protocol

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/pem"
	"errors"
)

// NewScramble returns 20 random printable-safe bytes (no NUL, no '$') for a
// handshake.
func NewScramble() []byte {
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	for i := range b {
		b[i] = b[i]&0x7f | 1
		if b[i] == '$' {
			b[i] = '#'
		}
	}
	return b
}

// ScrambleNative computes the mysql_native_password auth response:
// SHA1(pw) XOR SHA1(scramble + SHA1(SHA1(pw))).
func ScrambleNative(scramble []byte, password string) []byte {
	if password == "" {
		return nil
	}
	if len(scramble) > 20 {
		scramble = scramble[:20]
	}
	h1 := sha1.Sum([]byte(password))
	h2 := sha1.Sum(h1[:])
	h := sha1.New()
	h.Write(scramble)
	h.Write(h2[:])
	h3 := h.Sum(nil)
	for i := range h3 {
		h3[i] ^= h1[i]
	}
	return h3
}

// ScrambleCachingSHA2 computes the caching_sha2_password fast auth response:
// SHA256(pw) XOR SHA256(SHA256(SHA256(pw)) + scramble).
func ScrambleCachingSHA2(scramble []byte, password string) []byte {
	if password == "" {
		return nil
	}
	if len(scramble) > 20 {
		scramble = scramble[:20]
	}
	h1 := sha256.Sum256([]byte(password))
	h2 := sha256.Sum256(h1[:])
	h := sha256.New()
	h.Write(h2[:])
	h.Write(scramble)
	h3 := h.Sum(nil)
	for i := range h3 {
		h3[i] ^= h1[i]
	}
	return h3
}

// CheckScramble reports whether resp is the correct response for password
// under plugin. The comparison is constant-time.
func CheckScramble(plugin string, scramble, resp []byte, password string) bool {
	if len(scramble) > 20 {
		scramble = scramble[:20]
	}
	var want []byte
	switch plugin {
	case AuthNativePassword:
		want = ScrambleNative(scramble, password)
	case AuthCachingSHA2Password:
		want = ScrambleCachingSHA2(scramble, password)
	default:
		return false
	}
	// Some clients send a trailing NUL with an empty password.
	if len(want) == 0 {
		return len(resp) == 0 || (len(resp) == 1 && resp[0] == 0)
	}
	return subtle.ConstantTimeCompare(want, resp) == 1
}

// EncryptPasswordRSA encrypts password for caching_sha2_password full
// authentication over an insecure channel: RSA-OAEP(SHA1) of
// (password + NUL) XOR scramble.
func EncryptPasswordRSA(password string, scramble []byte, pub *rsa.PublicKey) ([]byte, error) {
	plain := xorScramble(append([]byte(password), 0), scramble)
	return rsa.EncryptOAEP(sha1.New(), rand.Reader, pub, plain, nil)
}

// DecryptPasswordRSA reverses EncryptPasswordRSA with the server's key.
func DecryptPasswordRSA(cipher []byte, scramble []byte, key *rsa.PrivateKey) (string, error) {
	plain, err := rsa.DecryptOAEP(sha1.New(), rand.Reader, key, cipher, nil)
	if err != nil {
		return "", err
	}
	plain = xorScramble(plain, scramble)
	return string(bytes.TrimRight(plain, "\x00")), nil
}

func xorScramble(b, scramble []byte) []byte {
	out := make([]byte, len(b))
	for i := range b {
		out[i] = b[i] ^ scramble[i%len(scramble)]
	}
	return out
}

// ParsePublicKey decodes a PEM public key as sent by a server in
// caching_sha2_password full authentication.
func ParsePublicKey(p []byte) (*rsa.PublicKey, error) {
	blk, _ := pem.Decode(p)
	if blk == nil {
		return nil, errors.New("no PEM public key in server response")
	}
	k, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		return nil, err
	}
	rk, ok := k.(*rsa.PublicKey)
	if !ok {
		return nil, errors.New("server public key is not RSA")
	}
	return rk, nil
}

// MarshalPublicKey encodes pub as PEM (PKIX).
func MarshalPublicKey(pub *rsa.PublicKey) []byte {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		panic(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}
