package meta

import (
	"fmt"

	"github.com/vigil-validator/vigil/bittensor/scale"
	"github.com/vigil-validator/vigil/bittensor/substrate"
)

// Hasher is a storage map hasher.
type Hasher = substrate.Hasher

// SignedExtension is one transaction extension: its explicit type (carried
// in the extrinsic) and its implicit one (only signed).
type SignedExtension = substrate.SignedExtension

// Version is the metadata version this package writes.
const Version = 14

// MetadataV14 is RuntimeMetadataV14 under construction.
type MetadataV14 struct {
	Types       *Registry
	Pallets     []Pallet
	Extrinsic   Extrinsic
	RuntimeType uint32 // the runtime's own (empty) type
}

// Extrinsic describes the extrinsic format.
type Extrinsic struct {
	Type             uint32 // UncheckedExtrinsic
	Version          uint8
	SignedExtensions []SignedExtension
}

// Pallet is one pallet with the types of its calls, events and errors (nil
// when it has none).
type Pallet struct {
	Name      string
	Index     uint8
	Storage   *Storage
	Calls     *uint32
	Events    *uint32
	Constants []Constant
	Errors    *uint32
}

// Storage is a pallet's storage section.
type Storage struct {
	Prefix  string
	Entries []StorageEntry
}

// StorageEntry is one storage item: a plain value when Hashers is empty,
// else a map whose Key is the key type (a tuple of one type per hasher when
// there are several).
type StorageEntry struct {
	Name     string
	Optional bool // OptionQuery: an unset key has no value; else ValueQuery
	Hashers  []Hasher
	Key      uint32
	Value    uint32
	Default  []byte // SCALE value of an unset key (0x00, None, for OptionQuery)
	Docs     []string
}

// Constant is a pallet constant with its SCALE value.
type Constant struct {
	Name  string
	Type  uint32
	Value []byte
	Docs  []string
}

// Ref returns a pointer to id, for the optional type fields of Pallet.
func Ref(id uint32) *uint32 { return &id }

// Encode validates the metadata and returns "meta" ‖ 0x0e ‖
// RuntimeMetadataV14.
func (m *MetadataV14) Encode() ([]byte, error) {
	if err := m.validate(); err != nil {
		return nil, err
	}
	e := scale.NewEncoder(64 << 10)
	e.Fixed([]byte("meta")) // the magic, 0x6d657461
	e.U8(Version)
	m.Types.encode(e)
	e.VecLen(len(m.Pallets))
	for i := range m.Pallets {
		encodePallet(e, &m.Pallets[i])
	}
	e.Compact(uint64(m.Extrinsic.Type))
	e.U8(m.Extrinsic.Version)
	e.VecLen(len(m.Extrinsic.SignedExtensions))
	for _, s := range m.Extrinsic.SignedExtensions {
		e.String(s.Identifier)
		e.Compact(uint64(s.Type))
		e.Compact(uint64(s.AdditionalSigned))
	}
	e.Compact(uint64(m.RuntimeType))
	return e.Bytes(), nil
}

func encodePallet(e *scale.Encoder, p *Pallet) {
	e.String(p.Name)
	if p.Storage == nil {
		e.OptionNone()
	} else {
		e.OptionSome()
		e.String(p.Storage.Prefix)
		e.VecLen(len(p.Storage.Entries))
		for i := range p.Storage.Entries {
			encodeStorageEntry(e, &p.Storage.Entries[i])
		}
	}
	encodeOptionalType(e, p.Calls)
	encodeOptionalType(e, p.Events)
	e.VecLen(len(p.Constants))
	for _, c := range p.Constants {
		e.String(c.Name)
		e.Compact(uint64(c.Type))
		e.ByteSlice(c.Value)
		encodeStrings(e, c.Docs)
	}
	encodeOptionalType(e, p.Errors)
	e.U8(p.Index)
}

func encodeStorageEntry(e *scale.Encoder, s *StorageEntry) {
	e.String(s.Name)
	if s.Optional {
		e.U8(0)
	} else {
		e.U8(1)
	}
	if len(s.Hashers) == 0 {
		e.U8(0)
		e.Compact(uint64(s.Value))
	} else {
		e.U8(1)
		e.VecLen(len(s.Hashers))
		for _, h := range s.Hashers {
			e.U8(uint8(h))
		}
		e.Compact(uint64(s.Key))
		e.Compact(uint64(s.Value))
	}
	e.ByteSlice(s.Default)
	encodeStrings(e, s.Docs)
}

// validate checks what a client would otherwise trip over: references to
// missing types, pallets without enums where enums are declared, repeated
// names and indices, and map keys that do not match their hashers.
func (m *MetadataV14) validate() error {
	r := m.Types
	if r == nil {
		return fmt.Errorf("meta: no type registry")
	}
	if err := r.validate(); err != nil {
		return err
	}
	n := uint32(r.Len())
	typ := func(what string, id uint32) (*Type, error) {
		if id >= n {
			return nil, fmt.Errorf("meta: %s refers to missing type %d", what, id)
		}
		return &r.types[id], nil
	}
	names := map[string]bool{}
	indices := map[uint8]bool{}
	for i := range m.Pallets {
		p := &m.Pallets[i]
		if names[p.Name] || indices[p.Index] {
			return fmt.Errorf("meta: pallet %s (%d) repeats a name or an index", p.Name, p.Index)
		}
		names[p.Name], indices[p.Index] = true, true
		for _, id := range []*uint32{p.Calls, p.Events, p.Errors} {
			if id == nil {
				continue
			}
			t, err := typ("pallet "+p.Name, *id)
			if err != nil {
				return err
			}
			if t.Kind != substrate.KindVariant {
				return fmt.Errorf("meta: pallet %s: calls, events and errors must be enums (type %d)", p.Name, *id)
			}
		}
		for _, c := range p.Constants {
			if _, err := typ("constant "+p.Name+"."+c.Name, c.Type); err != nil {
				return err
			}
		}
		if p.Storage == nil {
			continue
		}
		items := map[string]bool{}
		for _, s := range p.Storage.Entries {
			what := "storage " + p.Name + "." + s.Name
			if items[s.Name] {
				return fmt.Errorf("meta: %s is declared twice", what)
			}
			items[s.Name] = true
			if _, err := typ(what, s.Value); err != nil {
				return err
			}
			if s.Optional && (len(s.Default) != 1 || s.Default[0] != 0) {
				return fmt.Errorf("meta: %s: an optional item's default is None (0x00)", what)
			}
			if len(s.Hashers) == 0 {
				continue
			}
			k, err := typ(what+" key", s.Key)
			if err != nil {
				return err
			}
			if len(s.Hashers) > 1 && (k.Kind != substrate.KindTuple || len(k.Tuple) != len(s.Hashers)) {
				return fmt.Errorf("meta: %s: %d hashers need a key tuple of as many types", what, len(s.Hashers))
			}
			for _, h := range s.Hashers {
				if h > substrate.Identity {
					return fmt.Errorf("meta: %s: hasher %d", what, h)
				}
			}
		}
	}
	if _, err := typ("the extrinsic", m.Extrinsic.Type); err != nil {
		return err
	}
	for _, s := range m.Extrinsic.SignedExtensions {
		if _, err := typ("extension "+s.Identifier, s.Type); err != nil {
			return err
		}
		if _, err := typ("extension "+s.Identifier, s.AdditionalSigned); err != nil {
			return err
		}
	}
	_, err := typ("the runtime", m.RuntimeType)
	return err
}
