package substrate

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/vigil-validator/vigil/bittensor/scale"
)

// Phase of an event record.
type Phase struct {
	ApplyExtrinsic bool // true: emitted while applying extrinsic Index
	Index          uint32
	Finalization   bool
	Initialization bool
}

// EventRecord is one decoded System.Events entry.
type EventRecord struct {
	Phase       Phase
	Pallet      string // e.g. "System", "SubtensorModule"
	Name        string // e.g. "ExtrinsicSuccess", "WeightsSet"
	PalletIndex uint8
	EventIndex  uint8
	// Data is the event's SCALE-encoded fields, as is. It shares memory
	// with the input of DecodeEvents (its capacity ends with the event, so
	// appending to it cannot overwrite the input).
	Data []byte
	// DispatchError is set for System.ExtrinsicFailed.
	DispatchError *DispatchError
}

// DispatchError is a failed dispatch, with module errors resolved to names.
type DispatchError struct {
	Kind   string // DispatchError variant: "Module", "BadOrigin", "Token", "Arithmetic", ...
	Pallet string // for Module: the pallet name ("SubtensorModule")
	// Name is, for Module, the error variant name ("SettingWeightsTooFast");
	// for the other kinds the inner variant name when there is one
	// ("FundsUnavailable" for Token), else empty.
	Name                    string
	Docs                    []string // the error's documentation from metadata
	PalletIndex, ErrorIndex uint8
}

// Error formats a module error as "SubtensorModule.SettingWeightsTooFast:
// <first doc line>" and other kinds as "BadOrigin" or "Token.FundsUnavailable".
// A module error the metadata does not name shows its indices.
func (e *DispatchError) Error() string {
	if e.Kind != "Module" {
		if e.Name != "" {
			return e.Kind + "." + e.Name
		}
		return e.Kind
	}
	pallet, name := e.Pallet, e.Name
	if pallet == "" {
		pallet = "pallet " + strconv.Itoa(int(e.PalletIndex))
	}
	if name == "" {
		name = "error " + strconv.Itoa(int(e.ErrorIndex))
	}
	s := pallet + "." + name
	if len(e.Docs) > 0 {
		if doc := strings.TrimSpace(e.Docs[0]); doc != "" {
			s += ": " + doc
		}
	}
	return s
}

// EventsKey is the storage key of System.Events.
func EventsKey() []byte {
	k, _ := StorageKey("System", "Events") // without map keys it cannot fail
	return k
}

// ExtrinsicEvents returns the records of extrinsic idx, in order.
func ExtrinsicEvents(records []EventRecord, idx uint32) []EventRecord {
	var out []EventRecord
	for i := range records {
		if p := &records[i].Phase; p.ApplyExtrinsic && p.Index == idx {
			out = append(out, records[i])
		}
	}
	return out
}

// evMaxDepth bounds how deeply types are walked, so that recursive types
// (a call holding a call) cannot be driven into unbounded recursion by the
// input.
const evMaxDepth = 64

// evSizeCap saturates computed type sizes; anything larger is treated as
// variable-sized, which keeps every size and size product within an int
// (also on 32-bit platforms).
const evSizeCap = 1 << 30

// DecodeEvents decodes the SCALE value of System.Events
// (Vec<EventRecord<RuntimeEvent, Hash>>) using the metadata. The record
// layout is found from the storage entry's value type, and every field the
// caller does not need is skipped by walking its type, since events are
// not length-prefixed.
func (m *Metadata) DecodeEvents(b []byte) ([]EventRecord, error) {
	if m == nil {
		return nil, errors.New("events: no metadata specified")
	}
	recID, rec, err := m.eventRecordType()
	if err != nil {
		return nil, err
	}
	d := evDecoder{m: m, r: scale.NewReader(b), b: b}
	n, err := d.r.VecLen(int(d.size(recID, 0).min))
	if err != nil {
		return nil, d.r.Wrap("events", err)
	}
	// n is bounded by the input length; the capacity is capped further so
	// that a count of tiny records does not allocate ahead of decoding them.
	out := make([]EventRecord, 0, min(n, 1024))
	for i := range n {
		var er EventRecord
		if err := d.record(rec, &er); err != nil {
			return nil, d.r.Wrap("events["+strconv.Itoa(i)+"]", err)
		}
		out = append(out, er)
	}
	if err := d.r.Done(); err != nil {
		return nil, d.r.Wrap("events", err)
	}
	return out, nil
}

