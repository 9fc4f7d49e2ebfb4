package substrate

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/vigil-validator/vigil/bittensor/scale"
)

// ErrMetadataVersion is returned for metadata this decoder does not read.
var ErrMetadataVersion = errors.New("unsupported metadata version")

// TypeDefKind is the shape of a type in the portable registry.
type TypeDefKind uint8

// The TypeDef variants of scale-info, in their encoding order.
const (
	KindComposite TypeDefKind = iota
	KindVariant
	KindSequence
	KindArray
	KindTuple
	KindPrimitive
	KindCompact
	KindBitSequence
)

// Field is a named or positional member of a composite or variant.
type Field struct {
	Name     string
	Type     uint32
	TypeName string
}

// Variant is one case of an enum: a call, an event, an error.
type Variant struct {
	Name   string
	Index  uint8
	Fields []Field
	Docs   []string
}

// Type is one entry of the portable type registry.
type Type struct {
	ID       uint32
	Path     []string
	Params   []TypeParam
	Kind     TypeDefKind
	Fields   []Field   // Composite
	Variants []Variant // Variant
	Elem     uint32    // Sequence, Array, Compact: the element type
	Len      uint32    // Array
	Tuple    []uint32  // Tuple
	Prim     uint8     // Primitive: 0 bool, 1 char, 2 str, 3 u8 … 7 u128, 8 u256, 9 i8 … 14 i256
	BitStore uint32    // BitSequence
	BitOrder uint32
}

// TypeParam is a generic parameter of a type.
type TypeParam struct {
	Name string
	Type *uint32
}

// StorageEntry describes one storage item.
type StorageEntry struct {
	Name     string
	Optional bool // OptionQuery: an unset key has no value
	Plain    bool
	Hashers  []Hasher
	Key      uint32 // map key type (a tuple for several hashers)
	Value    uint32
	Default  []byte
}

// Constant is a pallet constant with its SCALE value.
type Constant struct {
	Name  string
	Type  uint32
	Value []byte
}

// Pallet is one pallet of the runtime.
type Pallet struct {
	Name          string
	Index         uint8
	StoragePrefix string
	Storage       []StorageEntry
	Calls         *uint32 // the variant type of the pallet's calls
	Events        *uint32
	Errors        *uint32
	Constants     []Constant
}

// SignedExtension is one transaction extension, in the order the chain
// expects them.
type SignedExtension struct {
	Identifier       string
	Type             uint32 // explicit part, in the extrinsic
	AdditionalSigned uint32 // implicit part, in the signed payload only
}

// RuntimeAPI is one runtime API trait and its methods (V15 and later).
type RuntimeAPI struct {
	Name    string
	Methods []RuntimeAPIMethod
}

// RuntimeAPIMethod is a method of a runtime API. It is called with state_call
// as "<API>_<method>" and the SCALE-encoded inputs concatenated.
type RuntimeAPIMethod struct {
	Name   string
	Inputs []Field // Name and Type of each parameter
	Output uint32
}

// Metadata is decoded runtime metadata.
type Metadata struct {
	Version          uint8
	Types            map[uint32]*Type
	Pallets          []Pallet
	ExtrinsicType    uint32 // V14 only
	ExtrinsicVersion uint8
	SignedExtensions []SignedExtension
	RuntimeType      uint32
	// V15 only: the runtime APIs and the parts of the extrinsic type.
	APIs          []RuntimeAPI
	AddressType   uint32
	CallType      uint32
	SignatureType uint32
	ExtraType     uint32
}

// RuntimeAPIMethod finds a runtime API method by the name state_call uses,
// "<API>_<method>" (e.g. "SubnetInfoRuntimeApi_get_selective_mechagraph").
// Only V15 metadata lists runtime APIs; on V14 it always reports false.
func (m *Metadata) RuntimeAPIMethod(name string) (*RuntimeAPIMethod, bool) {
	for i := range m.APIs {
		api := &m.APIs[i]
		rest, ok := strings.CutPrefix(name, api.Name+"_")
		if !ok {
			continue
		}
		for j := range api.Methods {
			if api.Methods[j].Name == rest {
				return &api.Methods[j], true
			}
		}
	}
	return nil, false
}

