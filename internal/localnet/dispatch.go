package localnet

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"golang.org/x/crypto/blake2b"

	"github.com/vigil-validator/vigil/bittensor/scale"
	"github.com/vigil-validator/vigil/bittensor/substrate"
	"github.com/vigil-validator/vigil/bittensor/subtensor"
	"github.com/vigil-validator/vigil/bittensor/timelock"
	"github.com/vigil-validator/vigil/bittensor/yuma"
)

// maxUnrevealed is subtensor's limit of outstanding commits per hotkey
// (hash commits) or per hotkey and epoch (timelocked).
const maxUnrevealed = 10

// call is a decoded call: its pallet, name and argument bytes.
type call struct {
	pallet, name string
	args         []byte
}

func (c *Chain) decodeCall(b []byte) (call, error) {
	if len(b) < 2 {
		return call{}, fmt.Errorf("call of %d bytes", len(b))
	}
	for _, p := range c.md.Pallets {
		if p.Index != b[0] || p.Calls == nil {
			continue
		}
		for _, v := range c.md.Types[*p.Calls].Variants {
			if v.Index == b[1] {
				return call{p.Name, v.Name, b[2:]}, nil
			}
		}
	}
	return call{}, fmt.Errorf("no call %d of pallet %d", b[1], b[0])
}

// Arguments of the calls the chain dispatches.
type weightsArgs struct {
	netuid       uint16
	mech         uint8 // the *_mechanism_* calls' mecid; 0 for the others
	uids, values []uint16
	salt         []uint16
	versionKey   uint64
	hash         [32]byte
	commit       []byte
	round        uint64
	crVersion    uint16
}

func u16s(r *scale.Reader) ([]uint16, error) {
	return scale.DecodeVec(r, 2, func(r *scale.Reader) (uint16, error) { return r.U16() })
}

// weightCall maps the weight calls to what they do: a *_mechanism_* call
// is its mechanism-0 call with a mecid after the netuid.
func weightCall(name string) (base string, mechanism, ok bool) {
	switch name {
	case "set_weights", "commit_weights", "reveal_weights", "commit_timelocked_weights":
		return name, false, true
	case "set_mechanism_weights", "commit_mechanism_weights", "reveal_mechanism_weights", "commit_timelocked_mechanism_weights":
		return strings.Replace(name, "_mechanism", "", 1), true, true
	}
	return "", false, false
}

// parseArgs reads a SubtensorModule weight call's arguments; every byte
// must be consumed.
func parseArgs(call string, b []byte) (weightsArgs, error) {
	var a weightsArgs
	name, withMech, _ := weightCall(call)
	err := scale.Decode(b, func(r *scale.Reader) (err error) {
		if a.netuid, err = r.U16(); err != nil {
			return err
		}
		if withMech {
			if a.mech, err = r.U8(); err != nil {
				return err
			}
		}
		switch name {
		case "set_weights", "reveal_weights":
			if a.uids, err = u16s(r); err != nil {
				return err
			}
			if a.values, err = u16s(r); err != nil {
				return err
			}
			if name == "reveal_weights" {
				if a.salt, err = u16s(r); err != nil {
					return err
				}
			}
			a.versionKey, err = r.U64()
		case "commit_weights":
			a.hash, err = r.Bytes32()
		case "commit_timelocked_weights":
			if a.commit, err = r.ByteSlice(); err != nil {
				return err
			}
			if a.round, err = r.U64(); err != nil {
				return err
			}
			a.crVersion, err = r.U16()
		}
		return err
	})
	return a, err
}

type axonArgs struct {
	netuid                           uint16
	version                          uint32
	ip                               scale.Uint128
	port                             uint16
	ipType, protocol, place1, place2 uint8
}

func parseAxon(b []byte) (axonArgs, error) {
	var a axonArgs
	err := scale.Decode(b, func(r *scale.Reader) (err error) {
		if a.netuid, err = r.U16(); err != nil {
			return
		}
		if a.version, err = r.U32(); err != nil {
			return
		}
		if a.ip, err = r.U128(); err != nil {
			return
		}
		if a.port, err = r.U16(); err != nil {
			return
		}
		for _, p := range []*uint8{&a.ipType, &a.protocol, &a.place1, &a.place2} {
			if *p, err = r.U8(); err != nil {
				return
			}
		}
		return nil
	})
	return a, err
}

