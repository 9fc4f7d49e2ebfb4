package meta

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"sync"

	"github.com/vigil-validator/vigil/bittensor/scale"
	"github.com/vigil-validator/vigil/bittensor/substrate"
)

// Pallet indices of the localnet runtime: finney's, so that call bytes,
// event records and module errors mean the same on both chains.
const (
	PalletSystem             = 0
	PalletTimestamp          = 2
	PalletBalances           = 5
	PalletTransactionPayment = 6
	PalletSubtensor          = 7
	PalletDrand              = 26
)

var encoded = sync.OnceValues(func() ([]byte, error) { return Runtime().Encode() })

var decoded = sync.OnceValues(func() (*substrate.Metadata, error) {
	b, err := encoded()
	if err != nil {
		return nil, err
	}
	return substrate.DecodeMetadata(b)
})

var encodedLegacy = sync.OnceValues(func() ([]byte, error) { return RuntimeFor(false).Encode() })

var decodedLegacy = sync.OnceValues(func() (*substrate.Metadata, error) {
	b, err := encodedLegacy()
	if err != nil {
		return nil, err
	}
	return substrate.DecodeMetadata(b)
})

// MetadataFor is Metadata for a runtime with (stateful) or without the
// stateful epoch scheduler's storage (LastEpochBlock, PendingEpochAt,
// SubnetEpochIndex): clients choose the scheduler by what the metadata
// has, so a localnet on the legacy schedule must not list them.
func MetadataFor(stateful bool) []byte {
	if stateful {
		return Metadata()
	}
	b, err := encodedLegacy()
	if err != nil {
		panic(err)
	}
	return append([]byte(nil), b...)
}

// DecodedFor is Decoded for MetadataFor(stateful); shared, read only.
func DecodedFor(stateful bool) *substrate.Metadata {
	if stateful {
		return Decoded()
	}
	m, err := decodedLegacy()
	if err != nil {
		panic(err)
	}
	return m
}

var encodedHex = sync.OnceValue(func() string { return "0x" + hex.EncodeToString(Metadata()) })

// Metadata returns the localnet runtime's metadata, "meta" ‖ 0x0e ‖
// RuntimeMetadataV14, as state_getMetadata serves it. The bytes are built
// once; each call returns a copy.
func Metadata() []byte {
	b, err := encoded()
	if err != nil {
		// The definitions are fixed at compile time and tested; failing
		// here is a bug in this package.
		panic(err)
	}
	return append([]byte(nil), b...)
}

// Hex returns Metadata as 0x-prefixed hex, the JSON-RPC form.
func Hex() string { return encodedHex() }

// Decoded returns Metadata decoded by vigil's own decoder, for look-ups
// (calls, errors, storage entries and their defaults). It is shared: callers
// must not modify it.
func Decoded() *substrate.Metadata {
	m, err := decoded()
	if err != nil {
		panic(err)
	}
	return m
}

// EventIndex returns the pallet and variant indices of an event, as an
// event record encodes them.
func EventIndex(pallet, event string) (palletIndex, eventIndex uint8, err error) {
	return variantIndex(pallet, event, "event", func(p *substrate.Pallet) *uint32 { return p.Events })
}

// ErrorIndex returns the pallet and variant indices of a module error, as
// DispatchError::Module carries them (the variant index is the first byte
// of its error field).
func ErrorIndex(pallet, name string) (palletIndex, errorIndex uint8, err error) {
	return variantIndex(pallet, name, "error", func(p *substrate.Pallet) *uint32 { return p.Errors })
}

func variantIndex(pallet, name, what string, enum func(*substrate.Pallet) *uint32) (uint8, uint8, error) {
	m := Decoded()
	p, ok := m.Pallet(pallet)
	if !ok {
		return 0, 0, fmt.Errorf("meta: no pallet %s", pallet)
	}
	if id := enum(p); id != nil {
		for _, v := range m.Types[*id].Variants {
			if v.Name == name {
				return p.Index, v.Index, nil
			}
		}
	}
	return 0, 0, fmt.Errorf("meta: no %s %s.%s", what, pallet, name)
}

// Runtime returns a fresh description of the localnet runtime's metadata,
// ready to encode; Metadata is its cached encoding.
func Runtime() *MetadataV14 { return RuntimeFor(true) }

