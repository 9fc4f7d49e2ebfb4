// Package synapse is the Bittensor SDK's synapse model on the wire: the
// base fields every synapse carries, the terminal info of the two ends, the
// HTTP headers an axon reads them from, the body hash computed from the
// Python str() of the hashed fields, and the message the dendrite signs.
// Axons and dendrites of this module and the Python SDK build the same
// bytes from it.
package synapse

import (
	"crypto/rand"
	"crypto/sha3"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/vigil-validator/vigil/bittensor/pyfmt"
)

// DefaultTimeout is the SDK's default synapse timeout, in seconds.
const DefaultTimeout = 12.0

// Version is the SDK version this module speaks as, as the SDK encodes it
// (major·10⁶ + minor·10³ + patch): 9.10.0. At or above 7002000 an axon
// applies the modern nonce rule.
const Version = 9010000

// EmptyBodyHash is the body hash of a synapse without hashed fields:
// sha3-256 of nothing.
const EmptyBodyHash = "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a"

// TerminalInfo is what a synapse says about one end of a call. Every field
// is optional; unset ones are null in JSON and absent from the headers.
type TerminalInfo struct {
	StatusCode    *int     `json:"status_code"`
	StatusMessage *string  `json:"status_message"`
	ProcessTime   *float64 `json:"process_time"`
	IP            *string  `json:"ip"`
	Port          *int     `json:"port"`
	Version       *int     `json:"version"`
	Nonce         *int64   `json:"nonce"`
	UUID          *string  `json:"uuid"`
	Hotkey        *string  `json:"hotkey"`
	Signature     *string  `json:"signature"`
}

// Base holds the fields every synapse has. Synapse types embed it.
type Base struct {
	Name             *string      `json:"name"`
	Timeout          *float64     `json:"timeout"`
	TotalSize        *int         `json:"total_size"`
	HeaderSize       *int         `json:"header_size"`
	Dendrite         TerminalInfo `json:"dendrite"`
	Axon             TerminalInfo `json:"axon"`
	ComputedBodyHash *string      `json:"computed_body_hash"`
}

// Synapse is a request/response type: a struct embedding Base whose own
// fields carry JSON tags named as the Python class's fields.
type Synapse interface {
	base() *Base
}

func (b *Base) base() *Base { return b }

// Decode replaces *s with the synapse JSON in body. It decodes into a
// fresh value, so fields the body leaves out are reset rather than kept,
// and pointers s already holds are not written through.
func Decode(s Synapse, body []byte) error {
	fresh := reflect.New(reflect.TypeOf(s).Elem())
	if err := json.Unmarshal(body, fresh.Interface()); err != nil {
		return err
	}
	reflect.ValueOf(s).Elem().Set(fresh.Elem())
	return nil
}

// BaseOf returns the base fields of s.
func BaseOf(s Synapse) *Base { return s.base() }

// HashFielder is implemented by synapses that declare the SDK's
// required_hash_fields: the JSON names, in order, of the fields the body
// hash covers.
type HashFielder interface {
	RequiredHashFields() []string
}

// RequiredFielder is implemented by synapses with fields that have no
// default in the Python class: the axon's header parser needs a
// bt_header_input_obj_<field> header for each.
type RequiredFielder interface {
	RequiredFields() []string
}

// Namer is implemented by synapses whose Python class name differs from
// their Go type name.
type Namer interface {
	SynapseName() string
}

// Name is the synapse's class name, the path it is served at.
func Name(s Synapse) string {
	if n, ok := s.(Namer); ok {
		return n.SynapseName()
	}
	t := reflect.TypeOf(s)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Name()
}

// TimeoutSeconds is the synapse's timeout in seconds, the default when unset.
func (b *Base) TimeoutSeconds() float64 {
	if b.Timeout == nil || !(*b.Timeout > 0) {
		return DefaultTimeout
	}
	return *b.Timeout
}

// field finds the struct field of s with the given JSON name.
func field(s Synapse, name string) (reflect.Value, bool) {
	v := reflect.ValueOf(s)
	for v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	idx, ok := fieldIndex(v.Type())[name]
	if !ok {
		return reflect.Value{}, false
	}
	return v.FieldByIndex(idx), true
}

var indexCache sync.Map // reflect.Type → map[string][]int

// fieldIndex maps the JSON names of a struct's fields, promoted ones
// included, to their index paths.
func fieldIndex(t reflect.Type) map[string][]int {
	if m, ok := indexCache.Load(t); ok {
		return m.(map[string][]int)
	}
	m := map[string][]int{}
	for _, f := range reflect.VisibleFields(t) {
		if !f.IsExported() || f.Anonymous {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if _, dup := m[name]; !dup || len(f.Index) < len(m[name]) {
			m[name] = f.Index
		}
	}
	indexCache.Store(t, m)
	return m
}

// BodyHash is the SDK's body hash of s: sha3-256 over the concatenated
// hex sha3-256 digests of the Python str() of each hashed field, in the
// declared order.
func BodyHash(s Synapse) (string, error) {
	hf, ok := s.(HashFielder)
	if !ok {
		return EmptyBodyHash, nil
	}
	outer := sha3.New256()
	for _, name := range hf.RequiredHashFields() {
		v, ok := field(s, name)
		if !ok {
			return "", fmt.Errorf("synapse %s: hashed field %q does not exist", Name(s), name)
		}
		str, err := pyfmt.Str(v.Interface())
		if err != nil {
			return "", fmt.Errorf("synapse %s: hashed field %q: %w", Name(s), name, err)
		}
		sum := sha3.Sum256([]byte(str))
		outer.Write([]byte(hex.EncodeToString(sum[:])))
	}
	return hex.EncodeToString(outer.Sum(nil)), nil
}

// SignatureMessage is what a dendrite signs and an axon verifies:
// "{nonce}.{dendrite hotkey}.{axon hotkey}.{dendrite uuid}.{body hash}".
func SignatureMessage(nonce int64, dendriteHotkey, axonHotkey, uuid, bodyHash string) []byte {
	return []byte(strconv.FormatInt(nonce, 10) + "." + dendriteHotkey + "." + axonHotkey + "." + uuid + "." + bodyHash)
}

// NewUUID is a random identifier shaped like the version-1 uuids the SDK
// gives its axons and dendrites; peers only compare it as a string.
func NewUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x10
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
