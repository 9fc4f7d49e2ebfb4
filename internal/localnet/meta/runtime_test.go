package meta

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/bittensor/scale"
	"github.com/vigil-validator/vigil/bittensor/substrate"
	"github.com/vigil-validator/vigil/bittensor/substrate/substratetest"
)

// mainnet returns the recorded finney metadata (spec 343).
func mainnet(t *testing.T) *substrate.Metadata {
	t.Helper()
	path := substratetest.Fixture(t, "chain", "mainnet_metadata_v14.hex")
	md, err := loadMainnet(path)
	if err != nil {
		t.Fatal(err)
	}
	return md
}

var (
	mainnetMu    sync.Mutex
	mainnetCache = map[string]*substrate.Metadata{}
)

func loadMainnet(path string) (*substrate.Metadata, error) {
	mainnetMu.Lock()
	defer mainnetMu.Unlock()
	if md := mainnetCache[path]; md != nil {
		return md, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	md, err := substrate.DecodeMetadataHex(string(b))
	if err != nil {
		return nil, err
	}
	mainnetCache[path] = md
	return md, nil
}

// spec425 is subtensor's index tables at runtime spec 425, read from its
// sources (testdata/chain/subtensor_spec425_enums.json): the localnet's
// indices and extensions are today's, while its types are checked against
// the recorded finney metadata (spec 343).
type spec425Tables struct {
	Extensions []string `json:"extensions"`
	Calls      []struct {
		Name  string `json:"name"`
		Index uint8  `json:"index"`
	} `json:"subtensor_calls"`
	Events []string `json:"subtensor_events"`
	Errors []struct {
		Name string   `json:"name"`
		Docs []string `json:"docs"`
	} `json:"subtensor_errors"`
}

func spec425(t *testing.T) *spec425Tables {
	t.Helper()
	b, err := os.ReadFile(substratetest.Fixture(t, "chain", "subtensor_spec425_enums.json"))
	if err != nil {
		t.Fatal(err)
	}
	var out spec425Tables
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Calls) < 50 || len(out.Events) < 100 || len(out.Errors) < 100 || len(out.Extensions) < 10 {
		t.Fatalf("spec 425 tables too short: %d calls, %d events, %d errors, %d extensions", len(out.Calls), len(out.Events), len(out.Errors), len(out.Extensions))
	}
	return &out
}

// callIndex is the spec-425 index of a SubtensorModule call.
func (s *spec425Tables) callIndex(name string) (uint8, bool) {
	for _, c := range s.Calls {
		if c.Name == name {
			return c.Index, true
		}
	}
	return 0, false
}

// renamedTypes are type names subtensor changed after the recording (the
// currency newtypes became *Balance); the types are the same.
var renamedTypes = map[string]string{"TaoCurrency": "TaoBalance", "AlphaCurrency": "AlphaBalance", "Vec<AlphaCurrency>": "Vec<AlphaBalance>"}

// outerEnums are rendered by name only: the localnet's hold a subset of
// finney's pallets, compared variant by variant in TestOuterEnums.
var outerEnums = map[string]bool{
	"node_subtensor_runtime::RuntimeCall":  true,
	"node_subtensor_runtime::RuntimeEvent": true,
}

var primNames = []string{"bool", "char", "str", "u8", "u16", "u32", "u64", "u128", "u256", "i8", "i16", "i32", "i64", "i128", "i256"}

// render describes a type structurally: kinds, paths, field names and type
// names, variant names and indices, resolved recursively. Type ids and
// generic parameters are left out, so the same type renders the same in
// two registries.
func render(md *substrate.Metadata, id uint32) string {
	var sb strings.Builder
	renderTo(&sb, md, id, 0)
	return sb.String()
}