// poolError is a JSON-RPC error of the transaction pool, as a substrate
// node answers author_submitExtrinsic.
func poolError(code int, message, data string) *substrate.RPCError {
	e := &substrate.RPCError{Code: code, Message: message}
	if data != "" {
		e.Data, _ = json.Marshal(data)
	}
	return e
}

func invalid(data string) *substrate.RPCError { return poolError(1010, "Invalid Transaction", data) }

func custom(n int) *substrate.RPCError { return invalid(fmt.Sprintf("Custom error: %d", n)) }

// checkTx is the pool's validation of a decoded extrinsic against st, for
// inclusion in block current: mortality and signature, nonce (pending is
// how many of the signer's transactions are queued before it), and
// subtensor's pre-dispatch guards.
func (c *Chain) checkTx(st *State, x *substrate.Extrinsic, current uint64, pending uint32) *substrate.RPCError {
	birthN := x.Era.Birth(current)
	birth, ok := c.hashes[birthN]
	if !ok || birthN >= current || (birthN+blockHashCount < current && birthN != 0) {
		return invalid("Transaction has an ancient birth block")
	}
	p := substrate.TxParams{SpecVersion: SpecVersion, TransactionVersion: TransactionVersion, GenesisHash: c.genesis, BirthHash: birth}
	if !c.ext.Verify(x, p) {
		return invalid("Transaction has a bad signature")
	}
	nonce := uint32(0)
	if a, ok := st.Accounts[AccountID(x.Signer)]; ok {
		nonce = a.Nonce
	}
	switch {
	case x.Nonce < nonce:
		return invalid("Transaction is outdated")
	case x.Nonce < nonce+pending:
		return poolError(1014, "Priority is too low: (0 vs 0)", "The transaction has too low priority to replace another transaction already in the pool.")
	case x.Nonce > nonce+pending:
		return invalid("Transaction will be valid in the future")
	}
	cl, err := c.decodeCall(x.Call)
	if err != nil {
		return poolError(1002, "Verification Error: Runtime error: Execution failed: Could not decode `RuntimeCall`", err.Error())
	}
	if cl.pallet != subtensor.Pallet {
		return nil
	}
	return c.guard(st, AccountID(x.Signer), cl, current)
}

// guard is subtensor's transaction extension for SubtensorModule calls.
func (c *Chain) guard(st *State, who AccountID, cl call, current uint64) *substrate.RPCError {
	name, _, isWeights := weightCall(cl.name)
	switch {
	case isWeights:
	case cl.name == "serve_axon":
		a, err := parseAxon(cl.args)
		if err != nil {
			return nil // dispatch reports it
		}
		s := st.Subnets[a.netuid]
		if s == nil {
			return custom(subtensor.CustomHotKeyNotRegisteredInNetwork)
		}
		uid, ok := s.uid(who)
		if !ok {
			return custom(subtensor.CustomHotKeyNotRegisteredInNetwork)
		}
		if !validIP(a.ipType, a.ip) {
			return custom(subtensor.CustomInvalidIpAddress)
		}
		if a.port == 0 {
			return custom(subtensor.CustomInvalidPort)
		}
		if prev := s.Neurons[uid].Axon; prev.Block > 0 && current-prev.Block < s.Params.ServingRateLimit {
			return custom(subtensor.CustomServingRateLimitExceeded)
		}
		return nil
	default:
		return nil
	}
	a, err := parseArgs(cl.name, cl.args)
	if err != nil {
		return nil
	}
	s := st.Subnets[a.netuid]
	if s == nil || a.mech >= s.mechanisms() {
		return nil // dispatch reports it
	}
	if who != s.OwnerHotkey && stakeOf(s, who) < st.StakeThreshold {
		return custom(subtensor.CustomStakeAmountTooLow)
	}
	uid, registered := s.uid(who)
	var rateLimited bool
	if registered {
		lu := *s.Neurons[uid].mech(a.mech).lastUpdate
		rateLimited = lu > 0 && current-lu < s.Params.WeightsRateLimit
	}
	switch name {
	case "set_weights":
		if !s.Params.CommitRevealWeightsEnable && rateLimited {
			return custom(subtensor.CustomRateLimitExceeded)
		}
	case "commit_weights":
		if rateLimited {
			return custom(subtensor.CustomRateLimitExceeded)
		}
	case "commit_timelocked_weights":
		if a.round < st.LastStoredRound {
			return custom(subtensor.CustomInvalidRevealRound)
		}
		if rateLimited {
			return custom(subtensor.CustomRateLimitExceeded)
		}
	case "reveal_weights":
		h := subtensor.CommitHash(who, s.index(a.mech), a.uids, a.values, a.salt, a.versionKey)
		i := slices.IndexFunc(s.HashCommits[who], func(hc HashCommit) bool { return hc.Hash == h && hc.Mech == a.mech })
		if i < 0 {
			return custom(subtensor.CustomCommitNotFound)
		}
		if s.epoch(current) != s.HashCommits[who][i].Epoch+s.Params.CommitRevealPeriod {
			return custom(subtensor.CustomCommitBlockNotInRevealRange)
		}
	}
	return nil
}

