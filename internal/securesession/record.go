package securesession

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/vigil-validator/vigil/internal/computeproto"
	"strconv"
	"strings"
)

// Keys are the two directional AES-256 keys of a session.
type Keys struct {
	ClientToServer [KeySize]byte // k_cs: miner -> validator records
	ServerToClient [KeySize]byte // k_sc: validator -> miner records
}

// DeriveKeys derives k_cs and k_sc from the X25519 shared secret. The public
// keys enter the HKDF info as the base64 text that was exchanged, not as
// re-encoded bytes, so callers pass the strings they sent and received.
func DeriveKeys(shared, clientNonce, serverNonce []byte, clientHotkey, serverHotkey, clientPubB64, serverPubB64 string) (Keys, error) {
	var k Keys
	if len(clientNonce) != NonceSize || len(serverNonce) != NonceSize {
		return k, errors.New("securesession: nonces must be 16 bytes")
	}
	salt := make([]byte, 0, 2*NonceSize)
	salt = append(salt, clientNonce...)
	salt = append(salt, serverNonce...)
	for _, d := range []struct {
		dir string
		out *[KeySize]byte
	}{{DirClientToServer, &k.ClientToServer}, {DirServerToClient, &k.ServerToClient}} {
		info := kdfInfo(d.dir, clientHotkey, serverHotkey, clientPubB64, serverPubB64, salt)
		key, err := hkdf.Key(sha256.New, shared, salt, info, KeySize)
		if err != nil {
			return Keys{}, err
		}
		copy(d.out[:], key)
	}
	return k, nil
}

func kdfInfo(dir, clientHotkey, serverHotkey, clientPub, serverPub string, salt []byte) string {
	var b strings.Builder
	for _, part := range []string{dir, clientHotkey, serverHotkey, clientPub, serverPub, string(salt)} {
		b.WriteString(part)
		b.WriteByte('|')
	}
	b.WriteString(KDFSuite)
	return b.String()
}

// SharedSecret is X25519(priv, peerPub). crypto/ecdh refuses low-order peer
// keys (an all-zero secret), as the Python peers' library does.
func SharedSecret(priv *ecdh.PrivateKey, peerPub []byte) ([]byte, error) {
	pub, err := ecdh.X25519().NewPublicKey(peerPub)
	if err != nil {
		return nil, err
	}
	return priv.ECDH(pub)
}

// ivPrefix is the session-constant first 4 bytes of every record IV.
func ivPrefix(sessionID string) [4]byte {
	h := sha256.Sum256([]byte(sessionID))
	return [4]byte(h[:4])
}

// RecordIV is SHA256(session_id)[0:4] || uint64_be(seq).
func RecordIV(sessionID string, seq uint64) [12]byte {
	return makeIV(ivPrefix(sessionID), seq)
}

func makeIV(prefix [4]byte, seq uint64) [12]byte {
	var iv [12]byte
	copy(iv[:4], prefix[:])
	binary.BigEndian.PutUint64(iv[4:], seq)
	return iv
}

// RecordAAD is the additional data bound to a record.
func RecordAAD(sender, recipient, protocolType, sessionID string, seq uint64) []byte {
	b := make([]byte, 0, len(AADPrefix)+len(sender)+len(recipient)+len(protocolType)+len(sessionID)+40)
	b = append(b, AADPrefix...)
	b = append(b, '|')
	b = append(b, sender...)
	b = append(b, '|')
	b = append(b, recipient...)
	b = append(b, '|')
	b = append(b, protocolType...)
	b = append(b, "|session_"...)
	b = append(b, sessionID...)
	b = append(b, "|seq_"...)
	return strconv.AppendUint(b, seq, 10)
}

// Package is the JSON envelope of an encrypted record.
type Package struct {
	Ver         string `json:"ver"`
	SessionID   string `json:"session_id"`
	Seq         uint64 `json:"seq"`
	Ciphertext  string `json:"ciphertext"` // std base64 of ciphertext || tag
	Sender      string `json:"sender"`
	Recipient   string `json:"recipient"`
	SynapseType string `json:"synapse_type"`
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("securesession: key must be %d bytes, got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// SealRecord encrypts plaintext under key and returns the package JSON.
func SealRecord(key []byte, sessionID string, seq uint64, sender, recipient, protocolType string, plaintext []byte) (string, error) {
	return sealRecord(key, ivPrefix(sessionID), sessionID, seq, sender, recipient, protocolType, plaintext)
}

func sealRecord(key []byte, prefix [4]byte, sessionID string, seq uint64, sender, recipient, protocolType string, plaintext []byte) (string, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return "", err
	}
	iv := makeIV(prefix, seq)
	ct := aead.Seal(nil, iv[:], plaintext, RecordAAD(sender, recipient, protocolType, sessionID, seq))
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err = enc.Encode(Package{
		Ver:         ProtocolVersion,
		SessionID:   sessionID,
		Seq:         seq,
		Ciphertext:  base64.StdEncoding.EncodeToString(ct),
		Sender:      sender,
		Recipient:   recipient,
		SynapseType: protocolType,
	})
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}

// ParsePackage decodes and checks the form of a package: every field present
// with the right JSON type and a canonical base64 ciphertext at least one tag
// long. Failures are *Error with computeproto.CodeSessionUnknown, the code the reference
// validator gives every record it cannot decrypt. It returns the raw ciphertext.
func ParsePackage(s string) (*Package, []byte, error) {
	// Keys are matched exactly (encoding/json's struct matching would accept
	// any letter case, which the Python peers do not).
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, nil, errorf(computeproto.CodeSessionUnknown, "Malformed encrypted package: %v", err)
	}
	p := new(Package)
	for _, f := range []struct {
		name string
		dst  any
	}{{"ver", &p.Ver}, {"session_id", &p.SessionID}, {"seq", &p.Seq}, {"ciphertext", &p.Ciphertext},
		{"sender", &p.Sender}, {"recipient", &p.Recipient}, {"synapse_type", &p.SynapseType}} {
		raw, ok := m[f.name]
		if !ok || string(raw) == "null" {
			return nil, nil, errorf(computeproto.CodeSessionUnknown, "Missing field in encrypted package: %s", f.name)
		}
		if err := decodeField(raw, f.dst); err != nil {
			return nil, nil, errorf(computeproto.CodeSessionUnknown, "Invalid field in encrypted package: %s", f.name)
		}
	}
	ct, err := decodeB64(p.Ciphertext)
	if err != nil {
		return nil, nil, errorf(computeproto.CodeSessionUnknown, "Invalid ciphertext encoding")
	}
	if len(ct) < 16 {
		return nil, nil, errorf(computeproto.CodeSessionUnknown, "Ciphertext shorter than the GCM tag")
	}
	return p, ct, nil
}

