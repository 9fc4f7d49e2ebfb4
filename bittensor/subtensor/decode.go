package subtensor

import (
	"errors"
	"fmt"
	"math"
	"unicode/utf8"

	"github.com/vigil-validator/vigil/bittensor/scale"
)

// Sizes that bound vector lengths before allocating.
const (
	axonInfoSize       = 34
	prometheusInfoSize = 31
	accountSize        = 32
	minNeuronLiteSize  = 32 + 32 + 1 + 1 + 1 + axonInfoSize + prometheusInfoSize + 1 + 8 + 1 + 1
)

func readAccount(r *scale.Reader) (AccountID, error) {
	b, err := r.Bytes32()
	return AccountID(b), err
}

func readAxon(r *scale.Reader) (AxonInfo, error) {
	var a AxonInfo
	var err error
	fail := func(f string, e error) (AxonInfo, error) { return a, r.Wrap(f, e) }
	if a.Block, err = r.U64(); err != nil {
		return fail("block", err)
	}
	if a.Version, err = r.U32(); err != nil {
		return fail("version", err)
	}
	if a.IP, err = r.U128(); err != nil {
		return fail("ip", err)
	}
	if a.Port, err = r.U16(); err != nil {
		return fail("port", err)
	}
	if a.IPType, err = r.U8(); err != nil {
		return fail("ip_type", err)
	}
	if a.Protocol, err = r.U8(); err != nil {
		return fail("protocol", err)
	}
	if err = r.Skip(2); err != nil { // two placeholder bytes
		return fail("placeholders", err)
	}
	return a, nil
}

// compactBytes reads Vec<Compact<u8>>, the runtime's encoding of names.
func compactBytes(r *scale.Reader) ([]byte, error) {
	n, err := r.VecLen(1)
	if err != nil {
		return nil, err
	}
	out := make([]byte, n)
	for i := range out {
		v, err := r.Compact()
		if err != nil {
			return nil, r.Wrap(fmt.Sprintf("[%d]", i), err)
		}
		if v > 255 {
			return nil, r.Wrap(fmt.Sprintf("[%d]", i), fmt.Errorf("%w: byte value %d", scale.ErrInvalid, v))
		}
		out[i] = byte(v)
	}
	return out, nil
}

func text(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return fmt.Sprintf("%x", b)
}

func compactU16(r *scale.Reader) (uint16, error) { return r.CompactU16() }
func compactU64(r *scale.Reader) (uint64, error) { return r.Compact() }
func readBool(r *scale.Reader) (bool, error)     { return r.Bool() }

// decodeNeuronLite reads one NeuronInfoLite.
func decodeNeuronLite(r *scale.Reader) (Neuron, error) {
	var n Neuron
	var err error
	fail := func(f string, e error) (Neuron, error) { return n, r.Wrap(f, e) }
	if n.Hotkey, err = readAccount(r); err != nil {
		return fail("hotkey", err)
	}
	if n.Coldkey, err = readAccount(r); err != nil {
		return fail("coldkey", err)
	}
	if n.UID, err = r.CompactU16(); err != nil {
		return fail("uid", err)
	}
	if _, err = r.CompactU16(); err != nil {
		return fail("netuid", err)
	}
	if n.Active, err = r.Bool(); err != nil {
		return fail("active", err)
	}
	if n.Axon, err = readAxon(r); err != nil {
		return fail("axon_info", err)
	}
	if err = r.Skip(prometheusInfoSize); err != nil {
		return fail("prometheus_info", err)
	}
	stakes, err := scale.DecodeVec(r, accountSize+1, func(r *scale.Reader) (uint64, error) {
		if err := r.Skip(accountSize); err != nil {
			return 0, err
		}
		return r.Compact()
	})
	if err != nil {
		return fail("stake", err)
	}
	for _, s := range stakes {
		if n.Stake > math.MaxUint64-s {
			return fail("stake", errors.New("sum overflows u64"))
		}
		n.Stake += s
	}
	n.AlphaStake = n.Stake
	props := []struct {
		name string
		dst  *Proportion
	}{{"rank", &n.Rank}}
	for _, p := range props {
		v, err := r.CompactU16()
		if err != nil {
			return fail(p.name, err)
		}
		*p.dst = Proportion(v)
	}
	if n.Emission, err = r.Compact(); err != nil {
		return fail("emission", err)
	}
	props = []struct {
		name string
		dst  *Proportion
	}{{"incentive", &n.Incentive}, {"consensus", &n.Consensus}, {"trust", &n.Trust},
		{"validator_trust", &n.ValidatorTrust}, {"dividends", &n.Dividends}}
	for _, p := range props {
		v, err := r.CompactU16()
		if err != nil {
			return fail(p.name, err)
		}
		*p.dst = Proportion(v)
	}
	if n.LastUpdate, err = r.Compact(); err != nil {
		return fail("last_update", err)
	}
	if n.ValidatorPermit, err = r.Bool(); err != nil {
		return fail("validator_permit", err)
	}
	if n.PruningScore, err = r.CompactU16(); err != nil {
		return fail("pruning_score", err)
	}
	return n, nil
}

