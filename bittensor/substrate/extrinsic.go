package substrate

import (
	"errors"
	"fmt"
	"math/bits"

	"golang.org/x/crypto/blake2b"

	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/bittensor/scale"
)

// Signed extrinsics, format version 4, signed with sr25519:
//
//	Compact(len) ‖ 0x84 ‖ 0x00 ‖ signer(32) ‖ 0x01 ‖ signature(64) ‖ extra ‖ call
//
// The signature covers call ‖ extra ‖ implicit, or the blake2b-256 hash of
// that when it is longer than 256 bytes. "extra" and "implicit" are the
// explicit and additional-signed parts of the chain's transaction
// extensions, in the order its metadata lists them.

// ExtrinsicVersion is the only extrinsic format this package writes.
const ExtrinsicVersion = 4

const (
	signedBit        = 0x80
	multiAddressID   = 0x00
	multiSigSr25519  = 0x01
	maxUnhashedBytes = 256
	// MaxExtrinsicSize caps extrinsics read from peers; subtensor's blocks
	// are 5 MiB at most.
	MaxExtrinsicSize = 5 << 20
)

// Errors of extrinsic building and decoding.
var (
	// ErrUnknownExtension matches (errors.Is) the error for a transaction
	// extension with non-empty types that this package cannot fill in.
	ErrUnknownExtension = errors.New("unknown transaction extension")
	// ErrExtrinsic is wrapped by every error of DecodeExtrinsic.
	ErrExtrinsic = errors.New("malformed extrinsic")
)

// Era is a transaction's validity window: immortal, or mortal for Period
// blocks starting at the block whose number ≡ Phase (mod Period).
type Era struct {
	Immortal bool
	Period   uint64 // a power of two in [4, 65536]
	Phase    uint64 // < Period
}

// ImmortalEra is valid forever; replayable once the nonce is reused, so
// only for tests and development chains.
var ImmortalEra = Era{Immortal: true}

// MortalEra returns an era of at least period blocks (rounded up to a power
// of two, within [4, 65536]) starting at block current, which should be a
// recent finalized block whose hash the signer knows.
func MortalEra(current, period uint64) Era {
	p := uint64(4)
	for p < period && p < 1<<16 {
		p <<= 1
	}
	quantize := max(p>>12, 1)
	phase := current % p / quantize * quantize
	return Era{Period: p, Phase: phase}
}

// Encode returns the era's SCALE bytes: 0x00 when immortal, else two bytes.
func (e Era) Encode() []byte {
	if e.Immortal {
		return []byte{0}
	}
	quantize := max(e.Period>>12, 1)
	low := uint64(min(15, max(1, bits.TrailingZeros64(e.Period)-1)))
	v := uint16(low | (e.Phase/quantize)<<4)
	return []byte{byte(v), byte(v >> 8)}
}

// Birth is the first block of the era that contains block current; its hash
// is what the signature commits to.
func (e Era) Birth(current uint64) uint64 {
	if e.Immortal {
		return 0
	}
	return (max(current, e.Phase)-e.Phase)/e.Period*e.Period + e.Phase
}

// Death is the first block at which a transaction born at birth is invalid.
func (e Era) Death(birth uint64) uint64 {
	if e.Immortal {
		return ^uint64(0)
	}
	return birth + e.Period
}

// readEra decodes an era.
func readEra(r *scale.Reader) (Era, error) {
	first, err := r.U8()
	if err != nil {
		return Era{}, err
	}
	if first == 0 {
		return ImmortalEra, nil
	}
	second, err := r.U8()
	if err != nil {
		return Era{}, err
	}
	v := uint64(first) | uint64(second)<<8
	period := uint64(2) << (v % 16)
	quantize := max(period>>12, 1)
	phase := (v >> 4) * quantize
	if period < 4 || phase >= period {
		return Era{}, fmt.Errorf("%w: era %#04x", scale.ErrInvalid, v)
	}
	return Era{Period: period, Phase: phase}, nil
}

