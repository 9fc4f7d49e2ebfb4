package localnet

import (
	"fmt"
	"slices"

	"github.com/vigil-validator/vigil/bittensor/scale"
	"github.com/vigil-validator/vigil/bittensor/substrate"
)

// Dispatch classes of DispatchEventInfo.
const (
	dispatchNormal    = 0
	dispatchMandatory = 2
)

// eventLog collects a block's System.Events, encoded as the metadata
// declares them: EventRecord{phase, event, topics}.
type eventLog struct {
	md      *substrate.Metadata
	records [][]byte
	// phase is the index of the extrinsic being applied; initialization
	// when negative.
	phase int64
}

func (l *eventLog) index(pallet, name string) (uint8, uint8, bool) {
	p, ok := l.md.Pallet(pallet)
	if !ok || p.Events == nil {
		return 0, 0, false
	}
	for _, v := range l.md.Types[*p.Events].Variants {
		if v.Name == name {
			return p.Index, v.Index, true
		}
	}
	return 0, 0, false
}

// emit appends pallet.name with its fields already SCALE-encoded in
// order. An event the metadata lacks is not emitted.
func (l *eventLog) emit(pallet, name string, fields []byte) {
	pi, vi, ok := l.index(pallet, name)
	if !ok {
		return
	}
	e := scale.NewEncoder(8 + len(fields))
	if l.phase < 0 {
		e.U8(2) // Phase::Initialization
	} else {
		e.U8(0) // Phase::ApplyExtrinsic(index)
		e.U32(uint32(l.phase))
	}
	e.U8(pi)
	e.U8(vi)
	e.Fixed(fields)
	e.VecLen(0) // topics
	l.records = append(l.records, e.Bytes())
}

func dispatchInfo(class uint8, pays bool) []byte {
	e := scale.NewEncoder(4)
	e.Compact(0) // ref_time
	e.Compact(0) // proof_size
	e.U8(class)
	if pays {
		e.U8(0) // Pays::Yes
	} else {
		e.U8(1) // Pays::No
	}
	return e.Bytes()
}

func (l *eventLog) success(class uint8) {
	l.emit("System", "ExtrinsicSuccess", dispatchInfo(class, class != dispatchMandatory))
}

// failed emits ExtrinsicFailed with DispatchError::Module of the pallet's
// error named name. The names are the dispatcher's constants, so one the
// metadata lacks is a bug: it is an error rather than a wrong index.
func (l *eventLog) failed(pallet, name string) error {
	p, ok := l.md.Pallet(pallet)
	if !ok || p.Errors == nil {
		return fmt.Errorf("localnet: the metadata has no errors of pallet %s", pallet)
	}
	vs := l.md.Types[*p.Errors].Variants
	i := slices.IndexFunc(vs, func(v substrate.Variant) bool { return v.Name == name })
	if i < 0 {
		return fmt.Errorf("localnet: the metadata has no error %s.%s", pallet, name)
	}
	e := scale.NewEncoder(12)
	e.U8(3) // DispatchError::Module
	e.U8(p.Index)
	e.Fixed([]byte{vs[i].Index, 0, 0, 0})
	e.Fixed(dispatchInfo(dispatchNormal, false))
	l.emit("System", "ExtrinsicFailed", e.Bytes())
	return nil
}

func (l *eventLog) bytes() []byte {
	e := scale.NewEncoder(16)
	e.VecLen(len(l.records))
	for _, r := range l.records {
		e.Fixed(r)
	}
	return e.Bytes()
}