func stakeOf(s *Subnet, who AccountID) uint64 {
	if uid, ok := s.uid(who); ok {
		return s.Neurons[uid].Stake
	}
	return 0
}

// validIP is subtensor's check of a served address: IPv4 or IPv6, not zero,
// IPv4 within 32 bits.
func validIP(ipType uint8, ip scale.Uint128) bool {
	switch ipType {
	case 4:
		return ip != (scale.Uint128{}) && ip.Hi == 0 && ip.Lo < math.MaxUint32
	case 6:
		return ip != (scale.Uint128{})
	}
	return false
}

// apply dispatches an included extrinsic: the nonce is taken whatever the
// outcome, and the outcome is an event. The error is the chain's own: an
// outcome the metadata cannot express.
func (c *Chain) apply(st *State, x *substrate.Extrinsic, ev *eventLog) error {
	who := AccountID(x.Signer)
	st.account(who).Nonce++
	cl, err := c.decodeCall(x.Call)
	if err != nil {
		return ev.failed("System", "CallFiltered")
	}
	if errName := c.dispatch(st, who, cl, ev); errName != "" {
		return ev.failed(subtensor.Pallet, errName)
	}
	ev.success(dispatchNormal)
	return nil
}

// dispatch runs a call and returns the name of its SubtensorModule error,
// "" on success.
func (c *Chain) dispatch(st *State, who AccountID, cl call, ev *eventLog) string {
	if cl.pallet != subtensor.Pallet {
		return "CallDisabled"
	}
	switch cl.name {
	case "serve_axon":
		a, err := parseAxon(cl.args)
		if err != nil {
			return "InvalidValue"
		}
		return serveAxon(st, who, a, ev)
	case "burned_register":
		var netuid uint16
		var hotkey [32]byte
		err := scale.Decode(cl.args, func(r *scale.Reader) (err error) {
			if netuid, err = r.U16(); err != nil {
				return
			}
			hotkey, err = r.Bytes32()
			return
		})
		if err != nil {
			return "InvalidValue"
		}
		return burnedRegister(st, who, netuid, hotkey, ev)
	case "register_limit":
		var netuid uint16
		var hotkey [32]byte
		var limit uint64
		err := scale.Decode(cl.args, func(r *scale.Reader) (err error) {
			if netuid, err = r.U16(); err != nil {
				return
			}
			if hotkey, err = r.Bytes32(); err != nil {
				return
			}
			limit, err = r.U64()
			return
		})
		if err != nil {
			return "InvalidValue"
		}
		if s := st.Subnets[netuid]; s != nil && netuid != 0 && s.Burn > limit {
			return "RegistrationPriceLimitExceeded"
		}
		return burnedRegister(st, who, netuid, hotkey, ev)
	}
	name, _, ok := weightCall(cl.name)
	if !ok {
		return "CallDisabled"
	}
	a, err := parseArgs(cl.name, cl.args)
	if err != nil {
		return "InvalidValue"
	}
	s := st.Subnets[a.netuid]
	if s == nil {
		return "SubnetNotExists"
	}
	switch name {
	case "set_weights":
		if s.Params.CommitRevealWeightsEnable {
			return "CommitRevealEnabled"
		}
		return setWeights(st, s, who, a.mech, a.uids, a.values, a.versionKey, false, ev)
	case "commit_weights":
		return commitWeights(st, s, who, a.mech, a.hash, ev)
	case "reveal_weights":
		return revealWeights(st, s, who, a, ev)
	default:
		return commitTimelocked(st, s, who, a, ev)
	}
}

