package meta

import "github.com/vigil-validator/vigil/bittensor/substrate"

// errorDef is one variant of a pallet's Error enum.
type errorDef struct {
	name string
	docs []string
}

// subtensor is pallet_subtensor as the localnet implements it: the calls a
// validator and a miner make, the events those calls and epochs emit, the
// storage a client reads to build a metagraph and to set weights, and the
// whole Error enum.
func (b *builder) subtensor() palletDef {
	r := b.r
	t := []TypeParam{ParamNone("T")}
	netuid := func(name string) Field { return f(name, b.u16, "NetUid") }
	mecid := f("mecid", b.u8, "MechId")
	u16s := func(name string) Field { return f(name, b.vecU16, "Vec<u16>") }
	u64f := func(name string) Field { return f(name, b.u64, "u64") }
	account := func(name string) Field { return f(name, b.account, "T::AccountId") }
	commit := f("commit", b.boundedBytes, "BoundedVec<u8, ConstU32<MAX_CRV3_COMMIT_SIZE_BYTES>>")
	axonFields := []Field{
		netuid("netuid"), f("version", b.u32, "u32"), f("ip", b.u128, "u128"), f("port", b.u16, "u16"),
		f("ip_type", b.u8, "u8"), f("protocol", b.u8, "u8"), f("placeholder1", b.u8, "u8"), f("placeholder2", b.u8, "u8"),
	}
	// Declaration order as in subtensor's dispatches.rs (it does not follow
	// the indices).
	calls := r.Enum("pallet_subtensor::pallet::Call", t,
		v(0, "set_weights", docs("Sets the caller's weights for the incentive mechanism of a subnet."),
			netuid("netuid"), u16s("dests"), u16s("weights"), u64f("version_key")),
		v(119, "set_mechanism_weights", docs("Sets the caller's weights for a mechanism of a subnet."),
			netuid("netuid"), mecid, u16s("dests"), u16s("weights"), u64f("version_key")),
		v(96, "commit_weights", docs("Commits a hash of the caller's weights, to be revealed later."),
			netuid("netuid"), f("commit_hash", b.h256, "H256")),
		v(115, "commit_mechanism_weights", docs("Commits a hash of the caller's weights for a mechanism, to be revealed later."),
			netuid("netuid"), mecid, f("commit_hash", b.h256, "H256")),
		v(97, "reveal_weights", docs("Reveals the weights of an earlier hash commit."),
			netuid("netuid"), u16s("uids"), u16s("values"), u16s("salt"), u64f("version_key")),
		v(116, "reveal_mechanism_weights", docs("Reveals the weights of an earlier hash commit for a mechanism."),
			netuid("netuid"), mecid, u16s("uids"), u16s("values"), u16s("salt"), u64f("version_key")),
		v(2, "add_stake", docs("Adds stake to a hotkey on a subnet, from the calling coldkey."),
			account("hotkey"), netuid("netuid"), f("amount_staked", b.u64, "TaoBalance")),
		v(3, "remove_stake", docs("Removes stake from a hotkey on a subnet, to the calling coldkey."),
			account("hotkey"), netuid("netuid"), f("amount_unstaked", b.u64, "AlphaBalance")),
		v(4, "serve_axon", docs("Serves or updates the axon information of the calling hotkey."), axonFields...),
		v(40, "serve_axon_tls", docs("Same as `serve_axon`, with a certificate."),
			append(append([]Field(nil), axonFields...), f("certificate", b.bytes, "Vec<u8>"))...),
		v(7, "burned_register", docs("Registers a hotkey on a subnet by burning the registration cost."),
			netuid("netuid"), account("hotkey")),
		v(134, "register_limit", docs("Registers a hotkey on a subnet by burning the registration cost, only if that", "cost at the block is at most `limit_price`."),
			netuid("netuid"), account("hotkey"), u64f("limit_price")),
		v(113, "commit_timelocked_weights", docs("Commits weights encrypted to a drand round, revealed by the chain."),
			netuid("netuid"), commit, u64f("reveal_round"), f("commit_reveal_version", b.u16, "u16")),
		v(118, "commit_timelocked_mechanism_weights", docs("Commits weights for a mechanism encrypted to a drand round, revealed by the chain."),
			netuid("netuid"), mecid, commit, u64f("reveal_round"), f("commit_reveal_version", b.u16, "u16")),
	)

	// Most subtensor events have positional fields.
	p := func(ty uint32, typeName string) Field { return f("", ty, typeName) }
	acct := p(b.account, "T::AccountId")
	events := r.Enum("pallet_subtensor::pallet::Event", t,
		v(0, "NetworkAdded", docs("a new network is added."), p(b.u16, "NetUid"), p(b.u16, "u16")),
		v(2, "StakeAdded", docs("stake has been transferred from the a coldkey account onto the hotkey staking account."),
			acct, acct, p(b.u64, "TaoBalance"), p(b.u64, "AlphaBalance"), p(b.u16, "NetUid"), p(b.u64, "u64")),
		v(3, "StakeRemoved", docs("stake has been removed from the hotkey staking account onto the coldkey account."),
			acct, acct, p(b.u64, "TaoBalance"), p(b.u64, "AlphaBalance"), p(b.u16, "NetUid"), p(b.u64, "u64")),
		v(5, "WeightsSet", docs("a caller successfully sets their weights on a subnetwork."), p(b.u16, "NetUidStorageIndex"), p(b.u16, "u16")),
		v(6, "NeuronRegistered", docs("a new neuron account has been registered to the chain."), p(b.u16, "NetUid"), p(b.u16, "u16"), acct),
		v(28, "AxonServed", docs("the axon server information is added to the network."), p(b.u16, "NetUid"), acct),
		v(85, "WeightsCommitted", docs("Weights have been successfully committed."), acct, p(b.u16, "NetUidStorageIndex"), p(b.h256, "H256")),
		v(86, "WeightsRevealed", docs("Weights have been successfully revealed."), acct, p(b.u16, "NetUidStorageIndex"), p(b.h256, "H256")),
		v(99, "CRV3WeightsRevealed", docs("CRV3 Weights have been successfully revealed."), p(b.u16, "NetUid"), acct),
		v(107, "TimelockedWeightsCommitted", docs("Timelocked weights have been successfully committed."),
			acct, p(b.u16, "NetUidStorageIndex"), p(b.h256, "H256"), p(b.u64, "u64")),
		v(108, "TimelockedWeightsRevealed", docs("Timelocked Weights have been successfully revealed."), p(b.u16, "NetUidStorageIndex"), acct),
		v(110, "IncentiveAlphaEmittedToMiners", docs("End-of-epoch miner incentive alpha by UID"),
			f("netuid", b.u16, "NetUidStorageIndex"), f("emissions", b.vecU64, "Vec<AlphaBalance>")),
		// Localnet only, at an index finney leaves free: subtensor drops a
		// timelocked commit that does not decrypt or decode in silence; a
		// development chain says so.
		v(LocalOnlyEventIndex, "TimelockedWeightsDropped", docs("Localnet only: a timelocked commit could not be decrypted, decoded or applied at its reveal, and was dropped."),
			p(b.u16, "NetUidStorageIndex"), acct, p(b.u64, "u64")),
	)

	errs := make([]Variant, len(subtensorErrors))
	for i, e := range subtensorErrors {
		errs[i] = v(uint8(i), e.name, e.docs)
	}
	errors := r.Enum("pallet_subtensor::pallet::Error", t, errs...)

	return palletDef{Pallet: Pallet{
		Name:    "SubtensorModule",
		Index:   PalletSubtensor,
		Storage: &Storage{Prefix: "SubtensorModule", Entries: b.subtensorStorage()},
		Calls:   Ref(calls),
		Events:  Ref(events),
		Errors:  Ref(errors),
	}, eventTypeName: "pallet_subtensor::Event<Runtime>"}
}