// Pallet finds a pallet by name.
func (m *Metadata) Pallet(name string) (*Pallet, bool) {
	for i := range m.Pallets {
		if m.Pallets[i].Name == name {
			return &m.Pallets[i], true
		}
	}
	return nil, false
}

// Call finds a call of a pallet and returns the pallet and call indices.
func (m *Metadata) Call(pallet, call string) (palletIndex uint8, v *Variant, err error) {
	p, ok := m.Pallet(pallet)
	if !ok {
		return 0, nil, fmt.Errorf("metadata: no pallet %s", pallet)
	}
	if p.Calls == nil {
		return 0, nil, fmt.Errorf("metadata: pallet %s has no calls", pallet)
	}
	t := m.Types[*p.Calls]
	if t == nil || t.Kind != KindVariant {
		return 0, nil, fmt.Errorf("metadata: calls of %s are not a variant type", pallet)
	}
	for i := range t.Variants {
		if t.Variants[i].Name == call {
			return p.Index, &t.Variants[i], nil
		}
	}
	return 0, nil, fmt.Errorf("metadata: no call %s.%s", pallet, call)
}

// Error names a dispatch error of a pallet by its indices.
func (m *Metadata) Error(palletIndex, errorIndex uint8) (pallet string, v *Variant, err error) {
	for i := range m.Pallets {
		p := &m.Pallets[i]
		if p.Index != palletIndex {
			continue
		}
		if p.Errors == nil {
			return p.Name, nil, fmt.Errorf("metadata: pallet %s has no errors", p.Name)
		}
		t := m.Types[*p.Errors]
		if t != nil {
			for j := range t.Variants {
				if t.Variants[j].Index == errorIndex {
					return p.Name, &t.Variants[j], nil
				}
			}
		}
		return p.Name, nil, fmt.Errorf("metadata: pallet %s has no error %d", p.Name, errorIndex)
	}
	return "", nil, fmt.Errorf("metadata: no pallet with index %d", palletIndex)
}

// StorageEntry finds a storage item.
func (m *Metadata) StorageEntry(pallet, item string) (*Pallet, *StorageEntry, error) {
	p, ok := m.Pallet(pallet)
	if !ok {
		return nil, nil, fmt.Errorf("metadata: no pallet %s", pallet)
	}
	for i := range p.Storage {
		if p.Storage[i].Name == item {
			return p, &p.Storage[i], nil
		}
	}
	return nil, nil, fmt.Errorf("metadata: no storage item %s.%s", pallet, item)
}

// StorageKey builds a storage key with the hashers the metadata declares;
// keys are the SCALE-encoded map keys, one per hasher.
func (m *Metadata) StorageKey(pallet, item string, keys ...[]byte) ([]byte, error) {
	p, e, err := m.StorageEntry(pallet, item)
	if err != nil {
		return nil, err
	}
	if len(keys) != len(e.Hashers) {
		return nil, fmt.Errorf("metadata: %s.%s takes %d keys, got %d", pallet, item, len(e.Hashers), len(keys))
	}
	mk := make([]MapKey, len(keys))
	for i, k := range keys {
		mk[i] = MapKey{Hasher: e.Hashers[i], Key: k}
	}
	return StorageKey(p.StoragePrefix, item, mk...)
}

// DecodeMetadataHex decodes metadata given as hex, as state_getMetadata
// returns it.
func DecodeMetadataHex(s string) (*Metadata, error) {
	b, err := hex.DecodeString(strings.TrimPrefix(strings.TrimSpace(s), "0x"))
	if err != nil {
		return nil, fmt.Errorf("metadata: not hex: %w", err)
	}
	return DecodeMetadata(b)
}