// setWeights is subtensor's do_set_weights, its checks in its order
// (subtensor pallets/subtensor/src/subnets/weights.rs, do_set_weights,
// and guards/check_weights.rs). revealed skips what a reveal's commit already settled: the
// rate limit and the LastUpdate bump.
func setWeights(st *State, s *Subnet, who AccountID, m uint8, uids, values []uint16, versionKey uint64, revealed bool, ev *eventLog) string {
	current := st.Number
	n := len(s.Neurons)
	switch {
	case s.Netuid == 0:
		return "CanNotSetRootNetworkWeights"
	case len(uids) != len(values):
		return "WeightVecNotEqualSize"
	case m >= s.mechanisms():
		return "MechanismDoesNotExist"
	case len(uids) > n:
		return "UidsLengthExceedUidsInSubNet"
	}
	uid, ok := s.uid(who)
	if !ok {
		return "HotKeyNotRegisteredInSubNet"
	}
	nr := s.Neurons[uid]
	nm := nr.mech(m)
	if who != s.OwnerHotkey && nr.Stake < st.StakeThreshold {
		return "NotEnoughStakeToSetWeights"
	}
	if s.Params.WeightsVersion != 0 && versionKey < s.Params.WeightsVersion {
		return "IncorrectWeightVersionKey"
	}
	if lu := *nm.lastUpdate; !revealed && !s.Params.CommitRevealWeightsEnable && lu > 0 && current-lu < s.Params.WeightsRateLimit {
		return "SettingWeightsTooFast"
	}
	selfWeight := len(uids) == 1 && uids[0] == uid
	ownerUID, hasOwner := s.uid(s.OwnerHotkey)
	if !nr.ValidatorPermit && !selfWeight && !(hasOwner && ownerUID == uid) {
		return "NeuronNoValidatorPermit"
	}
	seen := make(map[uint16]bool, len(uids))
	for _, u := range uids {
		if seen[u] {
			return "DuplicateUids"
		}
		seen[u] = true
	}
	for _, u := range uids {
		if int(u) >= n {
			return "UidVecContainInvalidOne"
		}
	}
	if !selfWeight && len(values) < min(int(s.Params.MinAllowedWeights), n) {
		return "WeightVecLengthIsLow"
	}
	up := yuma.MaxUpscale(values)
	// Runtimes before the stateful scheduler enforced MaxWeightsLimit;
	// today's subtensor reads the limit as the constant 65535 (its getter
	// ignores the stored value), so nothing is refused.
	if !s.stateful && !selfWeight && !yuma.MaxWeightLimited(up, s.Params.MaxWeightsLimit) {
		return "MaxWeightExceeded"
	}
	row := make([]WeightEntry, 0, len(uids))
	for i, u := range uids {
		row = append(row, WeightEntry{UID: u, Value: up[i]})
	}
	*nm.weights = row
	if !revealed && !s.Params.CommitRevealWeightsEnable {
		*nm.lastUpdate = current
	}
	ev.emit(subtensor.Pallet, "WeightsSet", append(u16b(s.index(m)), u16b(uid)...))
	return ""
}

// dropExpired removes hash commits whose reveal epoch has passed (of
// every mechanism, as each has the same reveal period).
func dropExpired(s *Subnet, who AccountID, epoch uint64) {
	s.HashCommits[who] = slices.DeleteFunc(s.HashCommits[who], func(hc HashCommit) bool {
		return hc.Epoch+s.Params.CommitRevealPeriod < epoch
	})
	if len(s.HashCommits[who]) == 0 {
		delete(s.HashCommits, who)
	}
}