// DecodeNeuronsLite decodes the answer of NeuronInfoRuntimeApi_get_neurons_lite:
// Vec<NeuronInfoLite>, or the same wrapped in a Vec<u8> as older runtimes
// answered.
func DecodeNeuronsLite(b []byte) ([]Neuron, error) {
	neurons, err := decodeNeuronsLite(b)
	if err == nil {
		return neurons, nil
	}
	// Older runtimes wrapped the answer in Vec<u8>: accept it only when the
	// wrapper's length covers the rest exactly.
	r := scale.NewReader(b)
	inner, werr := r.ByteSlice()
	if werr == nil && r.Remaining() == 0 {
		if neurons, ierr := decodeNeuronsLite(inner); ierr == nil {
			return neurons, nil
		}
	}
	return nil, err
}

func decodeNeuronsLite(b []byte) ([]Neuron, error) {
	var out []Neuron
	err := scale.Decode(b, func(r *scale.Reader) error {
		var err error
		out, err = scale.DecodeVec(r, minNeuronLiteSize, decodeNeuronLite)
		return r.Wrap("neurons", err)
	})
	return out, err
}

// errNoMetagraph is the runtime's None for a subnet that does not exist.
var errNoMetagraph = errors.New("the subnet does not exist at this block")

// DecodeSelectiveMetagraph decodes the answer of
// SubnetInfoRuntimeApi_get_selective_mechagraph (Option<SelectiveMetagraph>).
// Fields the runtime did not fill stay zero. Bytes after the last field this
// decoder knows are tolerated, so a runtime that appends fields still works.
func DecodeSelectiveMetagraph(b []byte) (*Metagraph, error) {
	m, _, err := decodeSelectiveMetagraph(b)
	return m, err
}

// decodeSelectiveMetagraph also returns how many bytes followed the known
// fields.
func decodeSelectiveMetagraph(b []byte) (*Metagraph, int, error) {
	r := scale.NewReader(b)
	some, err := r.Option()
	if err != nil {
		return nil, 0, r.Wrap("metagraph", err)
	}
	if !some {
		return nil, 0, errNoMetagraph
	}
	m := &Metagraph{}
	if m.Netuid, err = r.CompactU16(); err != nil {
		return nil, 0, r.Wrap("netuid", err)
	}
	var v vectors
	for idx := 1; idx < len(selectiveFields); idx++ {
		f := selectiveFields[idx]
		present, err := r.Option()
		if err != nil {
			return nil, 0, r.Wrap(f.name, err)
		}
		if !present {
			continue
		}
		if err := f.read(r, m, &v); err != nil {
			return nil, 0, r.Wrap(f.name, err)
		}
	}
	if err := v.assemble(m); err != nil {
		return nil, 0, err
	}
	return m, r.Remaining(), nil
}

// vectors collects the per-uid columns before they become Neurons.
type vectors struct {
	hotkeys, coldkeys                         []AccountID
	axons                                     []AxonInfo
	active, permit                            []bool
	pruning, dividends, incentives, consensus []uint16
	trust, rank                               []uint16
	lastUpdate, emission, blockAtReg          []uint64
	alphaStake, taoStake, totalStake          []uint64
}