// RuntimeFor is Runtime with or without the stateful epoch scheduler.
func RuntimeFor(stateful bool) *MetadataV14 {
	b := newBuilder()
	b.statefulEpochs = stateful
	pallets := []palletDef{
		b.system(),
		b.timestamp(),
		b.balances(),
		b.transactionPayment(),
		b.subtensor(),
		b.drand(),
	}
	m := &MetadataV14{Types: b.r}
	var calls, events []Variant
	for _, p := range pallets {
		m.Pallets = append(m.Pallets, p.Pallet)
		if p.Calls != nil {
			calls = append(calls, v(p.Index, p.Name, nil, f("", *p.Calls, "CallableCallFor<"+p.Name+", Runtime>")))
		}
		if p.Events != nil {
			events = append(events, v(p.Index, p.Name, nil, f("", *p.Events, p.eventTypeName)))
		}
	}
	// The outer enums were reserved first because pallet types refer to
	// them (EventRecord holds RuntimeEvent, the extrinsic holds RuntimeCall).
	b.r.Define(b.runtimeCall, Type{Path: Path("node_subtensor_runtime::RuntimeCall"), Kind: substrate.KindVariant, Variants: calls})
	b.r.Define(b.runtimeEvent, Type{Path: Path("node_subtensor_runtime::RuntimeEvent"), Kind: substrate.KindVariant, Variants: events})
	m.Extrinsic = b.extrinsic()
	m.RuntimeType = b.runtime
	return m
}

// palletDef is a pallet with the type name its events have inside
// RuntimeEvent.
type palletDef struct {
	Pallet
	eventTypeName string
}

// builder holds the types the pallets share.
type builder struct {
	r                                  *Registry
	boolT, u8, u16, u32, u64, u128     uint32
	bytes, vecU16, vecU64, vecBool     uint32
	compactU64                         uint32
	account, h256, bytes32             uint32
	accounts                           uint32
	multiAddress, multiSignature       uint32
	dispatchError, dispatchEventInfo   uint32
	runtimeCall, runtimeEvent, runtime uint32
	boundedBytes                       uint32 // BoundedVec<u8, _>
	statefulEpochs                     bool   // the runtime has LastEpochBlock & co
}

func newBuilder() *builder {
	r := NewRegistry()
	b := &builder{r: r}
	// Ids 0 and 1 as on finney (AccountId32 and its [u8; 32]); clients
	// look types up by id only through the metadata, so the rest of the
	// numbering is free.
	b.account = r.Reserve()
	b.u8 = r.Prim(U8)
	b.bytes32 = r.Array(32, b.u8)
	r.Define(b.account, Type{Path: Path("sp_core::crypto::AccountId32"), Fields: []Field{f("", b.bytes32, "[u8; 32]")}})
	b.boolT, b.u16, b.u32, b.u64, b.u128 = r.Prim(Bool), r.Prim(U16), r.Prim(U32), r.Prim(U64), r.Prim(U128)
	b.bytes, b.vecU16, b.vecU64, b.vecBool = r.Seq(b.u8), r.Seq(b.u16), r.Seq(b.u64), r.Seq(b.boolT)
	b.compactU64 = r.Compact(b.u64)
	b.accounts = r.Seq(b.account)
	b.h256 = r.Composite("primitive_types::H256", nil, f("", b.bytes32, "[u8; 32]"))
	b.boundedBytes = r.Composite("bounded_collections::bounded_vec::BoundedVec", []TypeParam{Param("T", b.u8), ParamNone("S")}, f("", b.bytes, "Vec<T>"))
	b.runtimeCall = r.Reserve()
	b.runtimeEvent = r.Reserve()
	b.runtime = r.Composite("node_subtensor_runtime::Runtime", nil)
	unit := r.Tuple()
	b.multiAddress = r.Enum("sp_runtime::multiaddress::MultiAddress",
		[]TypeParam{Param("AccountId", b.account), Param("AccountIndex", unit)},
		v(0, "Id", nil, f("", b.account, "AccountId")),
		v(1, "Index", nil, f("", r.Compact(unit), "AccountIndex")),
		v(2, "Raw", nil, f("", b.bytes, "Vec<u8>")),
		v(3, "Address32", nil, f("", b.bytes32, "[u8; 32]")),
		v(4, "Address20", nil, f("", r.Array(20, b.u8), "[u8; 20]")),
	)
	b.multiSignature = r.Enum("sp_runtime::MultiSignature", nil,
		v(0, "Ed25519", nil, f("", r.Array(64, b.u8), "ed25519::Signature")),
		v(1, "Sr25519", nil, f("", r.Array(64, b.u8), "sr25519::Signature")),
		v(2, "Ecdsa", nil, f("", r.Array(65, b.u8), "ecdsa::Signature")),
	)
	b.dispatchError = b.newDispatchError()
	weight := r.Composite("sp_weights::weight_v2::Weight", nil,
		f("ref_time", b.compactU64, "u64"), f("proof_size", b.compactU64, "u64"))
	class := r.Enum("frame_support::dispatch::DispatchClass", nil,
		v(0, "Normal", nil), v(1, "Operational", nil), v(2, "Mandatory", nil))
	pays := r.Enum("frame_support::dispatch::Pays", nil, v(0, "Yes", nil), v(1, "No", nil))
	b.dispatchEventInfo = r.Composite("frame_system::DispatchEventInfo", nil,
		f("weight", weight, "Weight"), f("class", class, "DispatchClass"), f("pays_fee", pays, "Pays"))
	return b
}