// commitChecks are what both kinds of commit check first: the mechanism
// exists, commit-reveal on, the hotkey registered, the mechanism's rate
// limit passed. It returns the neuron's state on the mechanism.
func commitChecks(st *State, s *Subnet, who AccountID, m uint8) (mech, string) {
	if m >= s.mechanisms() {
		return mech{}, "MechanismDoesNotExist"
	}
	if !s.Params.CommitRevealWeightsEnable {
		return mech{}, "CommitRevealDisabled"
	}
	uid, ok := s.uid(who)
	if !ok {
		return mech{}, "HotKeyNotRegisteredInSubNet"
	}
	nm := s.Neurons[uid].mech(m)
	if lu := *nm.lastUpdate; lu > 0 && st.Number-lu < s.Params.WeightsRateLimit {
		return mech{}, "CommittingWeightsTooFast"
	}
	return nm, ""
}

func commitWeights(st *State, s *Subnet, who AccountID, m uint8, hash [32]byte, ev *eventLog) string {
	nm, e := commitChecks(st, s, who, m)
	if e != "" {
		return e
	}
	epoch := s.epoch(st.Number)
	if s.HashCommits == nil {
		s.HashCommits = make(map[AccountID][]HashCommit)
	}
	dropExpired(s, who, epoch)
	mine := 0
	for _, hc := range s.HashCommits[who] {
		if hc.Mech == m {
			mine++
		}
	}
	if mine >= maxUnrevealed {
		return "TooManyUnrevealedCommits"
	}
	s.HashCommits[who] = append(s.HashCommits[who], HashCommit{Hash: hash, Epoch: epoch, Block: st.Number, Mech: m})
	*nm.lastUpdate = st.Number
	ev.emit(subtensor.Pallet, "WeightsCommitted", concat(who[:], u16b(s.index(m)), hash[:]))
	return ""
}

func revealWeights(st *State, s *Subnet, who AccountID, a weightsArgs, ev *eventLog) string {
	if a.mech >= s.mechanisms() {
		return "MechanismDoesNotExist"
	}
	if !s.Params.CommitRevealWeightsEnable {
		return "CommitRevealDisabled"
	}
	// The mechanism's own commits, and the others' to keep.
	var commits, others []HashCommit
	for _, hc := range s.HashCommits[who] {
		if hc.Mech == a.mech {
			commits = append(commits, hc)
		} else {
			others = append(others, hc)
		}
	}
	if len(commits) == 0 {
		return "NoWeightsCommitFound"
	}
	epoch := s.epoch(st.Number)
	h := subtensor.CommitHash(who, s.index(a.mech), a.uids, a.values, a.salt, a.versionKey)
	i := slices.IndexFunc(commits, func(hc HashCommit) bool { return hc.Hash == h })
	switch {
	case i < 0:
		return "InvalidRevealCommitHashNotMatch"
	case epoch < commits[i].Epoch+s.Params.CommitRevealPeriod:
		return "RevealTooEarly"
	case epoch > commits[i].Epoch+s.Params.CommitRevealPeriod:
		return "ExpiredWeightCommit"
	}
	if e := setWeights(st, s, who, a.mech, a.uids, a.values, a.versionKey, true, ev); e != "" {
		return e
	}
	// Revealing a commit drops it and every older one of its mechanism.
	s.HashCommits[who] = append(others, commits[i+1:]...)
	if len(s.HashCommits[who]) == 0 {
		delete(s.HashCommits, who)
	}
	ev.emit(subtensor.Pallet, "WeightsRevealed", concat(who[:], u16b(s.index(a.mech)), h[:]))
	return ""
}