// TxParams are the values a signed transaction commits to besides its call.
type TxParams struct {
	SpecVersion        uint32
	TransactionVersion uint32
	GenesisHash        [32]byte
	Era                Era
	// BirthHash is the hash of the era's birth block (Era.Birth); ignored for
	// an immortal era, which commits to the genesis hash.
	BirthHash [32]byte
	Nonce     uint32
	Tip       uint64
}

// codec writes (and reads back) what one known extension carries.
type codec struct {
	extra, implicit func(e *scale.Encoder, p *TxParams)
	// read decodes the explicit part from an extrinsic; set with extra.
	read func(r *scale.Reader, x *Extrinsic) error
}

// extension is one transaction extension of the chain, in its order.
type extension struct {
	name string
	codec
	hasExtra, hasImp bool // what the metadata declares
}

// knownExtensions are the extensions this package can fill in. Extensions
// whose types are both empty need no entry: they add no bytes, whatever
// their name (CheckNonZeroSender, CheckWeight, subtensor's own).
var knownExtensions = map[string]codec{
	"CheckSpecVersion": {implicit: func(e *scale.Encoder, p *TxParams) { e.U32(p.SpecVersion) }},
	"CheckTxVersion":   {implicit: func(e *scale.Encoder, p *TxParams) { e.U32(p.TransactionVersion) }},
	"CheckGenesis":     {implicit: func(e *scale.Encoder, p *TxParams) { e.Fixed(p.GenesisHash[:]) }},
	"CheckMortality":   eraCodec,
	"CheckEra":         eraCodec,
	"CheckNonce": {
		extra: func(e *scale.Encoder, p *TxParams) { e.Compact(uint64(p.Nonce)) },
		read:  func(r *scale.Reader, x *Extrinsic) (err error) { x.Nonce, err = r.CompactU32(); return },
	},
	"ChargeTransactionPayment": {
		extra: func(e *scale.Encoder, p *TxParams) { e.Compact(p.Tip) },
		read:  func(r *scale.Reader, x *Extrinsic) (err error) { x.Tip, err = r.Compact(); return },
	},
	// Mode 0 (disabled) and no hash: the runtime does not check the
	// metadata hash, so the signer need not compute it.
	"CheckMetadataHash": {
		extra:    func(e *scale.Encoder, _ *TxParams) { e.U8(0) },
		implicit: func(e *scale.Encoder, _ *TxParams) { e.OptionNone() },
		read: func(r *scale.Reader, _ *Extrinsic) error {
			mode, err := r.U8()
			if err == nil && mode > 1 {
				err = fmt.Errorf("%w: metadata hash mode %d", scale.ErrInvalid, mode)
			}
			return err
		},
	},
}

var eraCodec = codec{
	extra:    encodeEra,
	implicit: encodeBirth,
	read:     func(r *scale.Reader, x *Extrinsic) (err error) { x.Era, err = readEra(r); return },
}

func encodeEra(e *scale.Encoder, p *TxParams) { e.Fixed(p.Era.Encode()) }

func encodeBirth(e *scale.Encoder, p *TxParams) {
	if p.Era.Immortal {
		e.Fixed(p.GenesisHash[:])
		return
	}
	e.Fixed(p.BirthHash[:])
}

// Extensions is the chain's list of transaction extensions, ready to encode.
type Extensions struct {
	list []extension
}

// Names lists the extensions in chain order.
func (x *Extensions) Names() []string {
	out := make([]string, len(x.list))
	for i, e := range x.list {
		out[i] = e.name
	}
	return out
}

