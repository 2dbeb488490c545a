package fleet

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"
)

// encPrefix marks an AES-GCM encrypted password in etcd:
// "enc:v1:" + base64(nonce | ciphertext+tag).
const encPrefix = "enc:v1:"

// Redacted replaces every password in `config get` and `config diff`
// output. `config put` refuses it as a password.
const Redacted = "<redacted>"

// KeyEnv is the environment variable that may hold the secret key.
const KeyEnv = "SWITCHYARD_SECRET_KEY"

// Secret encrypts and decrypts passwords with AES-GCM.
type Secret struct{ aead cipher.AEAD }

// LoadSecret returns the secret key from file (when not empty) or from the
// SWITCHYARD_SECRET_KEY environment variable; nil, nil when neither is
// set. The key is 16, 24 or 32 bytes (AES-128/192/256), given as is or in
// base64.
func LoadSecret(file string) (*Secret, error) {
	var raw string
	switch {
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("secret key: %w", err)
		}
		raw = string(b)
	case os.Getenv(KeyEnv) != "":
		raw = os.Getenv(KeyEnv)
	default:
		return nil, nil
	}
	return NewSecret(strings.TrimSpace(raw))
}

// NewSecret makes a Secret from a key of 16, 24 or 32 bytes, raw or base64.
func NewSecret(key string) (*Secret, error) {
	k := []byte(key)
	if d, err := base64.StdEncoding.DecodeString(key); err == nil && validKeyLen(len(d)) {
		k = d
	}
	if !validKeyLen(len(k)) {
		return nil, fmt.Errorf("secret key: want 16, 24 or 32 bytes (raw or base64), got %d", len(k))
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Secret{aead: aead}, nil
}

func validKeyLen(n int) bool { return n == 16 || n == 24 || n == 32 }

// Encrypt returns the stored form of a password.
func (s *Secret) Encrypt(plain string) (string, error) {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	out := s.aead.Seal(nonce, nonce, []byte(plain), nil)
	return encPrefix + base64.StdEncoding.EncodeToString(out), nil
}

// Decrypt returns the password of a stored value (as is when it is not
// encrypted).
func (s *Secret) Decrypt(v string) (string, error) {
	if !strings.HasPrefix(v, encPrefix) {
		return v, nil
	}
	if s == nil {
		return "", errors.New("an encrypted password needs the secret key (--secret-key-file or " + KeyEnv + ")")
	}
	b, err := base64.StdEncoding.DecodeString(v[len(encPrefix):])
	if err != nil || len(b) < s.aead.NonceSize() {
		return "", errors.New("an encrypted password is malformed")
	}
	plain, err := s.aead.Open(nil, b[:s.aead.NonceSize()], b[s.aead.NonceSize():], nil)
	if err != nil {
		return "", errors.New("an encrypted password does not decrypt with this secret key")
	}
	return string(plain), nil
}