// newDispatchError defines sp_runtime::DispatchError as finney has it: a
// module error is {index: u8, error: [u8; 4]}, its first byte the variant
// index of the pallet's Error enum.
func (b *builder) newDispatchError() uint32 {
	r := b.r
	module := r.Composite("sp_runtime::ModuleError", nil,
		f("index", b.u8, "u8"), f("error", r.Array(4, b.u8), "[u8; MAX_MODULE_ERROR_ENCODED_SIZE]"))
	token := r.Enum("sp_runtime::TokenError", nil, units("FundsUnavailable", "OnlyProvider", "BelowMinimum", "CannotCreate",
		"UnknownAsset", "Frozen", "Unsupported", "CannotCreateHold", "NotExpendable", "Blocked")...)
	arith := r.Enum("sp_arithmetic::ArithmeticError", nil, units("Underflow", "Overflow", "DivisionByZero")...)
	trans := r.Enum("sp_runtime::TransactionalError", nil, units("LimitReached", "NoLayer")...)
	trie := r.Enum("sp_runtime::proving_trie::TrieError", nil, units("InvalidStateRoot", "IncompleteDatabase",
		"ValueAtIncompleteKey", "DecoderError", "InvalidHash", "DuplicateKey", "ExtraneousNode", "ExtraneousValue",
		"ExtraneousHashReference", "InvalidChildReference", "ValueMismatch", "IncompleteProof", "RootMismatch", "DecodeError")...)
	return r.Enum("sp_runtime::DispatchError", nil,
		v(0, "Other", nil),
		v(1, "CannotLookup", nil),
		v(2, "BadOrigin", nil),
		v(3, "Module", nil, f("", module, "ModuleError")),
		v(4, "ConsumerRemaining", nil),
		v(5, "NoProviders", nil),
		v(6, "TooManyConsumers", nil),
		v(7, "Token", nil, f("", token, "TokenError")),
		v(8, "Arithmetic", nil, f("", arith, "ArithmeticError")),
		v(9, "Transactional", nil, f("", trans, "TransactionalError")),
		v(10, "Exhausted", nil),
		v(11, "Corruption", nil),
		v(12, "Unavailable", nil),
		v(13, "RootNotAllowed", nil),
		v(14, "Trie", nil, f("", trie, "TrieError")),
	)
}