// TxExtensions resolves the metadata's transaction extensions. An extension
// with a non-empty explicit or implicit type that this package cannot fill
// in is an error naming it (matching ErrUnknownExtension): signing without
// it would produce a transaction the chain rejects as badly signed.
func (m *Metadata) TxExtensions() (*Extensions, error) {
	x := &Extensions{}
	for _, se := range m.SignedExtensions {
		ext := extension{name: se.Identifier, hasExtra: !m.isEmpty(se.Type, 0), hasImp: !m.isEmpty(se.AdditionalSigned, 0)}
		known, ok := knownExtensions[se.Identifier]
		if !ok {
			if ext.hasExtra || ext.hasImp {
				return nil, fmt.Errorf("%w %s: it carries data (types %d/%d) this client cannot fill in", ErrUnknownExtension, se.Identifier, se.Type, se.AdditionalSigned)
			}
			x.list = append(x.list, ext)
			continue
		}
		if ext.hasExtra != (known.extra != nil) || ext.hasImp != (known.implicit != nil) {
			return nil, fmt.Errorf("%w %s: its types (%d/%d) differ from the known layout", ErrUnknownExtension, se.Identifier, se.Type, se.AdditionalSigned)
		}
		ext.codec = known
		x.list = append(x.list, ext)
	}
	return x, nil
}

// IsEmpty reports whether a type encodes to no bytes (an extension's
// PhantomData, the unit tuple).
func (m *Metadata) IsEmpty(id uint32) bool { return m.isEmpty(id, 0) }

// isEmpty reports whether a type encodes to no bytes (the unit tuple, or a
// composite/tuple/array of such).
func (m *Metadata) isEmpty(id uint32, depth int) bool {
	t := m.Types[id]
	if t == nil || depth > 16 {
		return false
	}
	switch t.Kind {
	case KindComposite:
		for _, f := range t.Fields {
			if !m.isEmpty(f.Type, depth+1) {
				return false
			}
		}
		return true
	case KindTuple:
		for _, e := range t.Tuple {
			if !m.isEmpty(e, depth+1) {
				return false
			}
		}
		return true
	case KindArray:
		return t.Len == 0 || m.isEmpty(t.Elem, depth+1)
	}
	return false
}

// Extra returns the explicit bytes of all extensions, as they appear in the
// extrinsic.
func (x *Extensions) Extra(p TxParams) []byte {
	e := scale.NewEncoder(16)
	for _, ext := range x.list {
		if ext.extra != nil {
			ext.extra(e, &p)
		}
	}
	return e.Bytes()
}

// Implicit returns the additional-signed bytes of all extensions, which
// only the signature covers.
func (x *Extensions) Implicit(p TxParams) []byte {
	e := scale.NewEncoder(80)
	for _, ext := range x.list {
		if ext.implicit != nil {
			ext.implicit(e, &p)
		}
	}
	return e.Bytes()
}

// SigningPayload returns the bytes an sr25519 key signs for call under p:
// call ‖ extra ‖ implicit, or its blake2b-256 hash when longer than 256
// bytes.
func (x *Extensions) SigningPayload(call []byte, p TxParams) []byte {
	payload := append(append(append(make([]byte, 0, len(call)+96), call...), x.Extra(p)...), x.Implicit(p)...)
	if len(payload) > maxUnhashedBytes {
		h := blake2b.Sum256(payload)
		return h[:]
	}
	return payload
}

// Signer signs with an sr25519 key; *keys.KeyPair is one.
type Signer interface {
	PublicKey() keys.PublicKey
	Sign(msg []byte) ([keys.SignatureSize]byte, error)
}

// Sign builds the signed extrinsic (with its length prefix, ready for
// author_submitExtrinsic) of call under p.
func (x *Extensions) Sign(call []byte, p TxParams, s Signer) ([]byte, error) {
	sig, err := s.Sign(x.SigningPayload(call, p))
	if err != nil {
		return nil, fmt.Errorf("signing extrinsic: %w", err)
	}
	pub := s.PublicKey()
	return x.assemble(pub, sig, call, p), nil
}

func (x *Extensions) assemble(pub keys.PublicKey, sig [keys.SignatureSize]byte, call []byte, p TxParams) []byte {
	extra := x.Extra(p)
	body := scale.NewEncoder(2 + 32 + 1 + 64 + len(extra) + len(call))
	body.U8(signedBit | ExtrinsicVersion)
	body.U8(multiAddressID)
	body.Fixed(pub[:])
	body.U8(multiSigSr25519)
	body.Fixed(sig[:])
	body.Fixed(extra)
	body.Fixed(call)
	out := scale.NewEncoder(body.Len() + 5)
	out.Compact(uint64(body.Len()))
	out.Fixed(body.Bytes())
	return out.Bytes()
}