// decodeField decodes one already-validated JSON value, taking plain strings
// and integers directly (the common case) instead of a full Unmarshal.
func decodeField(raw json.RawMessage, dst any) error {
	switch d := dst.(type) {
	case *string:
		if len(raw) >= 2 && raw[0] == '"' && bytes.IndexByte(raw, '\\') < 0 {
			*d = string(raw[1 : len(raw)-1])
			return nil
		}
	case *uint64:
		if len(raw) > 0 && raw[0] >= '0' && raw[0] <= '9' {
			if v, err := strconv.ParseUint(string(raw), 10, 64); err == nil && (raw[0] != '0' || len(raw) == 1) {
				*d = v
				return nil
			}
		}
	}
	return json.Unmarshal(raw, dst)
}

// checkEnvelope compares the clear fields with what the receiver expects.
func checkEnvelope(p *Package, sender, recipient, protocolType string) error {
	switch {
	case p.Ver != ProtocolVersion:
		return errorf(computeproto.CodeSessionUnknown, "Unsupported protocol version: %q", p.Ver)
	case p.Sender != sender || p.Recipient != recipient:
		return errorf(computeproto.CodeSessionUnknown, "Sender/recipient mismatch: got %s->%s, expected %s->%s", p.Sender, p.Recipient, sender, recipient)
	case p.SynapseType != protocolType:
		return errorf(computeproto.CodeSessionUnknown, "Synapse type mismatch: package=%s, expected=%s", p.SynapseType, protocolType)
	}
	return nil
}

// OpenRecord parses and decrypts a package sent by sender to recipient for
// protocolType under key. It does not check sequence numbers: replay state
// belongs to a session. Failures are *Error with computeproto.CodeSessionUnknown, for a
// bad envelope as for failed authentication.
func OpenRecord(key []byte, sender, recipient, protocolType, pkgJSON string) ([]byte, *Package, error) {
	p, ct, err := ParsePackage(pkgJSON)
	if err != nil {
		return nil, nil, err
	}
	if err := checkEnvelope(p, sender, recipient, protocolType); err != nil {
		return nil, nil, err
	}
	pt, err := openRecord(key, ivPrefix(p.SessionID), p, ct)
	if err != nil {
		return nil, nil, err
	}
	return pt, p, nil
}

func openRecord(key []byte, prefix [4]byte, p *Package, ct []byte) ([]byte, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	iv := makeIV(prefix, p.Seq)
	pt, err := aead.Open(nil, iv[:], ct, RecordAAD(p.Sender, p.Recipient, p.SynapseType, p.SessionID, p.Seq))
	if err != nil {
		// A tag failure means the peer does not hold this session's key (or
		// the record was altered); a fresh handshake is the remedy.
		return nil, errorf(computeproto.CodeSessionUnknown, "Decryption failed")
	}
	return pt, nil
}

// decodeB64 accepts only canonical padded standard base64, the form Python's
// base64.b64encode produces.
func decodeB64(s string) ([]byte, error) {
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, err
	}
	if base64.StdEncoding.EncodeToString(b) != s {
		return nil, errors.New("non-canonical base64")
	}
	return b, nil
}

// Seal encrypts one record and returns ciphertext || tag: the record layer
// without the synapse package, for channels that frame records their own
// way (the validator's MeshHub session).
func Seal(key []byte, sessionID string, seq uint64, sender, recipient, protocolType string, plaintext []byte) ([]byte, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	iv := RecordIV(sessionID, seq)
	return aead.Seal(nil, iv[:], plaintext, RecordAAD(sender, recipient, protocolType, sessionID, seq)), nil
}

// Open decrypts what Seal made, with the same record fields.
func Open(key []byte, sessionID string, seq uint64, sender, recipient, protocolType string, ct []byte) ([]byte, error) {
	return openRecord(key, ivPrefix(sessionID), &Package{SessionID: sessionID, Seq: seq, Sender: sender, Recipient: recipient, SynapseType: protocolType}, ct)
}

// ReplayWindow is the reference's sliding window over received sequence
// numbers (1024 entries, a forward jump of at most 2048).
type ReplayWindow struct{ w *replayWindow }

// NewReplayWindow returns an empty window.
func NewReplayWindow() *ReplayWindow { return &ReplayWindow{&replayWindow{}} }

// Accept records seq, or reports false for a replayed or out-of-window one.
func (r *ReplayWindow) Accept(seq uint64) bool { return r.w.accept(seq) }