// eventRecordType finds frame_system::EventRecord through the value type of
// System.Events and checks the parts DecodeEvents relies on.
func (m *Metadata) eventRecordType() (uint32, *Type, error) {
	_, e, err := m.StorageEntry("System", "Events")
	if err != nil {
		return 0, nil, err
	}
	if !e.Plain {
		return 0, nil, errors.New("metadata: System.Events is not a plain storage value")
	}
	seq := m.Types[e.Value]
	if seq == nil || seq.Kind != KindSequence {
		return 0, nil, errors.New("metadata: System.Events is not a sequence")
	}
	rec := m.Types[seq.Elem]
	if rec == nil || rec.Kind != KindComposite {
		return 0, nil, errors.New("metadata: the System.Events record is not a composite")
	}
	var phase, event bool
	for _, f := range rec.Fields {
		t := m.Types[f.Type]
		switch f.Name {
		case "phase":
			phase = t != nil && t.Kind == KindVariant
		case "event":
			event = t != nil && t.Kind == KindVariant
		}
	}
	if !phase || !event {
		return 0, nil, errors.New("metadata: the System.Events record lacks a variant phase or event field")
	}
	return seq.Elem, rec, nil
}

// evSize is what is known of a type's encoded size without input: min is a
// lower bound; fixed is the exact size, or -1 where it depends on the value
// (or the value must be checked, as bool and enum tags are).
type evSize struct{ min, fixed int64 }

// evDecoder walks one System.Events value.
type evDecoder struct {
	m     *Metadata
	r     *scale.Reader
	b     []byte
	sizes map[uint32]evSize
}

func evInvalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", scale.ErrInvalid, fmt.Sprintf(format, args...))
}

var errEvDepth = evInvalid("types nested deeper than %d", evMaxDepth)

func (d *evDecoder) typ(id uint32) (*Type, error) {
	if t := d.m.Types[id]; t != nil {
		return t, nil
	}
	return nil, evInvalid("unknown type %d", id)
}

// evVariantByIndex finds the variant with the given index; variants are
// usually numbered from 0 in order, which the first check takes.
func evVariantByIndex(t *Type, idx uint8) *Variant {
	if int(idx) < len(t.Variants) && t.Variants[idx].Index == idx {
		return &t.Variants[idx]
	}
	for i := range t.Variants {
		if t.Variants[i].Index == idx {
			return &t.Variants[i]
		}
	}
	return nil
}

// readVariant reads an enum tag of t and returns its variant.
func (d *evDecoder) readVariant(t *Type) (*Variant, error) {
	start := d.r.Offset()
	idx, err := d.r.U8()
	if err != nil {
		return nil, err
	}
	v := evVariantByIndex(t, idx)
	if v == nil {
		return nil, &scale.Error{Offset: start, Err: evInvalid("no variant %d in %s", idx, evTypeLabel(t))}
	}
	return v, nil
}

func evTypeLabel(t *Type) string {
	if len(t.Path) > 0 {
		return strings.Join(t.Path, "::")
	}
	return "type " + strconv.FormatUint(uint64(t.ID), 10)
}

func (d *evDecoder) record(rec *Type, er *EventRecord) error {
	for _, f := range rec.Fields {
		var err error
		switch f.Name {
		case "phase":
			err = d.phase(f.Type, &er.Phase)
		case "event":
			err = d.event(f.Type, er)
		default:
			err = d.skip(f.Type, 1)
		}
		if err != nil {
			return d.r.Wrap(f.Name, err)
		}
	}
	return nil
}

func (d *evDecoder) phase(id uint32, p *Phase) error {
	t, err := d.typ(id)
	if err != nil {
		return err
	}
	v, err := d.readVariant(t)
	if err != nil {
		return err
	}
	switch v.Name {
	case "ApplyExtrinsic":
		if len(v.Fields) != 1 || !d.isPrim(v.Fields[0].Type, 5) {
			return evInvalid("phase ApplyExtrinsic does not hold a u32")
		}
		p.ApplyExtrinsic = true
		p.Index, err = d.r.U32()
		return err
	case "Finalization":
		p.Finalization = true
	case "Initialization":
		p.Initialization = true
	}
	return d.skipFields(v.Fields, 1)
}