func (v *vectors) assemble(m *Metagraph) error {
	n := len(v.hotkeys)
	if m.NumUIDs != 0 && n != 0 && int(m.NumUIDs) != n {
		return fmt.Errorf("metagraph: num_uids %d but %d hotkeys", m.NumUIDs, n)
	}
	check := func(name string, l int) error {
		if l != 0 && l != n {
			return fmt.Errorf("metagraph: %s has %d entries for %d uids", name, l, n)
		}
		return nil
	}
	for _, c := range []struct {
		name string
		l    int
	}{{"coldkeys", len(v.coldkeys)}, {"axons", len(v.axons)}, {"active", len(v.active)},
		{"validator_permit", len(v.permit)}, {"pruning_score", len(v.pruning)}, {"last_update", len(v.lastUpdate)},
		{"emission", len(v.emission)}, {"dividends", len(v.dividends)}, {"incentives", len(v.incentives)},
		{"consensus", len(v.consensus)}, {"trust", len(v.trust)}, {"rank", len(v.rank)},
		{"block_at_registration", len(v.blockAtReg)}, {"alpha_stake", len(v.alphaStake)},
		{"tao_stake", len(v.taoStake)}, {"total_stake", len(v.totalStake)}} {
		if err := check(c.name, c.l); err != nil {
			return err
		}
	}
	m.Neurons = make([]Neuron, n)
	for i := range m.Neurons {
		nr := &m.Neurons[i]
		nr.UID = uint16(i)
		nr.Hotkey = v.hotkeys[i]
		// A column is absent (None) or empty (Some of no entries) when it
		// has no entry for this uid; check allowed only those or n.
		if len(v.coldkeys) > 0 {
			nr.Coldkey = v.coldkeys[i]
		}
		if len(v.axons) > 0 {
			nr.Axon = v.axons[i]
		}
		if len(v.active) > 0 {
			nr.Active = v.active[i]
		}
		if len(v.permit) > 0 {
			nr.ValidatorPermit = v.permit[i]
		}
		at := func(s []uint16) Proportion {
			if len(s) == 0 {
				return 0
			}
			return Proportion(s[i])
		}
		at64 := func(s []uint64) uint64 {
			if len(s) == 0 {
				return 0
			}
			return s[i]
		}
		nr.Dividends, nr.Incentive, nr.Consensus = at(v.dividends), at(v.incentives), at(v.consensus)
		nr.Trust, nr.Rank, nr.PruningScore = at(v.trust), at(v.rank), uint16(at(v.pruning))
		nr.LastUpdate, nr.Emission, nr.BlockAtRegistration = at64(v.lastUpdate), at64(v.emission), at64(v.blockAtReg)
		nr.AlphaStake, nr.TaoStake, nr.Stake = at64(v.alphaStake), at64(v.taoStake), at64(v.totalStake)
	}
	return nil
}

type selectiveField struct {
	name string
	read func(r *scale.Reader, m *Metagraph, v *vectors) error
}

func u16Field(dst func(*Metagraph) *uint16) func(*scale.Reader, *Metagraph, *vectors) error {
	return func(r *scale.Reader, m *Metagraph, _ *vectors) (err error) { *dst(m), err = r.CompactU16(); return }
}

func u64Field(dst func(*Metagraph) *uint64) func(*scale.Reader, *Metagraph, *vectors) error {
	return func(r *scale.Reader, m *Metagraph, _ *vectors) (err error) { *dst(m), err = r.Compact(); return }
}

func boolField(dst func(*Metagraph) *bool) func(*scale.Reader, *Metagraph, *vectors) error {
	return func(r *scale.Reader, m *Metagraph, _ *vectors) (err error) { *dst(m), err = r.Bool(); return }
}

func skipCompact(r *scale.Reader, _ *Metagraph, _ *vectors) error {
	_, err := r.CompactBig()
	return err
}

func u16Vec(dst func(*vectors) *[]uint16) func(*scale.Reader, *Metagraph, *vectors) error {
	return func(r *scale.Reader, _ *Metagraph, v *vectors) (err error) {
		*dst(v), err = scale.DecodeVec(r, 1, compactU16)
		return
	}
}

func u64Vec(dst func(*vectors) *[]uint64) func(*scale.Reader, *Metagraph, *vectors) error {
	return func(r *scale.Reader, _ *Metagraph, v *vectors) (err error) {
		*dst(v), err = scale.DecodeVec(r, 1, compactU64)
		return
	}
}

func boolVec(dst func(*vectors) *[]bool) func(*scale.Reader, *Metagraph, *vectors) error {
	return func(r *scale.Reader, _ *Metagraph, v *vectors) (err error) {
		*dst(v), err = scale.DecodeVec(r, 1, readBool)
		return
	}
}

func accountVec(dst func(*vectors) *[]AccountID) func(*scale.Reader, *Metagraph, *vectors) error {
	return func(r *scale.Reader, _ *Metagraph, v *vectors) (err error) {
		*dst(v), err = scale.DecodeVec(r, accountSize, readAccount)
		return
	}
}

// skipIdentity skips n byte strings (SubnetIdentityV3 has 8, ChainIdentityV2 7).
func skipByteStrings(r *scale.Reader, n int) error {
	for range n {
		if _, err := r.ByteSlice(); err != nil {
			return err
		}
	}
	return nil
}

