// Package meta builds runtime metadata (V14) in Go: a small builder for the
// portable type registry and the pallet, extrinsic and runtime sections, and
// the localnet runtime's metadata built with it. The localnet serves these
// bytes from state_getMetadata so that clients written for finney (vigil's
// own, @polkadot/api) decode its storage, events and extrinsics unchanged;
// pallet, call, event and error indices therefore follow finney's.
package meta

import (
	"fmt"
	"strings"

	"github.com/vigil-validator/vigil/bittensor/scale"
	"github.com/vigil-validator/vigil/bittensor/substrate"
)

// The registry's parts are the decoder's types, so that what is built and
// what is decoded compare directly.
type (
	// Type is one entry of the portable registry.
	Type = substrate.Type
	// Field is a member of a composite or a variant; an empty Name or
	// TypeName encodes as None.
	Field = substrate.Field
	// Variant is one case of an enum.
	Variant = substrate.Variant
	// TypeParam is a generic parameter of a type; a nil Type encodes as
	// None, as scale-info writes parameters it skips (e.g. a pallet's T).
	TypeParam = substrate.TypeParam
)

// Primitive is a scale-info primitive, in its encoding order.
type Primitive uint8

// The primitives of scale-info's TypeDefPrimitive.
const (
	Bool Primitive = iota
	Char
	Str
	U8
	U16
	U32
	U64
	U128
	U256
	I8
	I16
	I32
	I64
	I128
	I256
)

// Registry is a portable type registry under construction. A type's id is
// its position, which is how clients (polkadot-js among them) look types up,
// so ids are handed out in order and never change. Adding a type equal to
// one already present (same path, parameters and definition) returns the
// existing id, as scale-info's registry does for the same Rust type.
type Registry struct {
	types   []Type
	seen    map[string]uint32
	pending map[uint32]bool // reserved ids not yet defined
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{seen: make(map[string]uint32), pending: make(map[uint32]bool)}
}

// Len returns the number of types, reserved ones included.
func (r *Registry) Len() int { return len(r.types) }

// Types returns the types in id order. The slice is the registry's own.
func (r *Registry) Types() []Type { return r.types }

// Path splits a Rust path such as "sp_core::crypto::AccountId32"; "" is no
// path (anonymous types: sequences, tuples, primitives…).
func Path(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "::")
}

// Param is a generic parameter bound to a type.
func Param(name string, id uint32) TypeParam { return TypeParam{Name: name, Type: &id} }

// ParamNone is a generic parameter without a type, as scale-info writes
// those it skips (a pallet's T: Config, a const generic).
func ParamNone(name string) TypeParam { return TypeParam{Name: name} }

// Add adds t (its ID is ignored) and returns its id.
func (r *Registry) Add(t Type) uint32 {
	t.ID = 0
	key := string(encodeTypeBody(&t))
	if id, ok := r.seen[key]; ok {
		return id
	}
	t.ID = uint32(len(r.types))
	r.types = append(r.types, t)
	r.seen[key] = t.ID
	return t.ID
}

// Reserve returns a fresh id to be defined later with Define, so that a
// type can refer to itself or to a type that refers back to it (a call
// enum holding calls).
func (r *Registry) Reserve() uint32 {
	id := uint32(len(r.types))
	r.types = append(r.types, Type{ID: id})
	r.pending[id] = true
	return id
}

// Define gives the reserved id its type. It panics if id was not reserved
// or is already defined: both are mistakes in the code building the
// registry.
func (r *Registry) Define(id uint32, t Type) {
	if !r.pending[id] {
		panic(fmt.Sprintf("meta: type %d is not a pending reservation", id))
	}
	delete(r.pending, id)
	t.ID = id
	r.types[id] = t
	key := string(encodeTypeBody(&t))
	if _, ok := r.seen[key]; !ok {
		r.seen[key] = id
	}
}

// Prim adds a primitive.
func (r *Registry) Prim(p Primitive) uint32 {
	return r.Add(Type{Kind: substrate.KindPrimitive, Prim: uint8(p)})
}

// Seq adds Vec<elem>.
func (r *Registry) Seq(elem uint32) uint32 {
	return r.Add(Type{Kind: substrate.KindSequence, Elem: elem})
}

// Array adds [elem; n].
func (r *Registry) Array(n, elem uint32) uint32 {
	return r.Add(Type{Kind: substrate.KindArray, Len: n, Elem: elem})
}

// Tuple adds (elems…); no elements is the unit type ().
func (r *Registry) Tuple(elems ...uint32) uint32 {
	return r.Add(Type{Kind: substrate.KindTuple, Tuple: append([]uint32{}, elems...)})
}

// Compact adds Compact<elem>.
func (r *Registry) Compact(elem uint32) uint32 {
	return r.Add(Type{Kind: substrate.KindCompact, Elem: elem})
}

// BitSeq adds BitVec<store, order>.
func (r *Registry) BitSeq(store, order uint32) uint32 {
	return r.Add(Type{Kind: substrate.KindBitSequence, BitStore: store, BitOrder: order})
}