func (b *builder) system() palletDef {
	r := b.r
	accountData := r.Composite("pallet_balances::types::AccountData", []TypeParam{Param("Balance", b.u64)},
		f("free", b.u64, "Balance"), f("reserved", b.u64, "Balance"), f("frozen", b.u64, "Balance"),
		f("flags", r.Composite("pallet_balances::types::ExtraFlags", nil, f("", b.u128, "u128")), "ExtraFlags"))
	accountInfo := r.Composite("frame_system::AccountInfo", []TypeParam{Param("Nonce", b.u32), Param("AccountData", accountData)},
		f("nonce", b.u32, "Nonce"), f("consumers", b.u32, "RefCount"), f("providers", b.u32, "RefCount"),
		f("sufficients", b.u32, "RefCount"), f("data", accountData, "AccountData"))
	phase := r.Enum("frame_system::Phase", nil,
		v(0, "ApplyExtrinsic", nil, f("", b.u32, "u32")), v(1, "Finalization", nil), v(2, "Initialization", nil))
	record := r.Composite("frame_system::EventRecord", []TypeParam{Param("E", b.runtimeEvent), Param("T", b.h256)},
		f("phase", phase, "Phase"), f("event", b.runtimeEvent, "E"), f("topics", r.Seq(b.h256), "Vec<T>"))
	dbWeight := r.Composite("sp_weights::RuntimeDbWeight", nil, f("read", b.u64, "u64"), f("write", b.u64, "u64"))

	calls := r.Enum("frame_system::pallet::Call", []TypeParam{ParamNone("T")},
		v(0, "remark", docs("Make some on-chain remark."), f("remark", b.bytes, "Vec<u8>")),
		v(7, "remark_with_event", docs("Make some on-chain remark and emit event."), f("remark", b.bytes, "Vec<u8>")),
	)
	events := r.Enum("frame_system::pallet::Event", []TypeParam{ParamNone("T")},
		v(0, "ExtrinsicSuccess", docs("An extrinsic completed successfully."), f("dispatch_info", b.dispatchEventInfo, "DispatchEventInfo")),
		v(1, "ExtrinsicFailed", docs("An extrinsic failed."), f("dispatch_error", b.dispatchError, "DispatchError"), f("dispatch_info", b.dispatchEventInfo, "DispatchEventInfo")),
		v(2, "CodeUpdated", docs("`:code` was updated.")),
		v(3, "NewAccount", docs("A new account was created."), f("account", b.account, "T::AccountId")),
		v(4, "KilledAccount", docs("An account was reaped."), f("account", b.account, "T::AccountId")),
		v(5, "Remarked", docs("On on-chain remark happened."), f("sender", b.account, "T::AccountId"), f("hash", b.h256, "T::Hash")),
		v(6, "UpgradeAuthorized", docs("An upgrade was authorized."), f("code_hash", b.h256, "T::Hash"), f("check_version", b.boolT, "bool")),
		v(7, "RejectedInvalidAuthorizedUpgrade", docs("An invalid authorized upgrade was rejected while trying to apply it."), f("code_hash", b.h256, "T::Hash"), f("error", b.dispatchError, "DispatchError")),
	)
	errors := r.Enum("frame_system::pallet::Error", []TypeParam{ParamNone("T")},
		v(0, "InvalidSpecName", docs("The name of specification does not match between the current runtime", "and the new runtime.")),
		v(1, "SpecVersionNeedsToIncrease", docs("The specification version is not allowed to decrease between the current runtime", "and the new runtime.")),
		v(2, "FailedToExtractRuntimeVersion", docs("Failed to extract the runtime version from the new runtime.", "", "Either calling `Core_version` or decoding `RuntimeVersion` failed.")),
		v(3, "NonDefaultComposite", docs("Suicide called when the account has non-default composite data.")),
		v(4, "NonZeroRefCount", docs("There is a non-zero reference count preventing the account from being purged.")),
		v(5, "CallFiltered", docs("The origin filter prevent the call to be dispatched.")),
		v(6, "MultiBlockMigrationsOngoing", docs("A multi-block migration is ongoing and prevents the current code from being replaced.")),
		v(7, "NothingAuthorized", docs("No upgrade authorized.")),
		v(8, "Unauthorized", docs("The submitted code is not authorized.")),
	)
	// AccountData.flags defaults to ExtraFlags' "new logic" bit (1 << 127).
	accountDefault := make([]byte, 56)
	accountDefault[55] = 0x80
	return palletDef{Pallet: Pallet{
		Name:  "System",
		Index: PalletSystem,
		Storage: &Storage{Prefix: "System", Entries: []StorageEntry{
			mapItem("Account", blake2Concat(), b.account, accountInfo, accountDefault, "The full account information for a particular account ID."),
			optionalValue("ExtrinsicCount", b.u32, "Total extrinsics count for the current block."),
			mapItem("BlockHash", twoxConcat(), b.u32, b.h256, zeros(32), "Map of block numbers to block hashes."),
			value("Number", b.u32, zeros(4), "The current block number being processed. Set by `execute_block`."),
			value("ParentHash", b.h256, zeros(32), "Hash of the previous block."),
			value("Events", r.Seq(record), []byte{0}, "Events deposited for the current block."),
			value("EventCount", b.u32, zeros(4), "The number of events in the `Events<T>` list."),
		}},
		Calls:  Ref(calls),
		Events: Ref(events),
		Constants: []Constant{
			{Name: "BlockHashCount", Type: b.u32, Value: le32(2400), Docs: docs("Maximum number of block number to block hash mappings to keep (oldest pruned first).")},
			{Name: "DbWeight", Type: dbWeight, Value: append(le64(25_000_000), le64(100_000_000)...), Docs: docs("The weight of runtime database operations the runtime can invoke.")},
			{Name: "SS58Prefix", Type: b.u16, Value: le16(42), Docs: docs("The designated SS58 prefix of this chain.")},
		},
		Errors: Ref(errors),
	}, eventTypeName: "frame_system::Event<Runtime>"}
}

func (b *builder) timestamp() palletDef {
	r := b.r
	calls := r.Enum("pallet_timestamp::pallet::Call", []TypeParam{ParamNone("T")},
		v(0, "set", docs("Set the current time."), f("now", b.compactU64, "T::Moment")))
	return palletDef{Pallet: Pallet{
		Name:  "Timestamp",
		Index: PalletTimestamp,
		Storage: &Storage{Prefix: "Timestamp", Entries: []StorageEntry{
			value("Now", b.u64, zeros(8), "The current time for the current block."),
			value("DidUpdate", b.boolT, []byte{0}, "Whether the timestamp has been updated in this block."),
		}},
		Calls: Ref(calls),
		Constants: []Constant{
			{Name: "MinimumPeriod", Type: b.u64, Value: le64(6000), Docs: docs("The minimum period between blocks (half the 12 s block time).")},
		},
	}}
}