// DecodeMetadataAtVersion decodes the answer of the runtime call
// Metadata_metadata_at_version: Option<OpaqueMetadata>, that is
// Option<Vec<u8>> around "meta" ‖ version ‖ metadata. A runtime that cannot
// give the requested version answers None, reported as ErrMetadataVersion.
func DecodeMetadataAtVersion(b []byte) (*Metadata, error) {
	r := scale.NewReader(b)
	some, err := r.Option()
	if err != nil {
		return nil, r.Wrap("metadata_at_version", err)
	}
	if !some {
		return nil, fmt.Errorf("%w: the runtime does not serve the requested version", ErrMetadataVersion)
	}
	inner, err := r.ByteSlice()
	if err != nil {
		return nil, r.Wrap("metadata_at_version", err)
	}
	if err := r.Done(); err != nil {
		return nil, err
	}
	return DecodeMetadata(inner)
}

// DecodeMetadata decodes "meta" ‖ version ‖ RuntimeMetadataV14 or V15.
func DecodeMetadata(b []byte) (*Metadata, error) {
	r := scale.NewReader(b)
	magic, err := r.Fixed(4)
	if err != nil || string(magic) != "meta" {
		return nil, errors.New("metadata: missing \"meta\" magic")
	}
	v, err := r.U8()
	if err != nil {
		return nil, r.Wrap("version", err)
	}
	m := &Metadata{Version: v}
	switch v {
	case 14:
		err = m.decodeV14(r)
	case 15:
		err = m.decodeV15(r)
	default:
		return nil, fmt.Errorf("%w: V%d (this decoder reads V14 and V15; state_getMetadata serves V14)", ErrMetadataVersion, v)
	}
	if err != nil {
		return nil, err
	}
	if err := r.Done(); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Metadata) decodeTypes(r *scale.Reader) error {
	types, err := scale.DecodeVec(r, 5, readType)
	if err != nil {
		return r.Wrap("types", err)
	}
	m.Types = make(map[uint32]*Type, len(types))
	for i := range types {
		m.Types[types[i].ID] = &types[i]
	}
	return nil
}

func readSignedExtensions(r *scale.Reader) ([]SignedExtension, error) {
	return scale.DecodeVec(r, 3, func(r *scale.Reader) (SignedExtension, error) {
		var s SignedExtension
		var err error
		if s.Identifier, err = r.UTF8String(); err != nil {
			return s, err
		}
		if s.Type, err = r.CompactU32(); err != nil {
			return s, err
		}
		s.AdditionalSigned, err = r.CompactU32()
		return s, err
	})
}

func (m *Metadata) decodeV14(r *scale.Reader) error {
	err := m.decodeTypes(r)
	if err != nil {
		return err
	}
	if m.Pallets, err = scale.DecodeVec(r, 8, readPalletV14); err != nil {
		return r.Wrap("pallets", err)
	}
	if m.ExtrinsicType, err = r.CompactU32(); err != nil {
		return r.Wrap("extrinsic.type", err)
	}
	if m.ExtrinsicVersion, err = r.U8(); err != nil {
		return r.Wrap("extrinsic.version", err)
	}
	if m.SignedExtensions, err = readSignedExtensions(r); err != nil {
		return r.Wrap("extrinsic.signed_extensions", err)
	}
	if m.RuntimeType, err = r.CompactU32(); err != nil {
		return r.Wrap("runtime_type", err)
	}
	return m.check()
}