func skipAccountAmounts(r *scale.Reader, _ *Metagraph, _ *vectors) error {
	_, err := scale.DecodeVec(r, accountSize+1, func(r *scale.Reader) (struct{}, error) {
		if err := r.Skip(accountSize); err != nil {
			return struct{}{}, err
		}
		_, err := r.Compact()
		return struct{}{}, err
	})
	return err
}

// selectiveFields follows the runtime's SelectiveMetagraphIndex order; index
// 0 (netuid) is read before the loop and is never optional.
var selectiveFields = [...]selectiveField{
	0: {"netuid", nil},
	1: {"name", func(r *scale.Reader, m *Metagraph, _ *vectors) error {
		b, err := compactBytes(r)
		m.Name = text(b)
		return err
	}},
	2: {"symbol", func(r *scale.Reader, m *Metagraph, _ *vectors) error {
		b, err := compactBytes(r)
		m.Symbol = text(b)
		return err
	}},
	3: {"identity", func(r *scale.Reader, _ *Metagraph, _ *vectors) error {
		some, err := r.Option()
		if err != nil || !some {
			return err
		}
		return skipByteStrings(r, 8)
	}},
	4: {"network_registered_at", u64Field(func(m *Metagraph) *uint64 { return &m.NetworkRegisteredAt })},
	5: {"owner_hotkey", func(r *scale.Reader, m *Metagraph, _ *vectors) (err error) {
		m.OwnerHotkey, err = readAccount(r)
		return
	}},
	6: {"owner_coldkey", func(r *scale.Reader, m *Metagraph, _ *vectors) (err error) {
		m.OwnerColdkey, err = readAccount(r)
		return
	}},
	7:  {"block", u64Field(func(m *Metagraph) *uint64 { return &m.Block })},
	8:  {"tempo", u16Field(func(m *Metagraph) *uint16 { return &m.Tempo })},
	9:  {"last_step", u64Field(func(m *Metagraph) *uint64 { return &m.LastStep })},
	10: {"blocks_since_last_step", u64Field(func(m *Metagraph) *uint64 { return &m.BlocksSinceLastStep })},
	11: {"subnet_emission", skipCompact},
	12: {"alpha_in", skipCompact},
	13: {"alpha_out", skipCompact},
	14: {"tao_in", skipCompact},
	15: {"alpha_out_emission", skipCompact},
	16: {"alpha_in_emission", skipCompact},
	17: {"tao_in_emission", skipCompact},
	18: {"pending_alpha_emission", skipCompact},
	19: {"pending_root_emission", skipCompact},
	20: {"subnet_volume", skipCompact},
	21: {"moving_price", func(r *scale.Reader, m *Metagraph, _ *vectors) error {
		p, err := r.I96F32()
		m.MovingPrice = p.Float64()
		return err
	}},
	22: {"rho", u16Field(func(m *Metagraph) *uint16 { return &m.Rho })},
	23: {"kappa", u16Field(func(m *Metagraph) *uint16 { return &m.Kappa })},
	24: {"min_allowed_weights", u16Field(func(m *Metagraph) *uint16 { return &m.MinAllowedWeights })},
	25: {"max_weights_limit", u16Field(func(m *Metagraph) *uint16 { return &m.MaxWeightsLimit })},
	26: {"weights_version", u64Field(func(m *Metagraph) *uint64 { return &m.WeightsVersion })},
	27: {"weights_rate_limit", u64Field(func(m *Metagraph) *uint64 { return &m.WeightsRateLimit })},
	28: {"activity_cutoff", u64Field(func(m *Metagraph) *uint64 { return &m.ActivityCutoff })},
	29: {"max_validators", u16Field(func(m *Metagraph) *uint16 { return &m.MaxValidators })},
	30: {"num_uids", u16Field(func(m *Metagraph) *uint16 { return &m.NumUIDs })},
	31: {"max_uids", u16Field(func(m *Metagraph) *uint16 { return &m.MaxUIDs })},
	32: {"burn", u64Field(func(m *Metagraph) *uint64 { return &m.Burn })},
	33: {"difficulty", u64Field(func(m *Metagraph) *uint64 { return &m.Difficulty })},
	34: {"registration_allowed", boolField(func(m *Metagraph) *bool { return &m.RegistrationAllowed })},
	35: {"pow_registration_allowed", func(r *scale.Reader, _ *Metagraph, _ *vectors) error { _, err := r.Bool(); return err }},
	36: {"immunity_period", u16Field(func(m *Metagraph) *uint16 { return &m.ImmunityPeriod })},
	37: {"min_difficulty", skipCompact},
	38: {"max_difficulty", skipCompact},
	39: {"min_burn", skipCompact},
	40: {"max_burn", skipCompact},
	41: {"adjustment_alpha", skipCompact},
	42: {"adjustment_interval", skipCompact},
	43: {"target_regs_per_interval", skipCompact},
	44: {"max_regs_per_block", skipCompact},
	45: {"serving_rate_limit", skipCompact},
	46: {"commit_reveal_weights_enabled", boolField(func(m *Metagraph) *bool { return &m.CommitRevealEnabled })},
	47: {"commit_reveal_period", u64Field(func(m *Metagraph) *uint64 { return &m.CommitRevealPeriod })},
	48: {"liquid_alpha_enabled", boolField(func(m *Metagraph) *bool { return &m.LiquidAlphaEnabled })},
	49: {"alpha_high", u16Field(func(m *Metagraph) *uint16 { return &m.AlphaHigh })},
	50: {"alpha_low", u16Field(func(m *Metagraph) *uint16 { return &m.AlphaLow })},
	51: {"bonds_moving_avg", u64Field(func(m *Metagraph) *uint64 { return &m.BondsMovingAvg })},
	52: {"hotkeys", accountVec(func(v *vectors) *[]AccountID { return &v.hotkeys })},
	53: {"coldkeys", accountVec(func(v *vectors) *[]AccountID { return &v.coldkeys })},
	54: {"identities", func(r *scale.Reader, _ *Metagraph, _ *vectors) error {
		_, err := scale.DecodeVec(r, 1, func(r *scale.Reader) (struct{}, error) {
			some, err := r.Option()
			if err != nil || !some {
				return struct{}{}, err
			}
			return struct{}{}, skipByteStrings(r, 7)
		})
		return err
	}},
	55: {"axons", func(r *scale.Reader, _ *Metagraph, v *vectors) (err error) {
		v.axons, err = scale.DecodeVec(r, axonInfoSize, readAxon)
		return
	}},
	56: {"active", boolVec(func(v *vectors) *[]bool { return &v.active })},
	57: {"validator_permit", boolVec(func(v *vectors) *[]bool { return &v.permit })},
	58: {"pruning_score", u16Vec(func(v *vectors) *[]uint16 { return &v.pruning })},
	59: {"last_update", u64Vec(func(v *vectors) *[]uint64 { return &v.lastUpdate })},
	60: {"emission", u64Vec(func(v *vectors) *[]uint64 { return &v.emission })},
	61: {"dividends", u16Vec(func(v *vectors) *[]uint16 { return &v.dividends })},
	62: {"incentives", u16Vec(func(v *vectors) *[]uint16 { return &v.incentives })},
	63: {"consensus", u16Vec(func(v *vectors) *[]uint16 { return &v.consensus })},
	64: {"trust", u16Vec(func(v *vectors) *[]uint16 { return &v.trust })},
	65: {"rank", u16Vec(func(v *vectors) *[]uint16 { return &v.rank })},
	66: {"block_at_registration", u64Vec(func(v *vectors) *[]uint64 { return &v.blockAtReg })},
	67: {"alpha_stake", u64Vec(func(v *vectors) *[]uint64 { return &v.alphaStake })},
	68: {"tao_stake", u64Vec(func(v *vectors) *[]uint64 { return &v.taoStake })},
	69: {"total_stake", u64Vec(func(v *vectors) *[]uint64 { return &v.totalStake })},
	70: {"tao_dividends_per_hotkey", skipAccountAmounts},
	71: {"alpha_dividends_per_hotkey", skipAccountAmounts},
	72: {"validators", func(r *scale.Reader, _ *Metagraph, _ *vectors) error {
		_, err := scale.DecodeVec(r, 1, compactU16)
		return err
	}},
	73: {"commitments", func(r *scale.Reader, _ *Metagraph, _ *vectors) error {
		_, err := scale.DecodeVec(r, accountSize+1, func(r *scale.Reader) (struct{}, error) {
			if err := r.Skip(accountSize); err != nil {
				return struct{}{}, err
			}
			_, err := compactBytes(r)
			return struct{}{}, err
		})
		return err
	}},
}

// SelectiveMetagraphFields is the number of fields the decoder knows; a
// request for indexes 0..n-1 asks for all of them.
const SelectiveMetagraphFields = len(selectiveFields)