func (b *builder) balances() palletDef {
	r := b.r
	params := []TypeParam{ParamNone("T"), ParamNone("I")}
	status := r.Enum("frame_support::traits::tokens::misc::BalanceStatus", nil, v(0, "Free", nil), v(1, "Reserved", nil))
	calls := r.Enum("pallet_balances::pallet::Call", params,
		v(0, "transfer_allow_death", docs("Transfer some liquid free balance to another account."), f("dest", b.multiAddress, "AccountIdLookupOf<T>"), f("value", b.compactU64, "T::Balance")),
		v(3, "transfer_keep_alive", docs("Same as the [`transfer_allow_death`] call, but with a check that the transfer will not", "kill the origin account."), f("dest", b.multiAddress, "AccountIdLookupOf<T>"), f("value", b.compactU64, "T::Balance")),
		v(4, "transfer_all", docs("Transfer the entire transferable balance from the caller account."), f("dest", b.multiAddress, "AccountIdLookupOf<T>"), f("keep_alive", b.boolT, "bool")),
	)
	who := func(name string) Field { return f(name, b.account, "T::AccountId") }
	amount := func(name string) Field { return f(name, b.u64, "T::Balance") }
	events := r.Enum("pallet_balances::pallet::Event", params,
		v(0, "Endowed", docs("An account was created with some free balance."), who("account"), amount("free_balance")),
		v(1, "DustLost", docs("An account was removed whose balance was non-zero but below ExistentialDeposit,", "resulting in an outright loss."), who("account"), amount("amount")),
		v(2, "Transfer", docs("Transfer succeeded."), who("from"), who("to"), amount("amount")),
		v(3, "BalanceSet", docs("A balance was set by root."), who("who"), amount("free")),
		v(4, "Reserved", docs("Some balance was reserved (moved from free to reserved)."), who("who"), amount("amount")),
		v(5, "Unreserved", docs("Some balance was unreserved (moved from reserved to free)."), who("who"), amount("amount")),
		v(6, "ReserveRepatriated", docs("Some balance was moved from the reserve of the first account to the second account.", "Final argument indicates the destination balance type."), who("from"), who("to"), amount("amount"), f("destination_status", status, "Status")),
		v(7, "Deposit", docs("Some amount was deposited (e.g. for transaction fees)."), who("who"), amount("amount")),
		v(8, "Withdraw", docs("Some amount was withdrawn from the account (e.g. for transaction fees)."), who("who"), amount("amount")),
		v(9, "Slashed", docs("Some amount was removed from the account (e.g. for misbehavior)."), who("who"), amount("amount")),
		v(10, "Minted", docs("Some amount was minted into an account."), who("who"), amount("amount")),
		v(11, "Burned", docs("Some amount was burned from an account."), who("who"), amount("amount")),
		v(12, "Suspended", docs("Some amount was suspended from an account (it can be restored later)."), who("who"), amount("amount")),
		v(13, "Restored", docs("Some amount was restored into an account."), who("who"), amount("amount")),
		v(14, "Upgraded", docs("An account was upgraded."), who("who")),
		v(15, "Issued", docs("Total issuance was increased by `amount`, creating a credit to be balanced."), amount("amount")),
		v(16, "Rescinded", docs("Total issuance was decreased by `amount`, creating a debt to be balanced."), amount("amount")),
		v(17, "Locked", docs("Some balance was locked."), who("who"), amount("amount")),
		v(18, "Unlocked", docs("Some balance was unlocked."), who("who"), amount("amount")),
		v(19, "Frozen", docs("Some balance was frozen."), who("who"), amount("amount")),
		v(20, "Thawed", docs("Some balance was thawed."), who("who"), amount("amount")),
		v(21, "TotalIssuanceForced", docs("The `TotalIssuance` was forcefully changed."), amount("old"), amount("new")),
	)
	errors := r.Enum("pallet_balances::pallet::Error", params,
		v(0, "VestingBalance", docs("Vesting balance too high to send value.")),
		v(1, "LiquidityRestrictions", docs("Account liquidity restrictions prevent withdrawal.")),
		v(2, "InsufficientBalance", docs("Balance too low to send value.")),
		v(3, "ExistentialDeposit", docs("Value too low to create account due to existential deposit.")),
		v(4, "Expendability", docs("Transfer/payment would kill account.")),
		v(5, "ExistingVestingSchedule", docs("A vesting schedule already exists for this account.")),
		v(6, "DeadAccount", docs("Beneficiary account must pre-exist.")),
		v(7, "TooManyReserves", docs("Number of named reserves exceed `MaxReserves`.")),
		v(8, "TooManyHolds", docs("Number of holds exceed `VariantCountOf<T::RuntimeHoldReason>`.")),
		v(9, "TooManyFreezes", docs("Number of freezes exceed `MaxFreezes`.")),
		v(10, "IssuanceDeactivated", docs("The issuance cannot be modified since it is already deactivated.")),
		v(11, "DeltaZero", docs("The delta cannot be zero.")),
	)
	return palletDef{Pallet: Pallet{
		Name:  "Balances",
		Index: PalletBalances,
		Storage: &Storage{Prefix: "Balances", Entries: []StorageEntry{
			value("TotalIssuance", b.u64, zeros(8), "The total units issued in the system."),
			value("InactiveIssuance", b.u64, zeros(8), "The total units of outstanding deactivated balance in the system."),
		}},
		Calls:  Ref(calls),
		Events: Ref(events),
		Constants: []Constant{
			{Name: "ExistentialDeposit", Type: b.u64, Value: le64(500), Docs: docs("The minimum amount required to keep an account open.")},
			{Name: "MaxLocks", Type: b.u32, Value: le32(50), Docs: docs("The maximum number of locks that should exist on an account.")},
			{Name: "MaxReserves", Type: b.u32, Value: le32(50), Docs: docs("The maximum number of named reserves that can exist on an account.")},
			{Name: "MaxFreezes", Type: b.u32, Value: le32(50), Docs: docs("The maximum number of individual freeze locks that can exist on an account at any time.")},
		},
		Errors: Ref(errors),
	}, eventTypeName: "pallet_balances::Event<Runtime>"}
}