// decodeV15 reads RuntimeMetadataV15: V14 plus pallet docs, the extrinsic's
// address/call/signature/extra types, runtime APIs, outer enums and custom
// values (the last two are read and dropped).
func (m *Metadata) decodeV15(r *scale.Reader) error {
	err := m.decodeTypes(r)
	if err != nil {
		return err
	}
	if m.Pallets, err = scale.DecodeVec(r, 9, readPalletV15); err != nil {
		return r.Wrap("pallets", err)
	}
	if m.ExtrinsicVersion, err = r.U8(); err != nil {
		return r.Wrap("extrinsic.version", err)
	}
	for _, f := range []struct {
		dst  *uint32
		name string
	}{{&m.AddressType, "address_ty"}, {&m.CallType, "call_ty"}, {&m.SignatureType, "signature_ty"}, {&m.ExtraType, "extra_ty"}} {
		if *f.dst, err = r.CompactU32(); err != nil {
			return r.Wrap("extrinsic."+f.name, err)
		}
	}
	if m.SignedExtensions, err = readSignedExtensions(r); err != nil {
		return r.Wrap("extrinsic.signed_extensions", err)
	}
	if m.RuntimeType, err = r.CompactU32(); err != nil {
		return r.Wrap("runtime_type", err)
	}
	if m.APIs, err = scale.DecodeVec(r, 3, readRuntimeAPI); err != nil {
		return r.Wrap("apis", err)
	}
	for _, name := range []string{"call_enum_ty", "event_enum_ty", "error_enum_ty"} {
		if _, err = r.CompactU32(); err != nil {
			return r.Wrap("outer_enums."+name, err)
		}
	}
	// custom: BTreeMap<String, CustomValueMetadata{ty, value: Vec<u8>}>.
	_, err = scale.DecodeVec(r, 3, func(r *scale.Reader) (struct{}, error) {
		if _, err := r.String(); err != nil {
			return struct{}{}, err
		}
		if _, err := r.CompactU32(); err != nil {
			return struct{}{}, err
		}
		_, err := r.ByteSlice()
		return struct{}{}, err
	})
	if err != nil {
		return r.Wrap("custom", err)
	}
	return m.check()
}

func readRuntimeAPI(r *scale.Reader) (RuntimeAPI, error) {
	var a RuntimeAPI
	var err error
	if a.Name, err = r.String(); err != nil {
		return a, err
	}
	a.Methods, err = scale.DecodeVec(r, 3, func(r *scale.Reader) (RuntimeAPIMethod, error) {
		var m RuntimeAPIMethod
		var err error
		if m.Name, err = r.String(); err != nil {
			return m, err
		}
		m.Inputs, err = scale.DecodeVec(r, 2, func(r *scale.Reader) (Field, error) {
			var f Field
			var err error
			if f.Name, err = r.String(); err != nil {
				return f, err
			}
			f.Type, err = r.CompactU32()
			return f, err
		})
		if err != nil {
			return m, r.Wrap(m.Name+".inputs", err)
		}
		if m.Output, err = r.CompactU32(); err != nil {
			return m, r.Wrap(m.Name+".output", err)
		}
		if _, err = readStrings(r); err != nil {
			return m, r.Wrap(m.Name+".docs", err)
		}
		return m, nil
	})
	if err != nil {
		return a, r.Wrap(a.Name, err)
	}
	if _, err = readStrings(r); err != nil {
		return a, r.Wrap(a.Name+".docs", err)
	}
	return a, nil
}