// ExtrinsicHash is the transaction hash nodes report: blake2b-256 of the
// encoded extrinsic, length prefix included.
func ExtrinsicHash(ext []byte) [32]byte { return blake2b.Sum256(ext) }

// Extrinsic is a decoded signed extrinsic.
type Extrinsic struct {
	Signer    keys.PublicKey
	Signature [keys.SignatureSize]byte
	Era       Era
	Nonce     uint32
	Tip       uint64
	Call      []byte // pallet index ‖ call index ‖ arguments
}

// DecodeExtrinsic decodes a signed v4 sr25519 extrinsic (with its length
// prefix) whose extensions are x. The call is returned as bytes: its
// arguments are checked against nothing here.
func (x *Extensions) DecodeExtrinsic(b []byte) (*Extrinsic, error) {
	if len(b) > MaxExtrinsicSize {
		return nil, fmt.Errorf("%w: %d bytes, over %d", ErrExtrinsic, len(b), MaxExtrinsicSize)
	}
	r := scale.NewReader(b)
	n, err := r.CompactInt()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrExtrinsic, r.Wrap("length", err))
	}
	if n != r.Remaining() {
		return nil, fmt.Errorf("%w: length prefix %d, %d bytes follow", ErrExtrinsic, n, r.Remaining())
	}
	fail := func(field string, err error) (*Extrinsic, error) {
		return nil, fmt.Errorf("%w: %w", ErrExtrinsic, r.Wrap(field, err))
	}
	v, err := r.U8()
	if err != nil {
		return fail("version", err)
	}
	if v != signedBit|ExtrinsicVersion {
		return nil, fmt.Errorf("%w: version byte %#02x, want a signed v4 (0x84)", ErrExtrinsic, v)
	}
	if a, err := r.U8(); err != nil || a != multiAddressID {
		return fail("address", errOr(err, fmt.Errorf("%w: address kind %d, want an account id (0)", scale.ErrInvalid, a)))
	}
	out := &Extrinsic{}
	if out.Signer, err = r.Bytes32(); err != nil {
		return fail("address", err)
	}
	if s, err := r.U8(); err != nil || s != multiSigSr25519 {
		return fail("signature", errOr(err, fmt.Errorf("%w: signature kind %d, want sr25519 (1)", scale.ErrInvalid, s)))
	}
	sig, err := r.Fixed(keys.SignatureSize)
	if err != nil {
		return fail("signature", err)
	}
	copy(out.Signature[:], sig)
	for _, ext := range x.list {
		if ext.read == nil {
			continue
		}
		if err := ext.read(r, out); err != nil {
			return fail(ext.name, err)
		}
	}
	if r.Remaining() < 2 {
		return fail("call", scale.ErrShort)
	}
	out.Call, _ = r.Fixed(r.Remaining())
	return out, nil
}

// Verify checks the extrinsic's signature against the chain values in p
// (versions, genesis, birth hash), taking era, nonce and tip from the
// extrinsic itself.
func (x *Extensions) Verify(ext *Extrinsic, p TxParams) bool {
	p.Era, p.Nonce, p.Tip = ext.Era, ext.Nonce, ext.Tip
	return keys.VerifyRaw(ext.Signer, x.SigningPayload(ext.Call, p), ext.Signature[:])
}

func errOr(err, alt error) error {
	if err != nil {
		return err
	}
	return alt
}

// EncodeCall returns pallet index ‖ call index ‖ args for a call named in
// the metadata; args must be the SCALE encoding of the call's fields in
// order.
func (m *Metadata) EncodeCall(pallet, call string, args []byte) ([]byte, error) {
	pi, v, err := m.Call(pallet, call)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, 2+len(args))
	out = append(out, pi, v.Index)
	return append(out, args...), nil
}