func (b *builder) transactionPayment() palletDef {
	events := b.r.Enum("pallet_transaction_payment::pallet::Event", []TypeParam{ParamNone("T")},
		v(0, "TransactionFeePaid", docs("A transaction fee `actual_fee`, of which `tip` was added to the minimum inclusion fee,", "has been paid by `who`."),
			f("who", b.account, "T::AccountId"), f("actual_fee", b.u64, "BalanceOf<T>"), f("tip", b.u64, "BalanceOf<T>")))
	multiplier := b.r.Composite("sp_arithmetic::fixed_point::FixedU128", nil, f("", b.u128, "u128"))
	return palletDef{Pallet: Pallet{
		Name:  "TransactionPayment",
		Index: PalletTransactionPayment,
		Storage: &Storage{Prefix: "TransactionPayment", Entries: []StorageEntry{
			// 1.0 in 18 decimals: fees are not scaled.
			value("NextFeeMultiplier", multiplier, le64x2(1_000_000_000_000_000_000, 0)),
		}},
		Events: Ref(events),
		Constants: []Constant{
			{Name: "OperationalFeeMultiplier", Type: b.u8, Value: []byte{5}, Docs: docs("A fee multiplier for `Operational` extrinsics to compute \"virtual tip\" to boost their", "`priority`.")},
		},
	}, eventTypeName: "pallet_transaction_payment::Event<Runtime>"}
}

func (b *builder) drand() palletDef {
	r := b.r
	pulse := r.Composite("pallet_drand::types::Pulse", nil,
		f("round", b.u64, "RoundNumber"),
		f("randomness", b.boundedBytes, "BoundedVec<u8, ConstU32<32>>"),
		f("signature", b.boundedBytes, "BoundedVec<u8, ConstU32<144>>"))
	signer := r.Enum("sp_runtime::MultiSigner", nil,
		v(0, "Ed25519", nil, f("", b.bytes32, "ed25519::Public")),
		v(1, "Sr25519", nil, f("", b.bytes32, "sr25519::Public")),
		v(2, "Ecdsa", nil, f("", r.Array(33, b.u8), "ecdsa::Public")))
	payload := r.Composite("pallet_drand::types::PulsesPayload", []TypeParam{Param("Public", signer), Param("BlockNumber", b.u32)},
		f("block_number", b.u32, "BlockNumber"), f("pulses", r.Seq(pulse), "Vec<Pulse>"), f("public", signer, "Public"))
	config := r.Composite("pallet_drand::types::BeaconConfiguration", nil,
		f("public_key", b.boundedBytes, "OpaquePublicKey"),
		f("period", b.u32, "u32"),
		f("genesis_time", b.u32, "u32"),
		f("hash", b.boundedBytes, "BoundedHash"),
		f("group_hash", b.boundedBytes, "BoundedHash"),
		f("scheme_id", b.boundedBytes, "BoundedHash"),
		f("metadata", r.Composite("pallet_drand::types::Metadata", nil, f("beacon_id", b.boundedBytes, "BoundedHash")), "Metadata"))
	calls := r.Enum("pallet_drand::pallet::Call", []TypeParam{ParamNone("T")},
		v(0, "write_pulse", docs("Verify and write a pulse from the beacon into the runtime"),
			f("pulses_payload", payload, "PulsesPayload<T::Public, BlockNumberFor<T>>"),
			f("signature", option(r, b.multiSignature), "Option<T::Signature>")))
	events := r.Enum("pallet_drand::pallet::Event", []TypeParam{ParamNone("T")},
		v(0, "BeaconConfigChanged", docs("Beacon Configuration has changed.")),
		v(1, "NewPulse", docs("Successfully set a new pulse(s)."), f("rounds", b.vecU64, "Vec<RoundNumber>")),
		v(2, "SetOldestStoredRound", docs("Oldest Stored Round has been set."), f("", b.u64, "u64")),
	)
	errors := r.Enum("pallet_drand::pallet::Error", []TypeParam{ParamNone("T")},
		v(0, "NoneValue", docs("The value retrieved was `None` as no value was previously set.")),
		v(1, "StorageOverflow", docs("There was an attempt to increment the value in storage over `u32::MAX`.")),
		v(2, "DrandConnectionFailure", docs("failed to connect to the")),
		v(3, "UnverifiedPulse", docs("the pulse is invalid")),
		v(4, "InvalidRoundNumber", docs("the round number did not increment")),
		v(5, "PulseVerificationError", docs("the pulse could not be verified")),
	)
	return palletDef{Pallet: Pallet{
		Name:  "Drand",
		Index: PalletDrand,
		Storage: &Storage{Prefix: "Drand", Entries: []StorageEntry{
			value("BeaconConfig", config, quicknetConfig(), "the drand beacon configuration"),
			optionalMap("Pulses", blake2Concat(), b.u64, pulse, "map round number to pulse"),
			value("LastStoredRound", b.u64, zeros(8), "the last drand round stored"),
			value("OldestStoredRound", b.u64, zeros(8), "oldest stored round"),
		}},
		Calls:  Ref(calls),
		Events: Ref(events),
		Errors: Ref(errors),
	}, eventTypeName: "pallet_drand::Event<Runtime>"}
}