func renderTo(sb *strings.Builder, md *substrate.Metadata, id uint32, depth int) {
	t := md.Types[id]
	if depth > 20 {
		sb.WriteString("…")
		return
	}
	path := strings.Join(t.Path, "::")
	if outerEnums[path] {
		sb.WriteString(path)
		return
	}
	fields := func(fs []substrate.Field) {
		sb.WriteString("{")
		for i, f := range fs {
			if i > 0 {
				sb.WriteString(", ")
			}
			fmt.Fprintf(sb, "%s [%s]: ", f.Name, f.TypeName)
			renderTo(sb, md, f.Type, depth+1)
		}
		sb.WriteString("}")
	}
	switch t.Kind {
	case substrate.KindPrimitive:
		sb.WriteString(primNames[t.Prim])
	case substrate.KindSequence:
		sb.WriteString("Vec<")
		renderTo(sb, md, t.Elem, depth+1)
		sb.WriteString(">")
	case substrate.KindArray:
		sb.WriteString("[")
		renderTo(sb, md, t.Elem, depth+1)
		fmt.Fprintf(sb, "; %d]", t.Len)
	case substrate.KindCompact:
		sb.WriteString("Compact<")
		renderTo(sb, md, t.Elem, depth+1)
		sb.WriteString(">")
	case substrate.KindTuple:
		sb.WriteString("(")
		for i, e := range t.Tuple {
			if i > 0 {
				sb.WriteString(", ")
			}
			renderTo(sb, md, e, depth+1)
		}
		sb.WriteString(")")
	case substrate.KindComposite:
		sb.WriteString(path)
		fields(t.Fields)
	case substrate.KindVariant:
		sb.WriteString(path + "<")
		for i, v := range t.Variants {
			if i > 0 {
				sb.WriteString(" | ")
			}
			fmt.Fprintf(sb, "%d %s", v.Index, v.Name)
			fields(v.Fields)
		}
		sb.WriteString(">")
	case substrate.KindBitSequence:
		sb.WriteString("BitVec<")
		renderTo(sb, md, t.BitStore, depth+1)
		sb.WriteString(", ")
		renderTo(sb, md, t.BitOrder, depth+1)
		sb.WriteString(">")
	}
}

// sample encodes an arbitrary value of a type: the first variant of enums,
// two items in sequences, distinct bytes in integers.
func sample(md *substrate.Metadata, id uint32, e *scale.Encoder, seed *byte) {
	t := md.Types[id]
	next := func() byte { *seed++; return *seed }
	switch t.Kind {
	case substrate.KindPrimitive:
		switch t.Prim {
		case 0:
			e.Bool(true)
		case 2:
			e.String("x")
		default:
			for range primWidth(t.Prim) {
				e.U8(next())
			}
		}
	case substrate.KindSequence:
		e.VecLen(2)
		sample(md, t.Elem, e, seed)
		sample(md, t.Elem, e, seed)
	case substrate.KindArray:
		for range t.Len {
			sample(md, t.Elem, e, seed)
		}
	case substrate.KindCompact:
		e.Compact(uint64(next()))
	case substrate.KindTuple:
		for _, x := range t.Tuple {
			sample(md, x, e, seed)
		}
	case substrate.KindComposite:
		for _, f := range t.Fields {
			sample(md, f.Type, e, seed)
		}
	case substrate.KindVariant:
		v := t.Variants[0]
		e.U8(v.Index)
		for _, f := range v.Fields {
			sample(md, f.Type, e, seed)
		}
	case substrate.KindBitSequence:
		e.Compact(0)
	}
}

func primWidth(p uint8) int {
	switch p {
	case 1, 5, 11:
		return 4
	case 3, 9:
		return 1
	case 4, 10:
		return 2
	case 6, 12:
		return 8
	case 7, 13:
		return 16
	}
	return 32
}

func variants(md *substrate.Metadata, id *uint32) []substrate.Variant {
	if id == nil {
		return nil
	}
	return md.Types[*id].Variants
}

func findVariant(vs []substrate.Variant, name string) *substrate.Variant {
	for i := range vs {
		if vs[i].Name == name {
			return &vs[i]
		}
	}
	return nil
}

func TestMetadataBytes(t *testing.T) {
	b := Metadata()
	if !bytes.HasPrefix(b, []byte("meta\x0e")) {
		t.Fatalf("prefix %x", b[:5])
	}
	again, err := Runtime().Encode()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, again) {
		t.Fatal("building the metadata twice gave different bytes")
	}
	if Hex() != "0x"+fmt.Sprintf("%x", b) {
		t.Fatal("Hex differs from Metadata")
	}
	b[0] = 0
	if Metadata()[0] != 'm' {
		t.Fatal("Metadata returned the cached slice")
	}
	md := Decoded()
	if md.Version != 14 || md.ExtrinsicVersion != 4 {
		t.Fatalf("version %d, extrinsic version %d", md.Version, md.ExtrinsicVersion)
	}
	t.Logf("metadata: %d bytes, %d types, %d pallets", len(again), len(md.Types), len(md.Pallets))
}