func commitTimelocked(st *State, s *Subnet, who AccountID, a weightsArgs, ev *eventLog) string {
	if a.crVersion != st.CommitRevealWeightsVersion {
		return "IncorrectCommitRevealVersion"
	}
	nm, e := commitChecks(st, s, who, a.mech)
	if e != "" {
		return e
	}
	if len(a.commit) > timelock.MaxCommitSize {
		return "InvalidValue"
	}
	epoch := s.epoch(st.Number)
	if s.Timelocked == nil {
		s.Timelocked = make(map[uint64][]TimelockCommit)
	}
	mine := 0
	for _, tc := range s.Timelocked[epoch] {
		if tc.Who == who && tc.Mech == a.mech {
			mine++
		}
	}
	if mine >= maxUnrevealed {
		return "TooManyUnrevealedCommits"
	}
	s.Timelocked[epoch] = append(s.Timelocked[epoch], TimelockCommit{Who: who, Block: st.Number, Ciphertext: a.commit, Round: a.round, Mech: a.mech})
	*nm.lastUpdate = st.Number
	h := blake2b.Sum256(a.commit)
	ev.emit(subtensor.Pallet, "TimelockedWeightsCommitted", concat(who[:], u16b(s.index(a.mech)), h[:], u64b(a.round)))
	return ""
}

func serveAxon(st *State, who AccountID, a axonArgs, ev *eventLog) string {
	s := st.Subnets[a.netuid]
	if s == nil {
		return "SubnetNotExists"
	}
	uid, ok := s.uid(who)
	if !ok {
		return "HotKeyNotRegisteredInNetwork"
	}
	if a.ipType != 4 && a.ipType != 6 {
		return "InvalidIpType"
	}
	if !validIP(a.ipType, a.ip) {
		return "InvalidIpAddress"
	}
	if a.port == 0 {
		return "InvalidPort"
	}
	nr := s.Neurons[uid]
	if prev := nr.Axon; prev.Block > 0 && st.Number-prev.Block < s.Params.ServingRateLimit {
		return "ServingRateLimitExceeded"
	}
	nr.Axon = subtensor.AxonInfo{Block: st.Number, Version: a.version, IP: a.ip, Port: a.port, IPType: a.ipType, Protocol: a.protocol}
	ev.emit(subtensor.Pallet, "AxonServed", concat(u16b(a.netuid), who[:]))
	return ""
}

func burnedRegister(st *State, coldkey AccountID, netuid uint16, hotkey AccountID, ev *eventLog) string {
	s := st.Subnets[netuid]
	if s == nil || netuid == 0 {
		return "SubnetNotExists"
	}
	if !s.Params.RegistrationAllowed {
		return "SubNetRegistrationDisabled"
	}
	if _, ok := s.uid(hotkey); ok {
		return "HotKeyAlreadyRegisteredInSubNet"
	}
	for _, other := range st.Subnets {
		for _, nr := range other.Neurons {
			if nr.Hotkey == hotkey && nr.Coldkey != coldkey {
				return "NonAssociatedColdKey"
			}
		}
	}
	acct := st.account(coldkey)
	if acct.Free < s.Burn {
		return "NotEnoughBalanceToStake"
	}
	uid := len(s.Neurons)
	if uid >= int(s.MaxAllowedUids) {
		uid = pruneCandidate(s, st.Number)
		if uid < 0 {
			return "NoNeuronIdAvailable"
		}
	}
	acct.Free -= s.Burn
	nr := &Neuron{}
	nr.UID = uint16(uid)
	nr.Hotkey, nr.Coldkey = hotkey, coldkey
	nr.BlockAtRegistration = st.Number
	for m := range s.mechanisms() {
		*nr.mech(m).lastUpdate = st.Number
	}
	if uid == len(s.Neurons) {
		s.Neurons = append(s.Neurons, nr)
	} else {
		s.Neurons[uid] = nr
	}
	if s.stateful {
		bumpBurn(s)
	}
	ev.emit(subtensor.Pallet, "NeuronRegistered", concat(u16b(netuid), u16b(uint16(uid)), hotkey[:]))
	return ""
}

// pruneCandidate is the uid a registration replaces on a full subnet: the
// lowest emission outside the immunity period, the lowest uid on ties; -1
// when every uid is immune.
func pruneCandidate(s *Subnet, block uint64) int {
	best := -1
	for i, nr := range s.Neurons {
		if block-nr.BlockAtRegistration < uint64(s.Params.ImmunityPeriod) || nr.Hotkey == s.OwnerHotkey {
			continue
		}
		if best < 0 || nr.Emission < s.Neurons[best].Emission {
			best = i
		}
	}
	return best
}

func concat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}