// quicknetConfig is finney's default BeaconConfig: drand's quicknet chain
// (BLS12-381, signatures on G1, a round every 3 s), whose rounds the
// timelocked weight commits are encrypted to.
func quicknetConfig() []byte {
	e := scale.NewEncoder(256)
	bounded := func(h string) {
		b, err := hex.DecodeString(h)
		if err != nil {
			panic(err)
		}
		e.ByteSlice(b)
	}
	bounded("83cf0f2896adee7eb8b5f01fcad3912212c437e0073e911fb90022d3e760183c8c4b450b6a0a6c3ac6a5776a2d1064510d1fec758c921cc22b0e17e63aaf4bcb5ed66304de9cf809bd274ca73bab4af5a6e9c76a4bc09e76eae8991ef5ece45a")
	e.U32(3)          // period, seconds
	e.U32(1692803367) // genesis time
	bounded("52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971")
	bounded("f477d5c89f21a17c863a7f937c6a6d15859414d2be09cd448d4279af331c5d3e")
	e.String("bls-unchained-g1-rfc9380")
	e.String("quicknet")
	return e.Bytes()
}

// extrinsic declares the transaction extensions of subtensor spec 425
// (runtime/src/lib.rs, TxExtension: the system ones, then
// ChargeTransactionPaymentWrapper, which names itself
// ChargeTransactionPayment in metadata, SudoTransactionExtension,
// CheckShieldedTxValidity, SubtensorTransactionExtension, DrandPriority,
// CheckMetadataHash), in its order and with finney's types, so that a
// signed extrinsic has the same layout and signing payload on both chains.
func (b *builder) extrinsic() Extrinsic {
	r := b.r
	unit := r.Tuple()
	ext := r.Composite
	t := []TypeParam{ParamNone("T")}
	era := eraType(r, b.u8)
	mode := r.Enum("frame_metadata_hash_extension::Mode", nil, v(0, "Disabled", nil), v(1, "Enabled", nil))
	payment := ext("pallet_transaction_payment::ChargeTransactionPayment", t, f("", b.compactU64, "BalanceOf<T>"))
	list := []SignedExtension{
		{Identifier: "CheckNonZeroSender", Type: ext("frame_system::extensions::check_non_zero_sender::CheckNonZeroSender", t), AdditionalSigned: unit},
		{Identifier: "CheckSpecVersion", Type: ext("frame_system::extensions::check_spec_version::CheckSpecVersion", t), AdditionalSigned: b.u32},
		{Identifier: "CheckTxVersion", Type: ext("frame_system::extensions::check_tx_version::CheckTxVersion", t), AdditionalSigned: b.u32},
		{Identifier: "CheckGenesis", Type: ext("frame_system::extensions::check_genesis::CheckGenesis", t), AdditionalSigned: b.h256},
		{Identifier: "CheckMortality", Type: ext("frame_system::extensions::check_mortality::CheckMortality", t, f("", era, "Era")), AdditionalSigned: b.h256},
		{Identifier: "CheckNonce", Type: ext("node_subtensor_runtime::check_nonce::CheckNonce", t, f("", r.Compact(b.u32), "T::Nonce")), AdditionalSigned: unit},
		{Identifier: "CheckWeight", Type: ext("frame_system::extensions::check_weight::CheckWeight", t), AdditionalSigned: unit},
		{Identifier: "ChargeTransactionPayment", Type: payment, AdditionalSigned: unit},
		{Identifier: "SudoTransactionExtension", Type: ext("node_subtensor_runtime::sudo_wrapper::SudoTransactionExtension", []TypeParam{Param("T", b.runtime)}), AdditionalSigned: unit},
		{Identifier: "CheckShieldedTxValidity", Type: ext("pallet_shield::extension::CheckShieldedTxValidity", []TypeParam{Param("T", b.runtime)}), AdditionalSigned: unit},
		{Identifier: "SubtensorTransactionExtension", Type: ext("pallet_subtensor::transaction_extension::SubtensorTransactionExtension", []TypeParam{Param("T", b.runtime)}), AdditionalSigned: unit},
		{Identifier: "DrandPriority", Type: ext("pallet_drand::drand_priority::DrandPriority", []TypeParam{Param("T", b.runtime)}), AdditionalSigned: unit},
		{Identifier: "CheckMetadataHash", Type: ext("frame_metadata_hash_extension::CheckMetadataHash", t, f("mode", mode, "Mode")), AdditionalSigned: option(r, b.bytes32)},
	}
	// The extra tuple holds the runtime's wrapper of the payment extension,
	// as finney's does; it encodes the same as the extension itself.
	wrapper := ext("node_subtensor_runtime::transaction_payment_wrapper::ChargeTransactionPaymentWrapper", t,
		f("charge_transaction_payment", payment, "ChargeTransactionPayment<T>"))
	extra := make([]uint32, len(list))
	for i, s := range list {
		extra[i] = s.Type
		if s.Type == payment {
			extra[i] = wrapper
		}
	}
	// polkadot-js finds the address, call and signature types through the
	// parameters of sp_runtime's UncheckedExtrinsic, in this order.
	unchecked := r.Composite("sp_runtime::generic::unchecked_extrinsic::UncheckedExtrinsic",
		[]TypeParam{Param("Address", b.multiAddress), Param("Call", b.runtimeCall), Param("Signature", b.multiSignature), Param("Extra", r.Tuple(extra...))},
		f("", b.bytes, ""))
	return Extrinsic{Type: unchecked, Version: 4, SignedExtensions: list}
}

