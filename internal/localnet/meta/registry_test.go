package meta

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/vigil-validator/vigil/bittensor/substrate"
)

func TestRegistryDedupAndOrder(t *testing.T) {
	r := NewRegistry()
	u8 := r.Prim(U8)
	if u8 != 0 || r.Prim(U8) != u8 {
		t.Fatalf("u8 = %d, again %d; want 0 both times", u8, r.Prim(U8))
	}
	a := r.Array(32, u8)
	h := r.Composite("primitive_types::H256", nil, f("", a, "[u8; 32]"))
	acc := r.Composite("sp_core::crypto::AccountId32", nil, f("", a, "[u8; 32]"))
	if h == acc {
		t.Fatal("types with different paths were merged")
	}
	if r.Composite("primitive_types::H256", nil, f("", a, "[u8; 32]")) != h {
		t.Fatal("an identical composite was added twice")
	}
	if r.Seq(u8) == r.Seq(r.Prim(U16)) {
		t.Fatal("Vec<u8> and Vec<u16> were merged")
	}
	for i, ty := range r.Types() {
		if ty.ID != uint32(i) {
			t.Fatalf("type at position %d has id %d", i, ty.ID)
		}
	}
}

func TestReserveDefine(t *testing.T) {
	r := NewRegistry()
	// A recursive enum: Node = Leaf(u8) | Branch(Vec<Node>).
	node := r.Reserve()
	u8 := r.Prim(U8)
	r.Define(node, Type{Path: Path("test::Node"), Kind: substrate.KindVariant, Variants: []Variant{
		v(0, "Leaf", nil, f("", u8, "u8")),
		v(1, "Branch", nil, f("", r.Seq(node), "Vec<Node>")),
	}})
	if err := r.validate(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if recover() == nil {
			t.Error("defining a type twice did not panic")
		}
	}()
	r.Define(node, Type{})
}

// tinyMetadata uses every kind of type and of storage entry.
func tinyMetadata() *MetadataV14 {
	r := NewRegistry()
	u8, u32, u64 := r.Prim(U8), r.Prim(U32), r.Prim(U64)
	bits := r.BitSeq(u8, r.Composite("bitvec::order::Lsb0", nil))
	rec := r.Composite("test::Record", []TypeParam{Param("T", u32), ParamNone("S")},
		f("a", r.Compact(u64), "T"), f("b", r.Array(3, u8), ""), f("c", r.Tuple(u8, u32), ""), f("d", bits, ""), f("e", r.Prim(Str), ""))
	calls := r.Enum("test::Call", nil, v(3, "poke", docs("Pokes."), f("x", u32, "u32")), v(1, "prod", nil))
	unchecked := r.Composite("sp_runtime::generic::unchecked_extrinsic::UncheckedExtrinsic", nil, f("", r.Seq(u8), ""))
	unit := r.Tuple()
	return &MetadataV14{
		Types: r,
		Pallets: []Pallet{{
			Name: "Test", Index: 9,
			Storage: &Storage{Prefix: "Test", Entries: []StorageEntry{
				value("Plain", rec, []byte{1, 2}, "doc"),
				optionalMap("One", identity(), u32, u64),
				mapItem("Two", []Hasher{substrate.Twox64Concat, substrate.Blake2_128Concat}, r.Tuple(u32, u8), u8, []byte{7}),
			}},
			Calls:     Ref(calls),
			Constants: []Constant{{Name: "K", Type: u32, Value: le32(5), Docs: docs("k")}},
			Errors:    Ref(calls),
		}},
		Extrinsic:   Extrinsic{Type: unchecked, Version: 4, SignedExtensions: []SignedExtension{{Identifier: "CheckSpecVersion", Type: unit, AdditionalSigned: u32}}},
		RuntimeType: unit,
	}
}