// event reads RuntimeEvent: the pallet's variant (its index is the pallet
// index) holding the pallet's event enum.
func (d *evDecoder) event(id uint32, er *EventRecord) error {
	t, err := d.typ(id)
	if err != nil {
		return err
	}
	pv, err := d.readVariant(t)
	if err != nil {
		return err
	}
	if len(pv.Fields) != 1 {
		return evInvalid("event of %s has %d fields, want 1", pv.Name, len(pv.Fields))
	}
	et, err := d.typ(pv.Fields[0].Type)
	if err != nil {
		return err
	}
	if et.Kind != KindVariant {
		return evInvalid("events of %s are not an enum", pv.Name)
	}
	ev, err := d.readVariant(et)
	if err != nil {
		return d.r.Wrap(pv.Name, err)
	}
	er.Pallet, er.Name, er.PalletIndex, er.EventIndex = pv.Name, ev.Name, pv.Index, ev.Index
	start := d.r.Offset()
	failed := pv.Name == "System" && ev.Name == "ExtrinsicFailed"
	for _, f := range ev.Fields {
		if failed && er.DispatchError == nil && d.isDispatchErrorField(f) {
			er.DispatchError, err = d.dispatchError(f.Type)
		} else {
			err = d.skip(f.Type, 1)
		}
		if err != nil {
			return d.r.Wrap(pv.Name+"."+ev.Name+"."+f.Name, err)
		}
	}
	end := d.r.Offset()
	er.Data = d.b[start:end:end]
	return nil
}

func (d *evDecoder) isDispatchErrorField(f Field) bool {
	if f.Name == "dispatch_error" {
		return true
	}
	t := d.m.Types[f.Type]
	return f.Name == "" && t != nil && t.Kind == KindVariant && len(t.Path) > 0 && t.Path[len(t.Path)-1] == "DispatchError"
}

// dispatchError reads sp_runtime::DispatchError and names module errors
// from the metadata. ModuleError's error field is [u8; 4] on current
// runtimes (its first byte is the error index) and a plain u8 on older ones;
// both are read by looking at the field's type.
func (d *evDecoder) dispatchError(id uint32) (*DispatchError, error) {
	t, err := d.typ(id)
	if err != nil {
		return nil, err
	}
	if t.Kind != KindVariant {
		return nil, d.skip(id, 1) // not a layout this decoder knows: keep the bytes only
	}
	v, err := d.readVariant(t)
	if err != nil {
		return nil, err
	}
	de := &DispatchError{Kind: v.Name}
	if v.Name != "Module" {
		// Token, Arithmetic, Transactional, Trie: a single inner enum.
		if len(v.Fields) == 1 {
			if it := d.m.Types[v.Fields[0].Type]; it != nil && it.Kind == KindVariant {
				iv, err := d.readVariant(it)
				if err != nil {
					return nil, d.r.Wrap(v.Name, err)
				}
				de.Name = iv.Name
				return de, d.r.Wrap(v.Name, d.skipFields(iv.Fields, 2))
			}
		}
		return de, d.r.Wrap(v.Name, d.skipFields(v.Fields, 1))
	}
	fields := v.Fields
	if len(fields) == 1 {
		if ct := d.m.Types[fields[0].Type]; ct != nil && ct.Kind == KindComposite {
			fields = ct.Fields
		}
	}
	for _, f := range fields {
		var err error
		switch ft := d.m.Types[f.Type]; {
		case f.Name == "index" && d.isPrim(f.Type, 3):
			de.PalletIndex, err = d.r.U8()
		case f.Name == "error" && d.isPrim(f.Type, 3):
			de.ErrorIndex, err = d.r.U8()
		case f.Name == "error" && ft != nil && ft.Kind == KindArray && ft.Len > 0 && d.isPrim(ft.Elem, 3):
			var raw []byte
			if raw, err = d.r.Fixed(int(min(ft.Len, math.MaxInt32))); err == nil {
				de.ErrorIndex = raw[0]
			}
		default:
			err = d.skip(f.Type, 2)
		}
		if err != nil {
			return nil, d.r.Wrap("Module."+f.Name, err)
		}
	}
	pallet, ev, err := d.m.Error(de.PalletIndex, de.ErrorIndex)
	de.Pallet = pallet
	if err == nil {
		de.Name, de.Docs = ev.Name, ev.Docs
	}
	return de, nil
}

// isPrim reports whether type id is the primitive p (3: u8, 5: u32).
func (d *evDecoder) isPrim(id uint32, p uint8) bool {
	t := d.m.Types[id]
	return t != nil && t.Kind == KindPrimitive && t.Prim == p
}