// eraType is sp_runtime's Era: Immortal, or MortalN carrying the second
// byte of the two-byte encoding (N is the first).
func eraType(r *Registry, u8 uint32) uint32 {
	vs := make([]Variant, 256)
	vs[0] = v(0, "Immortal", nil)
	for i := 1; i < 256; i++ {
		vs[i] = v(uint8(i), fmt.Sprintf("Mortal%d", i), nil, f("", u8, ""))
	}
	return r.Enum("sp_runtime::generic::era::Era", nil, vs...)
}

func option(r *Registry, t uint32) uint32 {
	return r.Enum("Option", []TypeParam{Param("T", t)}, v(0, "None", nil), v(1, "Some", nil, f("", t, "")))
}

// Helpers that keep the definitions above close to how metadata reads.

func f(name string, ty uint32, typeName string) Field {
	return Field{Name: name, Type: ty, TypeName: typeName}
}

func v(index uint8, name string, docs []string, fields ...Field) Variant {
	return Variant{Name: name, Index: index, Fields: fields, Docs: docs}
}

func docs(lines ...string) []string { return lines }

// units makes field-less variants indexed in order.
func units(names ...string) []Variant {
	out := make([]Variant, len(names))
	for i, n := range names {
		out[i] = v(uint8(i), n, nil)
	}
	return out
}

func value(name string, ty uint32, def []byte, doc ...string) StorageEntry {
	return StorageEntry{Name: name, Value: ty, Default: def, Docs: doc}
}

func optionalValue(name string, ty uint32, doc ...string) StorageEntry {
	return StorageEntry{Name: name, Optional: true, Value: ty, Default: []byte{0}, Docs: doc}
}

func mapItem(name string, h []Hasher, key, ty uint32, def []byte, doc ...string) StorageEntry {
	return StorageEntry{Name: name, Hashers: h, Key: key, Value: ty, Default: def, Docs: doc}
}

func optionalMap(name string, h []Hasher, key, ty uint32, doc ...string) StorageEntry {
	return StorageEntry{Name: name, Optional: true, Hashers: h, Key: key, Value: ty, Default: []byte{0}, Docs: doc}
}

func blake2Concat() []Hasher { return []Hasher{substrate.Blake2_128Concat} }
func twoxConcat() []Hasher   { return []Hasher{substrate.Twox64Concat} }
func identity() []Hasher     { return []Hasher{substrate.Identity} }

func zeros(n int) []byte { return make([]byte, n) }

func le16(x uint16) []byte { return binary.LittleEndian.AppendUint16(nil, x) }
func le32(x uint32) []byte { return binary.LittleEndian.AppendUint32(nil, x) }
func le64(x uint64) []byte { return binary.LittleEndian.AppendUint64(nil, x) }

// le64x2 is a u128 from its low and high words.
func le64x2(lo, hi uint64) []byte { return append(le64(lo), le64(hi)...) }

func boolByte(x bool) []byte {
	if x {
		return []byte{1}
	}
	return []byte{0}
}

// LocalOnlyEventIndex is the SubtensorModule event index of the one event
// finney does not have, TimelockedWeightsDropped.
const LocalOnlyEventIndex = 255