func TestPalletsMatchMainnet(t *testing.T) {
	main, md := mainnet(t), Decoded()
	for _, p := range md.Pallets {
		mp, ok := main.Pallet(p.Name)
		if !ok {
			t.Errorf("pallet %s is not on mainnet", p.Name)
			continue
		}
		if p.Index != mp.Index || p.StoragePrefix != mp.StoragePrefix {
			t.Errorf("pallet %s: index %d prefix %q, mainnet %d %q", p.Name, p.Index, p.StoragePrefix, mp.Index, mp.StoragePrefix)
		}
		for _, c := range p.Constants {
			i := slices.IndexFunc(mp.Constants, func(x substrate.Constant) bool { return x.Name == c.Name })
			if i < 0 {
				t.Errorf("constant %s.%s is not on mainnet", p.Name, c.Name)
				continue
			}
			mc := mp.Constants[i]
			if render(md, c.Type) != render(main, mc.Type) || !bytes.Equal(c.Value, mc.Value) {
				t.Errorf("constant %s.%s = %x (%s), mainnet %x (%s)", p.Name, c.Name, c.Value, render(md, c.Type), mc.Value, render(main, mc.Type))
			}
		}
	}
	for name, idx := range map[string]uint8{"System": PalletSystem, "Timestamp": PalletTimestamp, "Balances": PalletBalances,
		"TransactionPayment": PalletTransactionPayment, "SubtensorModule": PalletSubtensor, "Drand": PalletDrand} {
		if p, ok := main.Pallet(name); !ok || p.Index != idx {
			t.Errorf("constant index of %s is %d, mainnet %+v", name, idx, p)
		}
	}
}