// evPrimWidth is the encoded size of fixed-width primitives; bool (whose
// byte is checked) and str are 0.
func evPrimWidth(p uint8) int {
	switch p {
	case 1:
		return 4 // char: a u32 code point
	case 3, 9:
		return 1
	case 4, 10:
		return 2
	case 5, 11:
		return 4
	case 6, 12:
		return 8
	case 7, 13:
		return 16
	case 8, 14:
		return 32
	}
	return 0
}

func (d *evDecoder) skipFields(fs []Field, depth int) error {
	for i := range fs {
		if err := d.skip(fs[i].Type, depth); err != nil {
			return d.r.Wrap(fs[i].Name, err)
		}
	}
	return nil
}

// skip reads past one value of type id.
func (d *evDecoder) skip(id uint32, depth int) error {
	if depth > evMaxDepth {
		return errEvDepth
	}
	t, err := d.typ(id)
	if err != nil {
		return err
	}
	r := d.r
	switch t.Kind {
	case KindComposite:
		if s := d.size(id, depth); s.fixed >= 0 {
			return r.Skip(int(s.fixed))
		}
		return d.skipFields(t.Fields, depth+1)
	case KindVariant:
		v, err := d.readVariant(t)
		if err != nil {
			return err
		}
		return d.r.Wrap(v.Name, d.skipFields(v.Fields, depth+1))
	case KindSequence:
		es := d.size(t.Elem, depth)
		if es.fixed == 0 {
			_, err := r.Compact() // items without bytes: only the count is encoded
			return err
		}
		n, err := r.VecLen(int(es.min))
		if err != nil {
			return err
		}
		if es.fixed > 0 {
			return r.Skip(n * int(es.fixed)) // VecLen bounds n·min by the input
		}
		for i := range n {
			if err := d.skip(t.Elem, depth+1); err != nil {
				return r.Wrap("["+strconv.Itoa(i)+"]", err)
			}
		}
		return nil
	case KindArray:
		es := d.size(t.Elem, depth)
		if es.fixed == 0 || t.Len == 0 {
			return nil
		}
		if uint64(t.Len) > uint64(r.Remaining())/uint64(max(es.min, 1)) {
			return fmt.Errorf("%w: array of %d items exceeds the remaining %d bytes", scale.ErrShort, t.Len, r.Remaining())
		}
		if es.fixed > 0 {
			return r.Skip(int(t.Len) * int(es.fixed))
		}
		for i := range int(t.Len) {
			if err := d.skip(t.Elem, depth+1); err != nil {
				return r.Wrap("["+strconv.Itoa(i)+"]", err)
			}
		}
		return nil
	case KindTuple:
		for i, e := range t.Tuple {
			if err := d.skip(e, depth+1); err != nil {
				return r.Wrap("["+strconv.Itoa(i)+"]", err)
			}
		}
		return nil
	case KindPrimitive:
		switch t.Prim {
		case 0:
			_, err := r.Bool()
			return err
		case 2:
			_, err := r.ByteSlice()
			return err
		}
		if w := evPrimWidth(t.Prim); w > 0 {
			return r.Skip(w)
		}
		return evInvalid("primitive %d", t.Prim)
	case KindCompact:
		return d.skipCompact(t.Elem, depth+1)
	case KindBitSequence:
		return d.skipBits(t)
	}
	return evInvalid("type kind %d", t.Kind)
}

// skipCompact reads a Compact<T>, where T is an unsigned integer or a
// single-field wrapper around one (Compact<Perbill>), or the unit type,
// which encodes to nothing. Values wider than T are rejected, as the
// runtime's codec does.
func (d *evDecoder) skipCompact(id uint32, depth int) error {
	r := d.r
	for ; depth <= evMaxDepth; depth++ {
		t, err := d.typ(id)
		if err != nil {
			return err
		}
		switch t.Kind {
		case KindComposite:
			switch len(t.Fields) {
			case 0:
				return nil
			case 1:
				id = t.Fields[0].Type
				continue
			}
		case KindTuple:
			switch len(t.Tuple) {
			case 0:
				return nil
			case 1:
				id = t.Tuple[0]
				continue
			}
		case KindPrimitive:
			switch t.Prim {
			case 3:
				start := r.Offset()
				v, err := r.Compact()
				if err == nil && v > math.MaxUint8 {
					err = &scale.Error{Offset: start, Err: evInvalid("compact value %d out of range for u8", v)}
				}
				return err
			case 4:
				_, err := r.CompactU16()
				return err
			case 5:
				_, err := r.CompactU32()
				return err
			case 6:
				_, err := r.Compact()
				return err
			case 7:
				_, err := r.CompactU128()
				return err
			case 8:
				start := r.Offset()
				v, err := r.CompactBig()
				if err == nil && v.BitLen() > 256 {
					err = &scale.Error{Offset: start, Err: evInvalid("compact value out of range for u256")}
				}
				return err
			}
		}
		return evInvalid("compact of %s", evTypeLabel(t))
	}
	return errEvDepth
}