// check makes sure every type id the metadata refers to exists, so later
// lookups cannot dereference a missing type.
func (m *Metadata) check() error {
	ref := func(what string, id uint32) error {
		if _, ok := m.Types[id]; !ok {
			return fmt.Errorf("metadata: %s refers to missing type %d", what, id)
		}
		return nil
	}
	for _, t := range m.Types {
		for _, f := range t.Fields {
			if err := ref("a field", f.Type); err != nil {
				return err
			}
		}
		for _, v := range t.Variants {
			for _, f := range v.Fields {
				if err := ref("variant "+v.Name, f.Type); err != nil {
					return err
				}
			}
		}
		switch t.Kind {
		case KindSequence, KindArray, KindCompact:
			if err := ref("an element", t.Elem); err != nil {
				return err
			}
		case KindTuple:
			for _, e := range t.Tuple {
				if err := ref("a tuple", e); err != nil {
					return err
				}
			}
		}
	}
	for _, p := range m.Pallets {
		for _, id := range []*uint32{p.Calls, p.Events, p.Errors} {
			if id != nil {
				if err := ref("pallet "+p.Name, *id); err != nil {
					return err
				}
			}
		}
	}
	for _, a := range m.APIs {
		for _, mt := range a.Methods {
			for _, in := range mt.Inputs {
				if err := ref("runtime API "+a.Name+"_"+mt.Name, in.Type); err != nil {
					return err
				}
			}
			if err := ref("runtime API "+a.Name+"_"+mt.Name, mt.Output); err != nil {
				return err
			}
		}
	}
	for _, s := range m.SignedExtensions {
		if err := ref("extension "+s.Identifier, s.Type); err != nil {
			return err
		}
		if err := ref("extension "+s.Identifier, s.AdditionalSigned); err != nil {
			return err
		}
	}
	return nil
}

func readStrings(r *scale.Reader) ([]string, error) {
	return scale.DecodeVec(r, 1, func(r *scale.Reader) (string, error) { return r.String() })
}

func readOptionalString(r *scale.Reader) (string, error) {
	some, err := r.Option()
	if err != nil || !some {
		return "", err
	}
	return r.String()
}

func readOptionalType(r *scale.Reader) (*uint32, error) {
	some, err := r.Option()
	if err != nil || !some {
		return nil, err
	}
	v, err := r.CompactU32()
	return &v, err
}

func readField(r *scale.Reader) (Field, error) {
	var f Field
	var err error
	if f.Name, err = readOptionalString(r); err != nil {
		return f, err
	}
	if f.Type, err = r.CompactU32(); err != nil {
		return f, err
	}
	if f.TypeName, err = readOptionalString(r); err != nil {
		return f, err
	}
	_, err = readStrings(r) // docs
	return f, err
}

func readType(r *scale.Reader) (Type, error) {
	var t Type
	var err error
	if t.ID, err = r.CompactU32(); err != nil {
		return t, err
	}
	if t.Path, err = readStrings(r); err != nil {
		return t, r.Wrap("path", err)
	}
	t.Params, err = scale.DecodeVec(r, 2, func(r *scale.Reader) (TypeParam, error) {
		var p TypeParam
		var err error
		if p.Name, err = r.String(); err != nil {
			return p, err
		}
		p.Type, err = readOptionalType(r)
		return p, err
	})
	if err != nil {
		return t, r.Wrap("params", err)
	}
	kind, err := r.U8()
	if err != nil {
		return t, err
	}
	t.Kind = TypeDefKind(kind)
	switch t.Kind {
	case KindComposite:
		t.Fields, err = scale.DecodeVec(r, 3, readField)
	case KindVariant:
		t.Variants, err = scale.DecodeVec(r, 4, func(r *scale.Reader) (Variant, error) {
			var v Variant
			var err error
			if v.Name, err = r.String(); err != nil {
				return v, err
			}
			if v.Fields, err = scale.DecodeVec(r, 3, readField); err != nil {
				return v, err
			}
			if v.Index, err = r.U8(); err != nil {
				return v, err
			}
			v.Docs, err = readStrings(r)
			return v, err
		})
	case KindSequence, KindCompact:
		t.Elem, err = r.CompactU32()
	case KindArray:
		if t.Len, err = r.U32(); err == nil {
			t.Elem, err = r.CompactU32()
		}
	case KindTuple:
		t.Tuple, err = scale.DecodeVec(r, 1, func(r *scale.Reader) (uint32, error) { return r.CompactU32() })
	case KindPrimitive:
		if t.Prim, err = r.U8(); err == nil && t.Prim > 14 {
			err = fmt.Errorf("%w: primitive %d", scale.ErrInvalid, t.Prim)
		}
	case KindBitSequence:
		if t.BitStore, err = r.CompactU32(); err == nil {
			t.BitOrder, err = r.CompactU32()
		}
	default:
		err = fmt.Errorf("%w: type definition kind %d", scale.ErrInvalid, kind)
	}
	if err != nil {
		return t, r.Wrap(fmt.Sprintf("type %d", t.ID), err)
	}
	if _, err := readStrings(r); err != nil { // docs
		return t, r.Wrap("docs", err)
	}
	return t, nil
}

