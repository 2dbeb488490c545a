package protocol

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"sync"
	"testing"
)

func TestScrambleNativeKnownVector(t *testing.T) {
	scramble := []byte{
		0x3d, 0x5a, 0x1f, 0x66, 0x0b, 0x27, 0x48, 0x71, 0x12, 0x39,
		0x4e, 0x6c, 0x25, 0x53, 0x08, 0x7a, 0x31, 0x44, 0x69, 0x17,
	}
	// SHA1(password) XOR SHA1(scramble + SHA1(SHA1(password))), spelled out.
	h1 := sha1.Sum([]byte("secret"))
	h2 := sha1.Sum(h1[:])
	h3 := sha1.Sum(append(append([]byte(nil), scramble...), h2[:]...))
	want := make([]byte, sha1.Size)
	for i := range want {
		want[i] = h1[i] ^ h3[i]
	}
	got := ScrambleNative(scramble, "secret")
	if !bytes.Equal(got, want) {
		t.Fatalf("ScrambleNative = %x, want %x", got, want)
	}
	// SHA1(SHA1("secret")) is MySQL's well-known PASSWORD('secret') hash;
	// pin it and the response so that a change to both formula copies is
	// noticed.
	if got := strings.ToUpper(hex.EncodeToString(h2[:])); got != "14E65567ABDB5135D0CFD9A70B3032C179A49EE7" {
		t.Fatalf("SHA1(SHA1(secret)) = %s", got)
	}
	if hex.EncodeToString(got) != "5d48368e936e7d730ca3c3bc95fd2e0eb7c3682e" {
		t.Fatalf("ScrambleNative = %x, want the pinned vector", got)
	}
	// A scramble with a trailing NUL (as some servers send 21 bytes) gives
	// the same result: only the first 20 bytes count.
	if g := ScrambleNative(append(append([]byte(nil), scramble...), 0), "secret"); !bytes.Equal(g, want) {
		t.Errorf("21-byte scramble changes the result")
	}
	if ScrambleNative(scramble, "") != nil {
		t.Error("empty password must give an empty response")
	}
}

func TestScrambleCachingSHA2KnownVector(t *testing.T) {
	scramble := fixedScramble
	// SHA256(pw) XOR SHA256(SHA256(SHA256(pw)) + scramble).
	h1 := sha256.Sum256([]byte("secret"))
	h2 := sha256.Sum256(h1[:])
	h3 := sha256.Sum256(append(h2[:], scramble...))
	want := make([]byte, sha256.Size)
	for i := range want {
		want[i] = h1[i] ^ h3[i]
	}
	if got := ScrambleCachingSHA2(scramble, "secret"); !bytes.Equal(got, want) {
		t.Fatalf("ScrambleCachingSHA2 = %x, want %x", got, want)
	}
	if ScrambleCachingSHA2(scramble, "") != nil {
		t.Error("empty password must give an empty response")
	}
}

func TestCheckScramble(t *testing.T) {
	s := fixedScramble
	other := []byte("ABCDEFGHIJ0123456789")
	tests := []struct {
		name     string
		plugin   string
		resp     []byte
		password string
		want     bool
	}{
		{"native right", AuthNativePassword, ScrambleNative(s, "secret"), "secret", true},
		{"native wrong password", AuthNativePassword, ScrambleNative(s, "Secret"), "secret", false},
		{"native other scramble", AuthNativePassword, ScrambleNative(other, "secret"), "secret", false},
		{"native truncated", AuthNativePassword, ScrambleNative(s, "secret")[:19], "secret", false},
		{"native empty resp, password set", AuthNativePassword, nil, "secret", false},
		{"native empty password, empty resp", AuthNativePassword, nil, "", true},
		{"native empty password, NUL resp", AuthNativePassword, []byte{0}, "", true},
		{"native empty password, some resp", AuthNativePassword, ScrambleNative(s, "x"), "", false},
		{"native empty password, two NULs", AuthNativePassword, []byte{0, 0}, "", false},
		{"sha2 right", AuthCachingSHA2Password, ScrambleCachingSHA2(s, "secret"), "secret", true},
		{"sha2 wrong", AuthCachingSHA2Password, ScrambleCachingSHA2(s, "secreT"), "secret", false},
		{"sha2 given native response", AuthCachingSHA2Password, ScrambleNative(s, "secret"), "secret", false},
		{"sha2 empty", AuthCachingSHA2Password, nil, "", true},
		{"unknown plugin", AuthClearPassword, []byte("secret\x00"), "secret", false},
		{"unknown plugin empty", "dialog", nil, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CheckScramble(tt.plugin, s, tt.resp, tt.password); got != tt.want {
				t.Errorf("CheckScramble = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestNewScramble(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 200; i++ {
		s := NewScramble()
		if len(s) != 20 {
			t.Fatalf("len %d", len(s))
		}
		for _, c := range s {
			if c == 0 || c == '$' || c >= 0x80 {
				t.Fatalf("scramble %q contains byte %#x", s, c)
			}
		}
		seen[string(s)] = true
	}
	if len(seen) < 200 {
		t.Errorf("only %d distinct scrambles in 200", len(seen))
	}
}

var (
	testKeyOnce sync.Once
	testKey     *rsa.PrivateKey
)

func rsaTestKey(t testing.TB) *rsa.PrivateKey {
	testKeyOnce.Do(func() {
		var err error
		testKey, err = rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
	})
	return testKey
}

func TestRSAPasswordRoundTrip(t *testing.T) {
	key := rsaTestKey(t)
	pemKey := MarshalPublicKey(&key.PublicKey)
	pub, err := ParsePublicKey(pemKey)
	if err != nil {
		t.Fatal(err)
	}
	if !pub.Equal(&key.PublicKey) {
		t.Fatal("ParsePublicKey(MarshalPublicKey(k)) != k")
	}
	passwords := []string{"", "a", "secret", "pässwörd", strings.Repeat("x", 19), strings.Repeat("y", 20), strings.Repeat("z", 21), strings.Repeat("q", 150)}
	for _, pw := range passwords {
		enc, err := EncryptPasswordRSA(pw, fixedScramble, pub)
		if err != nil {
			t.Fatalf("EncryptPasswordRSA(%d bytes): %v", len(pw), err)
		}
		if bytes.Contains(enc, []byte(pw)) && len(pw) > 3 {
			t.Errorf("ciphertext contains the password")
		}
		got, err := DecryptPasswordRSA(enc, fixedScramble, key)
		if err != nil {
			t.Fatalf("DecryptPasswordRSA: %v", err)
		}
		if got != pw {
			t.Errorf("round trip of %q gave %q", pw, got)
		}
		// The wrong scramble gives a different password.
		if got, err := DecryptPasswordRSA(enc, []byte("ZZZZZZZZZZZZZZZZZZZZ"), key); err == nil && got == pw && pw != "" {
			t.Errorf("decrypting with another scramble still gave %q", got)
		}
	}
	// Garbage ciphertext is an error, not a panic.
	if _, err := DecryptPasswordRSA([]byte("garbage"), fixedScramble, key); err == nil {
		t.Error("DecryptPasswordRSA(garbage): no error")
	}
}

func TestParsePublicKeyErrors(t *testing.T) {
	for _, in := range []string{"", "not pem", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"} {
		if _, err := ParsePublicKey([]byte(in)); err == nil {
			t.Errorf("ParsePublicKey(%q): no error", in)
		}
	}
}