// Composite adds a struct (or a tuple struct, with unnamed fields) under
// path.
func (r *Registry) Composite(path string, params []TypeParam, fields ...Field) uint32 {
	return r.Add(Type{Path: Path(path), Params: params, Kind: substrate.KindComposite, Fields: fields})
}

// Enum adds an enum under path. Variants keep the order given (scale-info
// keeps declaration order, which need not follow the indices).
func (r *Registry) Enum(path string, params []TypeParam, variants ...Variant) uint32 {
	return r.Add(Type{Path: Path(path), Params: params, Kind: substrate.KindVariant, Variants: variants})
}

// validate checks that every reference points at a defined type and that
// enums do not repeat an index or a name.
func (r *Registry) validate() error {
	for id := range r.pending {
		return fmt.Errorf("meta: reserved type %d was never defined", id)
	}
	n := uint32(len(r.types))
	for i := range r.types {
		t := &r.types[i]
		for _, id := range typeRefs(t) {
			if id >= n {
				return fmt.Errorf("meta: type %d (%s) refers to missing type %d", t.ID, strings.Join(t.Path, "::"), id)
			}
		}
		if t.Kind == substrate.KindPrimitive && t.Prim > uint8(I256) {
			return fmt.Errorf("meta: type %d: primitive %d", t.ID, t.Prim)
		}
		idx := make(map[uint8]bool, len(t.Variants))
		names := make(map[string]bool, len(t.Variants))
		for _, v := range t.Variants {
			if idx[v.Index] || names[v.Name] {
				return fmt.Errorf("meta: type %d (%s): variant %d %s repeats an index or a name", t.ID, strings.Join(t.Path, "::"), v.Index, v.Name)
			}
			idx[v.Index], names[v.Name] = true, true
		}
	}
	return nil
}

// typeRefs lists the type ids t refers to.
func typeRefs(t *Type) []uint32 {
	var out []uint32
	for _, p := range t.Params {
		if p.Type != nil {
			out = append(out, *p.Type)
		}
	}
	for _, f := range t.Fields {
		out = append(out, f.Type)
	}
	for _, v := range t.Variants {
		for _, f := range v.Fields {
			out = append(out, f.Type)
		}
	}
	switch t.Kind {
	case substrate.KindSequence, substrate.KindArray, substrate.KindCompact:
		out = append(out, t.Elem)
	case substrate.KindTuple:
		out = append(out, t.Tuple...)
	case substrate.KindBitSequence:
		out = append(out, t.BitStore, t.BitOrder)
	}
	return out
}

// encode writes Vec<PortableType>.
func (r *Registry) encode(e *scale.Encoder) {
	e.VecLen(len(r.types))
	for i := range r.types {
		e.Compact(uint64(r.types[i].ID))
		e.Fixed(encodeTypeBody(&r.types[i]))
	}
}

// encodeTypeBody encodes a Type without its id: path, params, definition
// and (empty) docs.
func encodeTypeBody(t *Type) []byte {
	e := scale.NewEncoder(32)
	encodeStrings(e, t.Path)
	e.VecLen(len(t.Params))
	for _, p := range t.Params {
		e.String(p.Name)
		encodeOptionalType(e, p.Type)
	}
	e.U8(uint8(t.Kind))
	switch t.Kind {
	case substrate.KindComposite:
		encodeFields(e, t.Fields)
	case substrate.KindVariant:
		e.VecLen(len(t.Variants))
		for _, v := range t.Variants {
			e.String(v.Name)
			encodeFields(e, v.Fields)
			e.U8(v.Index)
			encodeStrings(e, v.Docs)
		}
	case substrate.KindSequence, substrate.KindCompact:
		e.Compact(uint64(t.Elem))
	case substrate.KindArray:
		e.U32(t.Len)
		e.Compact(uint64(t.Elem))
	case substrate.KindTuple:
		e.VecLen(len(t.Tuple))
		for _, id := range t.Tuple {
			e.Compact(uint64(id))
		}
	case substrate.KindPrimitive:
		e.U8(t.Prim)
	case substrate.KindBitSequence:
		e.Compact(uint64(t.BitStore))
		e.Compact(uint64(t.BitOrder))
	}
	encodeStrings(e, nil) // type docs: clients do not need them
	return e.Bytes()
}

func encodeFields(e *scale.Encoder, fs []Field) {
	e.VecLen(len(fs))
	for _, f := range fs {
		encodeOptionalString(e, f.Name)
		e.Compact(uint64(f.Type))
		encodeOptionalString(e, f.TypeName)
		encodeStrings(e, nil) // field docs
	}
}

func encodeStrings(e *scale.Encoder, ss []string) {
	e.VecLen(len(ss))
	for _, s := range ss {
		e.String(s)
	}
}

func encodeOptionalString(e *scale.Encoder, s string) {
	if s == "" {
		e.OptionNone()
		return
	}
	e.OptionSome()
	e.String(s)
}

func encodeOptionalType(e *scale.Encoder, id *uint32) {
	if id == nil {
		e.OptionNone()
		return
	}
	e.OptionSome()
	e.Compact(uint64(*id))
}