func readPalletV14(r *scale.Reader) (Pallet, error) { return readPallet(r, false) }

func readPalletV15(r *scale.Reader) (Pallet, error) { return readPallet(r, true) }

func readPallet(r *scale.Reader, v15 bool) (Pallet, error) {
	var p Pallet
	var err error
	if p.Name, err = r.String(); err != nil {
		return p, err
	}
	some, err := r.Option()
	if err != nil {
		return p, r.Wrap(p.Name+".storage", err)
	}
	if some {
		if p.StoragePrefix, err = r.String(); err != nil {
			return p, r.Wrap(p.Name+".storage.prefix", err)
		}
		if p.Storage, err = scale.DecodeVec(r, 5, readStorageEntry); err != nil {
			return p, r.Wrap(p.Name+".storage", err)
		}
	}
	if p.Calls, err = readOptionalType(r); err != nil {
		return p, r.Wrap(p.Name+".calls", err)
	}
	if p.Events, err = readOptionalType(r); err != nil {
		return p, r.Wrap(p.Name+".events", err)
	}
	p.Constants, err = scale.DecodeVec(r, 4, func(r *scale.Reader) (Constant, error) {
		var c Constant
		var err error
		if c.Name, err = r.String(); err != nil {
			return c, err
		}
		if c.Type, err = r.CompactU32(); err != nil {
			return c, err
		}
		if c.Value, err = r.ByteSlice(); err != nil {
			return c, err
		}
		_, err = readStrings(r)
		return c, err
	})
	if err != nil {
		return p, r.Wrap(p.Name+".constants", err)
	}
	if p.Errors, err = readOptionalType(r); err != nil {
		return p, r.Wrap(p.Name+".errors", err)
	}
	if p.Index, err = r.U8(); err != nil {
		return p, r.Wrap(p.Name+".index", err)
	}
	if v15 {
		if _, err = readStrings(r); err != nil {
			return p, r.Wrap(p.Name+".docs", err)
		}
	}
	return p, nil
}

func readStorageEntry(r *scale.Reader) (StorageEntry, error) {
	var e StorageEntry
	var err error
	if e.Name, err = r.String(); err != nil {
		return e, err
	}
	mod, err := r.U8()
	if err != nil {
		return e, err
	}
	if mod > 1 {
		return e, fmt.Errorf("%w: storage modifier %d", scale.ErrInvalid, mod)
	}
	e.Optional = mod == 0
	kind, err := r.U8()
	if err != nil {
		return e, err
	}
	switch kind {
	case 0:
		e.Plain = true
		e.Value, err = r.CompactU32()
	case 1:
		e.Hashers, err = scale.DecodeVec(r, 1, func(r *scale.Reader) (Hasher, error) {
			h, err := r.U8()
			if err == nil && h > uint8(Identity) {
				err = fmt.Errorf("%w: hasher %d", scale.ErrInvalid, h)
			}
			return Hasher(h), err
		})
		if err == nil {
			if e.Key, err = r.CompactU32(); err == nil {
				e.Value, err = r.CompactU32()
			}
		}
	default:
		err = fmt.Errorf("%w: storage entry kind %d", scale.ErrInvalid, kind)
	}
	if err != nil {
		return e, r.Wrap(e.Name, err)
	}
	if e.Default, err = r.ByteSlice(); err != nil {
		return e, r.Wrap(e.Name+".default", err)
	}
	if _, err = readStrings(r); err != nil {
		return e, r.Wrap(e.Name+".docs", err)
	}
	return e, nil
}