// skipBits reads a BitVec<Store, Order>: the length in bits as Compact<u32>,
// then ceil(bits / width) store words.
func (d *evDecoder) skipBits(t *Type) error {
	st := d.m.Types[t.BitStore]
	w := 0
	if st != nil && st.Kind == KindPrimitive && st.Prim >= 3 && st.Prim <= 6 {
		w = evPrimWidth(st.Prim)
	}
	if w == 0 {
		return evInvalid("bit sequence store type %d", t.BitStore)
	}
	bits, err := d.r.CompactU32()
	if err != nil {
		return err
	}
	wordBits := uint64(8 * w)
	words := (uint64(bits) + wordBits - 1) / wordBits
	if words > uint64(d.r.Remaining()/w) {
		return fmt.Errorf("%w: bit sequence of %d bits exceeds the remaining %d bytes", scale.ErrShort, bits, d.r.Remaining())
	}
	return d.r.Skip(int(words) * w)
}

// size returns what is known of the encoded size of type id, memoized for
// the decode. Types met again while being sized (recursive types) and
// types nested too deeply get the weakest answer, {0, -1}, which is always
// a correct bound.
func (d *evDecoder) size(id uint32, depth int) evSize {
	if s, ok := d.sizes[id]; ok {
		return s
	}
	unknown := evSize{0, -1}
	if depth > evMaxDepth {
		return unknown
	}
	t := d.m.Types[id]
	if t == nil {
		return unknown
	}
	if d.sizes == nil {
		d.sizes = make(map[uint32]evSize)
	}
	d.sizes[id] = unknown // in progress
	var s evSize
	switch t.Kind {
	case KindComposite, KindTuple:
		ids := t.Tuple
		if t.Kind == KindComposite {
			ids = make([]uint32, len(t.Fields))
			for i, f := range t.Fields {
				ids[i] = f.Type
			}
		}
		for _, e := range ids {
			es := d.size(e, depth+1)
			s.min = min(s.min+es.min, evSizeCap)
			if s.fixed >= 0 && es.fixed >= 0 {
				s.fixed += es.fixed
			} else {
				s.fixed = -1
			}
		}
	case KindVariant:
		s = evSize{math.MaxInt64, -1}
		for _, v := range t.Variants {
			var vm int64 = 1
			for _, f := range v.Fields {
				vm = min(vm+d.size(f.Type, depth+1).min, evSizeCap)
			}
			s.min = min(s.min, vm)
		}
		if len(t.Variants) == 0 {
			s.min = 1
		}
	case KindArray:
		es := d.size(t.Elem, depth+1)
		n := int64(t.Len)
		s.min = min(evSatMul(n, es.min), evSizeCap)
		switch {
		case es.fixed == 0 || n == 0:
			s.fixed = 0
		case es.fixed > 0:
			s.fixed = evSatMul(n, es.fixed)
		default:
			s.fixed = -1
		}
	case KindPrimitive:
		if w := evPrimWidth(t.Prim); w > 0 {
			s = evSize{int64(w), int64(w)}
		} else {
			s = evSize{1, -1} // bool, str
		}
	case KindCompact:
		s = evSize{1, -1}
		if d.size(t.Elem, depth+1).fixed == 0 {
			s = evSize{0, 0}
		}
	default: // sequences and bit sequences start with a compact length
		s = evSize{1, -1}
	}
	if s.fixed > evSizeCap {
		s.fixed = -1
	}
	d.sizes[id] = s
	return s
}

// evSatMul multiplies non-negative sizes, saturating at evSizeCap+1.
func evSatMul(a, b int64) int64 {
	if a == 0 || b == 0 {
		return 0
	}
	if a > (evSizeCap+1)/b {
		return evSizeCap + 1
	}
	return a * b
}