func TestCallsMatchMainnet(t *testing.T) {
	main, md, today := mainnet(t), Decoded(), spec425(t)
	n := 0
	for _, p := range md.Pallets {
		mp, _ := main.Pallet(p.Name)
		for _, v := range variants(md, p.Calls) {
			want := v.Index
			if p.Name == "SubtensorModule" {
				idx, ok := today.callIndex(v.Name)
				if !ok {
					t.Errorf("call %s.%s is not in spec 425", p.Name, v.Name)
				}
				want = idx
			}
			mv := findVariant(variants(main, mp.Calls), v.Name)
			if mv == nil {
				if p.Name == "SubtensorModule" && v.Index == want {
					n++ // newer than the recording: its index is spec 425's
					continue
				}
				t.Errorf("call %s.%s is not on mainnet", p.Name, v.Name)
				continue
			}
			compareVariant(t, "call "+p.Name, md, main, v, *mv, want)
			var seed byte
			e := scale.NewEncoder(64)
			for _, f := range v.Fields {
				sample(md, f.Type, e, &seed)
			}
			ours, err := md.EncodeCall(p.Name, v.Name, e.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			theirs, err := main.EncodeCall(p.Name, v.Name, e.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			theirs[1] = want // the same arguments, at today's index
			if !bytes.Equal(ours, theirs) {
				t.Errorf("call %s.%s: %x, mainnet %x", p.Name, v.Name, ours, theirs)
			}
			n++
		}
	}
	// The calls a validator makes, at their #[pallet::call_index] in subtensor's
	// pallets/subtensor/src/macros/dispatches.rs.
	for call, idx := range map[string]uint8{"set_weights": 0, "serve_axon": 4, "burned_register": 7, "commit_weights": 96,
		"reveal_weights": 97, "commit_timelocked_weights": 113, "set_mechanism_weights": 119, "commit_timelocked_mechanism_weights": 118,
		"register_limit": 134} {
		pi, v, err := md.Call("SubtensorModule", call)
		if err != nil || pi != 7 || v.Index != idx {
			t.Errorf("SubtensorModule.%s: (%d, %v), %v; want (7, %d)", call, pi, v, err, idx)
		}
	}
	t.Logf("%d calls", n)
}

// compareVariant checks the index (want: today's), field names, type
// names and types (the recording's, with renamedTypes).
func compareVariant(t *testing.T, what string, md, main *substrate.Metadata, v, mv substrate.Variant, want uint8) {
	t.Helper()
	if v.Index != want || len(v.Fields) != len(mv.Fields) {
		t.Errorf("%s.%s: index %d with %d fields, want %d with mainnet's %d", what, v.Name, v.Index, len(v.Fields), want, len(mv.Fields))
		return
	}
	for i, f := range v.Fields {
		mf := mv.Fields[i]
		typeName := mf.TypeName
		if n, ok := renamedTypes[typeName]; ok {
			typeName = n
		}
		if f.Name != mf.Name || f.TypeName != typeName || render(md, f.Type) != render(main, mf.Type) {
			t.Errorf("%s.%s field %d:\n ours    %s [%s]: %s\n mainnet %s [%s]: %s", what, v.Name, i,
				f.Name, f.TypeName, render(md, f.Type), mf.Name, mf.TypeName, render(main, mf.Type))
		}
	}
}

func TestEventsMatchMainnet(t *testing.T) {
	main, md, today := mainnet(t), Decoded(), spec425(t)
	for _, p := range md.Pallets {
		mp, _ := main.Pallet(p.Name)
		for _, v := range variants(md, p.Events) {
			mv := findVariant(variants(main, mp.Events), v.Name)
			if p.Name == "SubtensorModule" && v.Name == "TimelockedWeightsDropped" {
				// Localnet's own, at an index subtensor does not use.
				if int(v.Index) < len(today.Events) {
					t.Errorf("localnet-only event index %d is spec 425's %s", v.Index, today.Events[v.Index])
				}
				continue
			}
			if mv == nil {
				t.Errorf("event %s.%s is not on mainnet", p.Name, v.Name)
				continue
			}
			want := v.Index
			if p.Name == "SubtensorModule" {
				i := slices.Index(today.Events, v.Name)
				if i < 0 {
					t.Errorf("event %s is not in spec 425", v.Name)
					continue
				}
				want = uint8(i)
			}
			compareVariant(t, "event "+p.Name, md, main, v, *mv, want)
		}
	}
	for _, name := range []string{"NeuronRegistered", "AxonServed", "WeightsSet", "WeightsCommitted", "WeightsRevealed",
		"TimelockedWeightsCommitted", "TimelockedWeightsRevealed"} {
		if _, _, err := EventIndex("SubtensorModule", name); err != nil {
			t.Error(err)
		}
	}
}

// Every error enum the localnet declares is the whole enum of its runtime
// (the recording's for the other pallets, spec 425's for subtensor), so that
// any module error index names the same error on both chains.
func TestErrorsMatchMainnet(t *testing.T) {
	main, md, today := mainnet(t), Decoded(), spec425(t)
	for _, p := range md.Pallets {
		mp, _ := main.Pallet(p.Name)
		ours := variants(md, p.Errors)
		var theirs []substrate.Variant
		if p.Name == "SubtensorModule" {
			for i, e := range today.Errors {
				theirs = append(theirs, substrate.Variant{Name: e.Name, Index: uint8(i), Docs: e.Docs})
			}
		} else {
			theirs = variants(main, mp.Errors)
			if (p.Errors == nil) != (mp.Errors == nil) {
				t.Errorf("pallet %s: errors declared %v, on mainnet %v", p.Name, p.Errors != nil, mp.Errors != nil)
				continue
			}
		}
		if len(ours) != len(theirs) {
			t.Errorf("pallet %s: %d errors, want %d", p.Name, len(ours), len(theirs))
			continue
		}
		for i := range ours {
			o, m := ours[i], theirs[i]
			if o.Name != m.Name || o.Index != m.Index || len(o.Fields) != 0 || len(m.Fields) != 0 || !slices.Equal(o.Docs, m.Docs) {
				t.Errorf("pallet %s error %d: %d %s %q, want %d %s %q", p.Name, i, o.Index, o.Name, o.Docs, m.Index, m.Name, m.Docs)
			}
		}
	}
	if sub, _ := md.Pallet("SubtensorModule"); len(variants(md, sub.Errors)) < 100 {
		t.Fatalf("SubtensorModule has only %d errors", len(variants(md, sub.Errors)))
	}
	for _, name := range []string{"SettingWeightsTooFast", "CommitRevealEnabled", "IncorrectWeightVersionKey", "NeuronNoValidatorPermit",
		"MechanismDoesNotExist", "RegistrationPriceLimitExceeded"} {
		pi, ei, err := ErrorIndex("SubtensorModule", name)
		if err != nil {
			t.Fatal(err)
		}
		if pi != PalletSubtensor || int(ei) >= len(today.Errors) || today.Errors[ei].Name != name {
			t.Errorf("ErrorIndex(%s) = (%d, %d), not spec 425's", name, pi, ei)
		}
	}
	if _, _, err := ErrorIndex("SubtensorModule", "NoSuchError"); err == nil {
		t.Error("ErrorIndex found a missing error")
	}
	if _, _, err := EventIndex("NoSuchPallet", "X"); err == nil {
		t.Error("EventIndex found a missing pallet")
	}
}

// newerThanRecording are storage items of runtimes after the recorded
// metadata (spec 343): the stateful epoch scheduler's, declared in
// subtensor's pallets/subtensor/src/lib.rs as StorageMap<Identity, NetUid,
// u64, ValueQuery> with default 0.
var newerThanRecording = map[string]bool{
	"SubtensorModule.LastEpochBlock": true, "SubtensorModule.PendingEpochAt": true, "SubtensorModule.SubnetEpochIndex": true,
}

func TestStorageMatchesMainnet(t *testing.T) {
	main, md := mainnet(t), Decoded()
	n := 0
	for _, p := range md.Pallets {
		for _, e := range p.Storage {
			n++
			what := p.Name + "." + e.Name
			if newerThanRecording[what] {
				if e.Plain || !slices.Equal(e.Hashers, []substrate.Hasher{substrate.Identity}) || !bytes.Equal(e.Default, make([]byte, 8)) ||
					render(md, e.Value) != "u64" {
					t.Errorf("%s: %v %v %x %s, want an Identity map to u64 defaulting to 0", what, e.Plain, e.Hashers, e.Default, render(md, e.Value))
				}
				continue
			}
			_, me, err := main.StorageEntry(p.Name, e.Name)
			if err != nil {
				t.Errorf("%s is not on mainnet", what)
				continue
			}
			if e.Optional != me.Optional || e.Plain != me.Plain || !slices.Equal(e.Hashers, me.Hashers) {
				t.Errorf("%s: optional %v plain %v hashers %v, mainnet %v %v %v", what, e.Optional, e.Plain, e.Hashers, me.Optional, me.Plain, me.Hashers)
				continue
			}
			if got, want := render(md, e.Value), render(main, me.Value); got != want {
				t.Errorf("%s value:\n ours    %s\n mainnet %s", what, got, want)
			}
			if !bytes.Equal(e.Default, me.Default) {
				t.Errorf("%s default %x, mainnet %x", what, e.Default, me.Default)
			}
			var keys [][]byte
			if !e.Plain {
				if got, want := render(md, e.Key), render(main, me.Key); got != want {
					t.Errorf("%s key:\n ours    %s\n mainnet %s", what, got, want)
					continue
				}
				keyTypes := []uint32{e.Key}
				if len(e.Hashers) > 1 {
					keyTypes = md.Types[e.Key].Tuple
				}
				var seed byte
				for _, kt := range keyTypes {
					k := scale.NewEncoder(32)
					sample(md, kt, k, &seed)
					keys = append(keys, k.Bytes())
				}
			}
			ours, err := md.StorageKey(p.Name, e.Name, keys...)
			if err != nil {
				t.Fatal(err)
			}
			theirs, err := main.StorageKey(p.Name, e.Name, keys...)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(ours, theirs) {
				t.Errorf("%s key %x, mainnet %x", what, ours, theirs)
			}
		}
	}
	// The items a validator client and a metagraph read are all there.
	for _, item := range []string{"NetworksAdded", "Uids", "Keys", "SubnetworkN", "Tempo", "WeightsSetRateLimit",
		"CommitRevealWeightsEnabled", "CommitRevealWeightsVersion", "MinAllowedWeights", "MaxWeightsLimit", "WeightsVersionKey",
		"RevealPeriodEpochs", "LastUpdate", "WeightCommits", "TimelockedWeightCommits", "Burn", "ValidatorTrust", "ValidatorPermit",
		"Incentive", "Dividends", "Consensus", "Emission", "Active", "Bonds", "Weights", "Axons", "BlockAtRegistration", "Kappa",
		"ActivityCutoff", "MaxAllowedValidators", "ImmunityPeriod", "MaxAllowedUids", "SubnetOwner", "SubnetOwnerHotkey",
		"BlocksSinceLastStep", "LastMechansimStepBlock", "TotalHotkeyAlpha", "Alpha"} {
		if _, _, err := md.StorageEntry("SubtensorModule", item); err != nil {
			t.Error(err)
		}
	}
	for _, item := range [][2]string{{"System", "Account"}, {"System", "Number"}, {"System", "BlockHash"}, {"System", "Events"},
		{"System", "ParentHash"}, {"Timestamp", "Now"}, {"Drand", "LastStoredRound"}, {"Drand", "Pulses"}} {
		if _, _, err := md.StorageEntry(item[0], item[1]); err != nil {
			t.Error(err)
		}
	}
	t.Logf("%d storage items", n)
	// The legacy-schedule runtime lists none of them.
	for item := range newerThanRecording {
		pallet, name, _ := strings.Cut(item, ".")
		if _, _, err := DecodedFor(false).StorageEntry(pallet, name); err == nil {
			t.Errorf("the legacy runtime lists %s", item)
		}
	}
}

func TestOuterEnums(t *testing.T) {
	main, md := mainnet(t), Decoded()
	byPath := func(m *substrate.Metadata, path string) *substrate.Type {
		for _, ty := range m.Types {
			if strings.Join(ty.Path, "::") == path {
				return ty
			}
		}
		t.Fatalf("no type %s", path)
		return nil
	}
	for path := range outerEnums {
		ours, theirs := byPath(md, path), byPath(main, path)
		for _, v := range ours.Variants {
			mv := findVariant(theirs.Variants, v.Name)
			if mv == nil || mv.Index != v.Index || len(v.Fields) != 1 || len(mv.Fields) != 1 ||
				!slices.Equal(md.Types[v.Fields[0].Type].Path, main.Types[mv.Fields[0].Type].Path) {
				t.Errorf("%s.%s differs from mainnet's %+v", path, v.Name, mv)
			}
			p, ok := md.Pallet(v.Name)
			if !ok || p.Index != v.Index {
				t.Errorf("%s.%s: no pallet with that index", path, v.Name)
			}
		}
	}
	ext := md.Types[md.ExtrinsicType]
	if strings.Join(ext.Path, "::") != "sp_runtime::generic::unchecked_extrinsic::UncheckedExtrinsic" || len(ext.Params) != 4 {
		t.Fatalf("extrinsic type %v %+v", ext.Path, ext.Params)
	}
	for i, name := range []string{"Address", "Call", "Signature", "Extra"} {
		if ext.Params[i].Name != name || ext.Params[i].Type == nil {
			t.Errorf("extrinsic param %d: %+v, want %s", i, ext.Params[i], name)
		}
	}
	// Mainnet wraps sp_runtime's UncheckedExtrinsic in Frontier's; compare
	// the parameters of the inner one.
	inner := byPath(main, "sp_runtime::generic::unchecked_extrinsic::UncheckedExtrinsic")
	for i := range 3 {
		if got, want := render(md, *ext.Params[i].Type), render(main, *inner.Params[i].Type); got != want {
			t.Errorf("extrinsic %s:\n ours    %s\n mainnet %s", ext.Params[i].Name, got, want)
		}
	}
	// Extra is today's list: one type per extension, in order (the payment
	// extension's runtime wrapper in its place), as the recording's is for
	// its shorter list.
	for name, m := range map[string]*substrate.Metadata{"ours": md, "mainnet": main} {
		x := m.Types[md.ExtrinsicType]
		if name == "mainnet" {
			x = inner
		}
		extra := m.Types[*x.Params[3].Type]
		if len(extra.Tuple) != len(m.SignedExtensions) {
			t.Fatalf("%s: Extra has %d types for %d extensions", name, len(extra.Tuple), len(m.SignedExtensions))
		}
		for i, se := range m.SignedExtensions {
			got := render(m, extra.Tuple[i])
			if se.Identifier == "ChargeTransactionPayment" {
				if !strings.Contains(got, "ChargeTransactionPaymentWrapper") {
					t.Errorf("%s: Extra %d is %s, want the payment wrapper", name, i, got)
				}
				continue
			}
			if want := render(m, se.Type); got != want {
				t.Errorf("%s: Extra %d is %s, want %s's %s", name, i, got, se.Identifier, want)
			}
		}
	}
}

func TestExtensionsMatchMainnet(t *testing.T) {
	main, md, today := mainnet(t), Decoded(), spec425(t)
	ours, err := md.TxExtensions()
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := main.TxExtensions()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ours.Names(), today.Extensions) {
		t.Fatalf("extensions %v, spec 425 %v", ours.Names(), today.Extensions)
	}
	for _, s := range md.SignedExtensions {
		i := slices.IndexFunc(main.SignedExtensions, func(x substrate.SignedExtension) bool { return x.Identifier == s.Identifier })
		if i < 0 {
			// Newer than the recording: SudoTransactionExtension and
			// CheckShieldedTxValidity carry nothing (PhantomData).
			if !md.IsEmpty(s.Type) || !md.IsEmpty(s.AdditionalSigned) {
				t.Errorf("extension %s carries data", s.Identifier)
			}
			continue
		}
		ms := main.SignedExtensions[i]
		if render(md, s.Type) != render(main, ms.Type) || render(md, s.AdditionalSigned) != render(main, ms.AdditionalSigned) {
			t.Errorf("extension %s: %s / %s, mainnet %s / %s", s.Identifier, render(md, s.Type), render(md, s.AdditionalSigned),
				render(main, ms.Type), render(main, ms.AdditionalSigned))
		}
	}
	// Same explicit and implicit bytes, hence the same extrinsic layout and
	// signing payload: today's two extensions add none.
	p := substrate.TxParams{SpecVersion: 385, TransactionVersion: 1, GenesisHash: [32]byte{1, 2}, Era: substrate.MortalEra(1234, 64),
		BirthHash: [32]byte{3}, Nonce: 77, Tip: 5}
	if !bytes.Equal(ours.Extra(p), theirs.Extra(p)) || !bytes.Equal(ours.Implicit(p), theirs.Implicit(p)) {
		t.Errorf("extra %x / %x, implicit %x / %x", ours.Extra(p), theirs.Extra(p), ours.Implicit(p), theirs.Implicit(p))
	}
	// A set_weights signed under the localnet's metadata decodes and
	// verifies under mainnet's.
	call, err := md.EncodeCall("SubtensorModule", "set_weights", setWeightsArgs(1, []uint16{0, 5}, []uint16{65535, 32768}, 10002000))
	if err != nil {
		t.Fatal(err)
	}
	if want := "07000100080000050008ffff0080509e980000000000"; fmt.Sprintf("%x", call) != want {
		t.Errorf("set_weights call %x, want %s", call, want)
	}
	alice, err := keys.FromURI("//Alice")
	if err != nil {
		t.Fatal(err)
	}
	ext, err := ours.Sign(call, p, alice)
	if err != nil {
		t.Fatal(err)
	}
	x, err := theirs.DecodeExtrinsic(ext)
	if err != nil || !theirs.Verify(x, p) || !bytes.Equal(x.Call, call) {
		t.Fatalf("decoded under mainnet: %+v, %v", x, err)
	}
}

func setWeightsArgs(netuid uint16, dests, weights []uint16, version uint64) []byte {
	e := scale.NewEncoder(64)
	e.U16(netuid)
	for _, v := range [][]uint16{dests, weights} {
		e.VecLen(len(v))
		for _, x := range v {
			e.U16(x)
		}
	}
	e.U64(version)
	return e.Bytes()
}

// eventsBlob encodes System.Events for one set_weights that succeeded and
// one that failed with SettingWeightsTooFast, as the localnet will.
func eventsBlob(t *testing.T) []byte {
	t.Helper()
	e := scale.NewEncoder(256)
	record := func(phase []byte, pallet, event string, data []byte, topics int) {
		pi, ei, err := EventIndex(pallet, event)
		if err != nil {
			t.Fatal(err)
		}
		e.Fixed(phase)
		e.U8(pi)
		e.U8(ei)
		e.Fixed(data)
		e.VecLen(topics)
		for i := range topics {
			e.Fixed(bytes.Repeat([]byte{byte(0xa0 + i)}, 32))
		}
	}
	apply := func(i uint32) []byte { return append([]byte{0}, le32(i)...) }
	info := func(pays byte) []byte { // weight {ref_time, proof_size} compact, class Normal, pays
		w := scale.NewEncoder(16)
		w.Compact(123_456_789)
		w.Compact(4096)
		w.U8(0)
		w.U8(pays)
		return w.Bytes()
	}
	hotkey := bytes.Repeat([]byte{0x42}, 32)
	pi, ei, err := ErrorIndex("SubtensorModule", "SettingWeightsTooFast")
	if err != nil {
		t.Fatal(err)
	}
	e.VecLen(6)
	record([]byte{2}, "System", "NewAccount", hotkey, 0) // phase Initialization
	record(apply(0), "System", "ExtrinsicSuccess", info(0), 0)
	record(apply(1), "SubtensorModule", "WeightsSet", append(le16(1), le16(3)...), 1)
	record(apply(1), "System", "ExtrinsicSuccess", info(1), 0)
	record(apply(2), "System", "ExtrinsicFailed", append([]byte{3, pi, ei, 0, 0, 0}, info(1)...), 0) // DispatchError::Module
	record([]byte{1}, "Drand", "NewPulse", append([]byte{4}, le64(1000)...), 2)                      // phase Finalization
	return e.Bytes()
}

func TestEventsDecode(t *testing.T) {
	blob := eventsBlob(t)
	recs, err := Decoded().DecodeEvents(blob)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		pallet, name string
		phase        substrate.Phase
	}{
		{"System", "NewAccount", substrate.Phase{Initialization: true}},
		{"System", "ExtrinsicSuccess", substrate.Phase{ApplyExtrinsic: true}},
		{"SubtensorModule", "WeightsSet", substrate.Phase{ApplyExtrinsic: true, Index: 1}},
		{"System", "ExtrinsicSuccess", substrate.Phase{ApplyExtrinsic: true, Index: 1}},
		{"System", "ExtrinsicFailed", substrate.Phase{ApplyExtrinsic: true, Index: 2}},
		{"Drand", "NewPulse", substrate.Phase{Finalization: true}},
	}
	if len(recs) != len(want) {
		t.Fatalf("%d records, want %d", len(recs), len(want))
	}
	for i, w := range want {
		if recs[i].Pallet != w.pallet || recs[i].Name != w.name || recs[i].Phase != w.phase {
			t.Errorf("record %d: %s.%s %+v, want %s.%s %+v", i, recs[i].Pallet, recs[i].Name, recs[i].Phase, w.pallet, w.name, w.phase)
		}
	}
	de := recs[4].DispatchError
	if de == nil || de.Kind != "Module" || de.Pallet != "SubtensorModule" || de.Name != "SettingWeightsTooFast" || de.PalletIndex != 7 {
		t.Fatalf("dispatch error %+v", de)
	}
	if !strings.Contains(de.Error(), "rate limit for setting weights") {
		t.Errorf("error text %q lacks the mainnet docs", de.Error())
	}
	// Mainnet's metadata reads the same bytes the same way, but for the
	// module error's name: the enum moved between its spec and today's.
	main := mainnet(t)
	mrecs, err := main.DecodeEvents(blob)
	if err != nil {
		t.Fatal(err)
	}
	if today := spec425(t); today.Errors[de.ErrorIndex].Name != de.Name {
		t.Errorf("error index %d is spec 425's %s, decoded as %s", de.ErrorIndex, today.Errors[de.ErrorIndex].Name, de.Name)
	}
	mde := *mrecs[4].DispatchError
	mde.Name, mde.Docs = de.Name, de.Docs
	mrecs[4].DispatchError = &mde
	if !reflect.DeepEqual(recs, mrecs) {
		t.Errorf("decoded under mainnet metadata:\n%+v\nours:\n%+v", mrecs, recs)
	}
}