// subtensorStorage lists the items in finney's declaration order, with its
// hashers and its runtime defaults (which is what an unset ValueQuery item
// reads as).
func (b *builder) subtensorStorage() []StorageEntry {
	r := b.r
	ident, b2c, t64c := substrate.Identity, substrate.Blake2_128Concat, substrate.Twox64Concat
	hs := func(h ...Hasher) []Hasher { return h }
	u16, u64, boolT, account := b.u16, b.u64, b.boolT, b.account
	byNetuid := func(name string, ty uint32, def []byte) StorageEntry {
		return mapItem(name, identity(), u16, ty, def)
	}
	zeroAccount := zeros(32)
	empty := []byte{0} // an empty Vec
	fixedU128 := r.Composite("substrate_fixed::FixedU128", nil, f("bits", b.u128, "u128"))
	netuidUID := r.Tuple(u16, u16)
	netuidAccount := r.Tuple(u16, account)
	accountNetuid := r.Tuple(account, u16)
	sparse := r.Seq(r.Tuple(u16, u16))
	axon := r.Composite("pallet_subtensor::pallet::AxonInfo", nil,
		f("block", u64, "u64"), f("version", b.u32, "u32"), f("ip", b.u128, "u128"), f("port", u16, "u16"),
		f("ip_type", b.u8, "u8"), f("protocol", b.u8, "u8"), f("placeholder1", b.u8, "u8"), f("placeholder2", b.u8, "u8"))
	certificate := r.Composite("pallet_subtensor::pallet::NeuronCertificate", nil,
		f("public_key", b.boundedBytes, "BoundedVec<u8, ConstU32<64>>"), f("algorithm", b.u8, "u8"))
	prometheus := r.Composite("pallet_subtensor::pallet::PrometheusInfo", nil,
		f("block", u64, "u64"), f("version", b.u32, "u32"), f("ip", b.u128, "u128"), f("port", u16, "u16"), f("ip_type", b.u8, "u8"))
	// WeightCommits: VecDeque<(hash, commit epoch, commit block, 0)>.
	hashCommits := r.Seq(r.Tuple(b.h256, u64, u64, u64))
	// TimelockedWeightCommits: VecDeque<(hotkey, commit block, ciphertext, reveal round)>.
	timelocked := r.Seq(r.Tuple(account, u64, b.boundedBytes, u64))

	entries := []StorageEntry{
		value("TaoWeight", u64, le64(971_718_665_099_567_868)),
		mapItem("Owner", blake2Concat(), account, account, zeroAccount),
		mapItem("Delegates", blake2Concat(), account, u16, le16(11_796)),
		value("TotalIssuance", u64, zeros(8)),
		value("TotalStake", u64, zeros(8)),
		byNetuid("SubnetTAO", u64, zeros(8)),
		byNetuid("SubnetAlphaIn", u64, zeros(8)),
		byNetuid("SubnetAlphaOut", u64, zeros(8)),
		mapItem("StakingHotkeys", blake2Concat(), account, b.accounts, empty),
		mapItem("OwnedHotkeys", blake2Concat(), account, b.accounts, empty),
		mapItem("TotalHotkeyAlpha", hs(b2c, ident), accountNetuid, u64, zeros(8)),
		mapItem("TotalHotkeyShares", hs(b2c, ident), accountNetuid, fixedU128, zeros(16)),
		mapItem("Alpha", hs(b2c, b2c, ident), r.Tuple(account, account, u16), fixedU128, zeros(16)),
		byNetuid("MaxRegistrationsPerBlock", u16, le16(1)),
		value("TotalNetworks", u16, zeros(2)),
		byNetuid("Tempo", u16, le16(360)),
		byNetuid("SubnetMechanism", u16, zeros(2)),
		byNetuid("SubnetworkN", u16, zeros(2)),
		byNetuid("NetworksAdded", boolT, boolByte(false)),
		mapItem("IsNetworkMember", hs(b2c, ident), accountNetuid, boolT, boolByte(false)),
		byNetuid("NetworkRegistrationAllowed", boolT, boolByte(true)),
		byNetuid("BlocksSinceLastStep", u64, zeros(8)),
		byNetuid("LastMechansimStepBlock", u64, zeros(8)), // sic, as finney spells it
		byNetuid("SubnetOwner", account, zeroAccount),
		byNetuid("SubnetOwnerHotkey", account, zeroAccount),
		byNetuid("ServingRateLimit", u64, le64(50)),
		byNetuid("Kappa", u16, le16(32_767)),
		byNetuid("RegistrationsThisInterval", u16, zeros(2)),
		byNetuid("MaxAllowedUids", u16, le16(4096)),
		byNetuid("ImmunityPeriod", u16, le16(4096)),
		byNetuid("ActivityCutoff", u16, le16(5000)),
		byNetuid("MaxWeightsLimit", u16, le16(65_535)),
		byNetuid("WeightsVersionKey", u64, zeros(8)),
		byNetuid("MinAllowedWeights", u16, le16(1024)),
		byNetuid("MaxAllowedValidators", u16, le16(128)),
		byNetuid("BondsMovingAverage", u64, le64(900_000)),
		byNetuid("BondsPenalty", u16, le16(65_535)),
		byNetuid("WeightsSetRateLimit", u64, le64(100)),
		byNetuid("TargetRegistrationsPerInterval", u16, le16(2)),
		byNetuid("CommitRevealWeightsEnabled", boolT, boolByte(true)),
		byNetuid("Burn", u64, le64(100_000_000)),
		byNetuid("Difficulty", u64, le64(10_000_000)),
		byNetuid("MinBurn", u64, le64(500_000)),
		byNetuid("MaxBurn", u64, le64(100_000_000_000)),
		byNetuid("RegistrationsThisBlock", u16, zeros(2)),
		value("TxRateLimit", u64, le64(1000)),
		mapItem("LiquidAlphaOn", blake2Concat(), u16, boolT, boolByte(false)),
		mapItem("Yuma3On", blake2Concat(), u16, boolT, boolByte(false)),
		byNetuid("AlphaValues", r.Tuple(u16, u16), append(le16(45_875), le16(58_982)...)),
		optionalMap("Uids", hs(ident, b2c), netuidAccount, u16),
		mapItem("Keys", hs(ident, ident), netuidUID, account, zeroAccount),
		byNetuid("Active", b.vecBool, empty),
		byNetuid("Rank", b.vecU16, empty),
		byNetuid("Trust", b.vecU16, empty),
		byNetuid("Consensus", b.vecU16, empty),
		byNetuid("Incentive", b.vecU16, empty),
		byNetuid("Dividends", b.vecU16, empty),
		byNetuid("Emission", b.vecU64, empty),
		byNetuid("LastUpdate", b.vecU64, empty),
		byNetuid("ValidatorTrust", b.vecU16, empty),
		byNetuid("PruningScores", b.vecU16, empty),
		byNetuid("ValidatorPermit", b.vecBool, empty),
		mapItem("Weights", hs(ident, ident), netuidUID, sparse, empty),
		mapItem("Bonds", hs(ident, ident), netuidUID, sparse, empty),
		mapItem("BlockAtRegistration", hs(ident, ident), netuidUID, u64, zeros(8)),
		optionalMap("Axons", hs(ident, b2c), netuidAccount, axon),
		optionalMap("NeuronCertificates", hs(ident, b2c), netuidAccount, certificate),
		optionalMap("Prometheus", hs(ident, b2c), netuidAccount, prometheus),
		value("StakeThreshold", u64, zeros(8)),
		optionalMap("WeightCommits", hs(t64c, t64c), netuidAccount, hashCommits),
		mapItem("TimelockedWeightCommits", hs(t64c, t64c), r.Tuple(u16, u64), timelocked, empty),
		mapItem("RevealPeriodEpochs", twoxConcat(), u16, u64, le64(1)),
		value("CommitRevealWeightsVersion", u16, le16(4)),
		mapItem("MechanismCountCurrent", twoxConcat(), u16, b.u8, []byte{1}),
	}
	if b.statefulEpochs {
		// The stateful epoch scheduler (subtensor spec 423 on).
		entries = append(entries,
			byNetuid("LastEpochBlock", u64, zeros(8)),
			byNetuid("PendingEpochAt", u64, zeros(8)),
			byNetuid("SubnetEpochIndex", u64, zeros(8)),
		)
	}
	return entries
}