func TestEncodeDecodes(t *testing.T) {
	m := tinyMetadata()
	b, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte{0x6d, 0x65, 0x74, 0x61, 0x0e}) {
		t.Fatalf("prefix %x, want 6d657461 0e", b[:5])
	}
	d, err := substrate.DecodeMetadata(b)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range m.Types.Types() {
		got := *d.Types[uint32(i)]
		if !reflect.DeepEqual(normType(got), normType(want)) {
			t.Errorf("type %d:\n got %+v\nwant %+v", i, got, want)
		}
	}
	p, ok := d.Pallet("Test")
	if !ok || p.Index != 9 || p.StoragePrefix != "Test" || len(p.Storage) != 3 || *p.Calls != *m.Pallets[0].Calls || p.Events != nil {
		t.Fatalf("pallet %+v", p)
	}
	for i, e := range p.Storage {
		w := m.Pallets[0].Storage.Entries[i]
		if e.Name != w.Name || e.Optional != w.Optional || e.Plain != (len(w.Hashers) == 0) || !reflect.DeepEqual(e.Hashers, w.Hashers) ||
			(!e.Plain && e.Key != w.Key) || e.Value != w.Value || !bytes.Equal(e.Default, w.Default) {
			t.Errorf("storage %d: got %+v, want %+v", i, e, w)
		}
	}
	if len(p.Constants) != 1 || !bytes.Equal(p.Constants[0].Value, le32(5)) {
		t.Errorf("constants %+v", p.Constants)
	}
	if d.ExtrinsicVersion != 4 || d.ExtrinsicType != m.Extrinsic.Type || d.RuntimeType != m.RuntimeType ||
		!reflect.DeepEqual(d.SignedExtensions, m.Extrinsic.SignedExtensions) {
		t.Errorf("extrinsic %d v%d %+v runtime %d", d.ExtrinsicType, d.ExtrinsicVersion, d.SignedExtensions, d.RuntimeType)
	}
	if _, v, err := d.Call("Test", "poke"); err != nil || v.Index != 3 || v.Docs[0] != "Pokes." {
		t.Errorf("call poke: %+v, %v", v, err)
	}
}

// normType makes empty and nil slices compare equal.
func normType(t Type) Type {
	if len(t.Path) == 0 {
		t.Path = nil
	}
	if len(t.Params) == 0 {
		t.Params = nil
	}
	if len(t.Fields) == 0 {
		t.Fields = nil
	}
	if len(t.Tuple) == 0 {
		t.Tuple = nil
	}
	if len(t.Variants) == 0 {
		t.Variants = nil
	}
	for i := range t.Variants {
		if len(t.Variants[i].Fields) == 0 {
			t.Variants[i].Fields = nil
		}
		if len(t.Variants[i].Docs) == 0 {
			t.Variants[i].Docs = nil
		}
	}
	return t
}

func TestValidate(t *testing.T) {
	for _, c := range []struct {
		name   string
		mutate func(m *MetadataV14)
		want   string
	}{
		{"missing type", func(m *MetadataV14) { m.Pallets[0].Storage.Entries[0].Value = 999 }, "missing type 999"},
		{"field to missing type", func(m *MetadataV14) {
			m.Types.Composite("x::Y", nil, f("z", 999, ""))
		}, "missing type 999"},
		{"repeated variant", func(m *MetadataV14) {
			m.Types.Enum("x::E", nil, v(1, "A", nil), v(1, "B", nil))
		}, "repeats an index"},
		{"pallet index", func(m *MetadataV14) { m.Pallets = append(m.Pallets, Pallet{Name: "Other", Index: 9}) }, "repeats a name or an index"},
		{"calls not an enum", func(m *MetadataV14) { m.Pallets[0].Calls = Ref(0) }, "must be enums"},
		{"key tuple", func(m *MetadataV14) { m.Pallets[0].Storage.Entries[2].Key = 0 }, "key tuple"},
		{"optional default", func(m *MetadataV14) { m.Pallets[0].Storage.Entries[1].Default = []byte{1} }, "None"},
		{"duplicate item", func(m *MetadataV14) {
			s := m.Pallets[0].Storage
			s.Entries = append(s.Entries, s.Entries[0])
		}, "declared twice"},
		{"unreserved", func(m *MetadataV14) { m.Types.Reserve() }, "never defined"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := tinyMetadata()
			c.mutate(m)
			_, err := m.Encode()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}
