package subtensor

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"

	"golang.org/x/crypto/blake2b"

	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/bittensor/oracletest"
	"github.com/vigil-validator/vigil/bittensor/substrate"
	"github.com/vigil-validator/vigil/bittensor/substrate/substratetest"
)

// These tests hold vigil's calls, signing payloads and extrinsics against
// @polkadot/types loaded with the same mainnet metadata
// (tools/oracle/extrinsic.mjs).

type oracleTx struct {
	Era                any    `json:"era"` // {"current","period"} or "immortal"
	Nonce              uint32 `json:"nonce"`
	Tip                uint64 `json:"tip"`
	SpecVersion        uint32 `json:"specVersion"`
	TransactionVersion uint32 `json:"transactionVersion"`
	GenesisHash        string `json:"genesisHash"`
	BlockHash          string `json:"blockHash"`
}

type extAnswer struct {
	Error     string         `json:"error"`
	Payload   string         `json:"payload"`
	Call      string         `json:"call"`
	Extrinsic string         `json:"extrinsic"`
	Signer    string         `json:"signer"`
	Era       string         `json:"era"`
	Nonce     uint32         `json:"nonce"`
	Tip       string         `json:"tip"`
	Section   string         `json:"section"`
	Method    string         `json:"method"`
	Args      map[string]any `json:"args"`
	Hash      string         `json:"hash"`
	Valid     bool           `json:"valid"`
}

func askExtrinsicOracle(t *testing.T, metadataPath string, reqs []map[string]any) []extAnswer {
	t.Helper()
	var out []extAnswer
	script := oracletest.Script(t, "extrinsic.mjs", "@polkadot/api")
	oracletest.Run(t, script, map[string]any{"metadata": metadataPath, "requests": reqs}, &out)
	if len(out) != len(reqs) {
		t.Fatalf("oracle answered %d of %d requests", len(out), len(reqs))
	}
	return out
}

type txCase struct {
	name    string
	current uint64
	period  uint64 // 0: immortal
	nonce   uint32
	tip     uint64
}

// params returns the Go and oracle forms of one set of transaction values.
func (c txCase) params(genesis, block [32]byte) (substrate.TxParams, oracleTx) {
	p := substrate.TxParams{SpecVersion: 329, TransactionVersion: 1, GenesisHash: genesis, Nonce: c.nonce, Tip: c.tip}
	o := oracleTx{Nonce: c.nonce, Tip: c.tip, SpecVersion: p.SpecVersion, TransactionVersion: p.TransactionVersion,
		GenesisHash: "0x" + hex.EncodeToString(genesis[:])}
	if c.period == 0 {
		p.Era = substrate.ImmortalEra
		o.Era, o.BlockHash = "immortal", o.GenesisHash
	} else {
		p.Era = substrate.MortalEra(c.current, c.period)
		p.BirthHash = block
		o.Era = map[string]uint64{"current": c.current, "period": c.period}
		o.BlockHash = "0x" + hex.EncodeToString(block[:])
	}
	return p, o
}

type callCase struct {
	call Call
	args map[string]any // the call's arguments by metadata name, for the oracle
}

func oracleCalls(t *testing.T) []callCase {
	t.Helper()
	must := func(c Call, err error) Call {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	var many, manyW []uint16
	for i := range 300 {
		many = append(many, uint16(i))
		manyW = append(manyW, uint16(i*211))
	}
	commit := make([]byte, 1200)
	rand.Read(commit)
	var hash [32]byte
	rand.Read(hash[:])
	hotkey, _ := keys.FromURI("//Bob")
	hk := AccountID(hotkey.PublicKey())
	u := func(v []uint16) []any {
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = x
		}
		return out
	}
	return []callCase{
		{must(SetWeights(1, []uint16{0, 5}, []uint16{65535, 32768}, 10002000)),
			map[string]any{"netuid": 1, "dests": []any{0, 5}, "weights": []any{65535, 32768}, "version_key": 10002000}},
		{must(SetWeights(23, many, manyW, 7)),
			map[string]any{"netuid": 23, "dests": u(many), "weights": u(manyW), "version_key": 7}},
		{CommitWeights(5, hash), map[string]any{"netuid": 5, "commit_hash": "0x" + hex.EncodeToString(hash[:])}},
		{must(RevealWeights(5, []uint16{1, 2}, []uint16{9, 65535}, []uint16{7, 7, 7}, 3)),
			map[string]any{"netuid": 5, "uids": []any{1, 2}, "values": []any{9, 65535}, "salt": []any{7, 7, 7}, "version_key": 3}},
		{must(CommitTimelockedWeights(1, commit, 123456789, 4)),
			map[string]any{"netuid": 1, "commit": "0x" + hex.EncodeToString(commit), "reveal_round": 123456789, "commit_reveal_version": 4}},
		{must(ServeAxon(1, 10002000, netip.MustParseAddrPort("192.222.59.109:8091"), 4)),
			map[string]any{"netuid": 1, "version": 10002000, "ip": 3235789677, "port": 8091, "ip_type": 4, "protocol": 4, "placeholder1": 0, "placeholder2": 0}},
		{must(ServeAxon(2, 1, netip.MustParseAddrPort("[2001:db8::1]:443"), 4)),
			map[string]any{"netuid": 2, "version": 1, "ip": "0x20010db8000000000000000000000001", "port": 443, "ip_type": 6, "protocol": 4, "placeholder1": 0, "placeholder2": 0}},
		{BurnedRegister(3, hk), map[string]any{"netuid": 3, "hotkey": hotkey.SS58()}},
	}
}

func TestExtrinsicsAgreeWithPolkadot(t *testing.T) {
	if testing.Short() {
		t.Skip("starts node")
	}
	mdPath := substratetest.Fixture(t, "chain", "mainnet_metadata_v14.hex")
	raw, err := os.ReadFile(mdPath)
	if err != nil {
		t.Fatal(err)
	}
	md, err := substrate.DecodeMetadataHex(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	x, err := md.TxExtensions()
	if err != nil {
		t.Fatal(err)
	}
	var genesis, block [32]byte
	copy(genesis[:], bytes.Repeat([]byte{0x2f}, 32))
	rand.Read(block[:])
	txs := []txCase{
		{"mortal 64", 6852690, 64, 0, 0},
		{"mortal 128 nonce tip", 6852690, 128, 5, 1000},
		{"mortal 4096 big nonce", 123, 5000, 1 << 20, 0},
		{"immortal", 0, 0, 42, 0},
	}
	signer, err := keys.FromURI("//Alice")
	if err != nil {
		t.Fatal(err)
	}
	calls := oracleCalls(t)

	type pending struct {
		what     string
		call     []byte
		p        substrate.TxParams
		ours     []byte // our signed extrinsic
		payload  []byte // our unhashed signing payload
		callReq  int
		payReq   int
		decReq   int
		signReq  int
		wantArgs map[string]any
	}
	var reqs []map[string]any
	var cases []pending
	for i, cc := range calls {
		tc := txs[i%len(txs)]
		p, o := tc.params(genesis, block)
		call, err := md.EncodeCall(Pallet, cc.call.Name, cc.call.Args)
		if err != nil {
			t.Fatal(err)
		}
		ours, err := x.Sign(call, p, signer)
		if err != nil {
			t.Fatal(err)
		}
		payload := append(append(append([]byte{}, call...), x.Extra(p)...), x.Implicit(p)...)
		c := pending{what: cc.call.Name + " / " + tc.name, call: call, p: p, ours: ours, payload: payload, wantArgs: cc.args}
		c.callReq = len(reqs)
		reqs = append(reqs, map[string]any{"op": "call", "section": Pallet, "method": cc.call.Name, "args": cc.args})
		c.payReq = len(reqs)
		reqs = append(reqs, map[string]any{"op": "payload", "call": "0x" + hex.EncodeToString(call), "tx": o})
		c.decReq = len(reqs)
		reqs = append(reqs, map[string]any{"op": "decode", "extrinsic": "0x" + hex.EncodeToString(ours), "tx": o})
		c.signReq = len(reqs)
		reqs = append(reqs, map[string]any{"op": "sign", "uri": "//Alice", "call": "0x" + hex.EncodeToString(call), "tx": o})
		cases = append(cases, c)
	}

	answers := askExtrinsicOracle(t, mdPath, reqs)
	for _, c := range cases {
		t.Run(c.what, func(t *testing.T) {
			hexCall := "0x" + hex.EncodeToString(c.call)
			// polkadot-js encodes the call from its named arguments to our bytes.
			if a := answers[c.callReq]; a.Error != "" || a.Call != hexCall {
				t.Errorf("call from named args: polkadot %s %s\n ours %s", a.Call, a.Error, hexCall)
			}
			// The signing payload is the same bytes.
			if a := answers[c.payReq]; a.Error != "" || a.Payload != "0x"+hex.EncodeToString(c.payload) {
				t.Errorf("signing payload:\npolkadot %s %s\n    ours 0x%x", a.Payload, a.Error, c.payload)
			}
			want := c.payload
			if len(want) > 256 {
				h := blake2b.Sum256(want)
				want = h[:]
			}
			if !bytes.Equal(x.SigningPayload(c.call, c.p), want) {
				t.Error("SigningPayload is not the payload, or its hash when over 256 bytes")
			}
			// polkadot-js decodes our extrinsic, verifies its signature and
			// hashes it to our transaction hash.
			d := answers[c.decReq]
			ourHash := substrate.ExtrinsicHash(c.ours)
			if d.Error != "" || !d.Valid || d.Signer != signer.SS58() || d.Call != hexCall || d.Nonce != c.p.Nonce ||
				d.Tip != fmt.Sprint(c.p.Tip) || d.Era != "0x"+hex.EncodeToString(c.p.Era.Encode()) ||
				!strings.EqualFold(d.Section, Pallet) || d.Hash != oracletest.Hex(ourHash[:]) {
				t.Errorf("polkadot decoding of our extrinsic: %+v", d)
			}
			for k, v := range c.wantArgs {
				got, _ := json.Marshal(d.Args[k])
				want, _ := json.Marshal(v)
				if !bytes.Equal(got, want) {
					t.Errorf("argument %s: polkadot %.200s, want %.200s", k, got, want)
				}
			}
			// We decode and verify polkadot's extrinsic.
			s := answers[c.signReq]
			if s.Error != "" {
				t.Fatalf("polkadot sign: %s", s.Error)
			}
			theirs, err := hex.DecodeString(strings.TrimPrefix(s.Extrinsic, "0x"))
			if err != nil {
				t.Fatal(err)
			}
			ext, err := x.DecodeExtrinsic(theirs)
			if err != nil {
				t.Fatalf("decoding polkadot's extrinsic: %v", err)
			}
			if ext.Signer != signer.PublicKey() || !bytes.Equal(ext.Call, c.call) || ext.Era != c.p.Era || ext.Nonce != c.p.Nonce || ext.Tip != c.p.Tip {
				t.Errorf("decoded polkadot extrinsic: %+v", ext)
			}
			if !x.Verify(ext, c.p) {
				t.Error("polkadot's signature does not verify")
			}
			ext.Signature[3] ^= 1
			if x.Verify(ext, c.p) {
				t.Error("a tampered signature verifies")
			}
			// Apart from the signature (randomized), the bytes are ours.
			sigAt := len(c.ours) - len(c.call) - len(x.Extra(c.p)) - 64
			if len(theirs) != len(c.ours) || !bytes.Equal(theirs[:sigAt], c.ours[:sigAt]) || !bytes.Equal(theirs[sigAt+64:], c.ours[sigAt+64:]) {
				t.Errorf("extrinsic layout differs:\npolkadot %x\n    ours %x", theirs, c.ours)
			}
		})
	}
}

// The commit hash and the timelock plaintext are SCALE tuples and structs
// that polkadot-js encodes from their type definitions.
func TestCommitHashAndTimelockPayloadAgreeWithPolkadot(t *testing.T) {
	if testing.Short() {
		t.Skip("starts node")
	}
	hk, _ := keys.FromURI("//Alice")
	hotkey := AccountID(hk.PublicKey())
	uids, values, salt := []uint16{0, 3, 700}, []uint16{65535, 12, 40000}, []uint16{9, 8, 7, 6, 5, 4, 3, 2}
	hash := CommitHash(hotkey, 4097, uids, values, salt, 10002000)
	payload, err := TimelockPayload(hotkey, uids, values, 7)
	if err != nil {
		t.Fatal(err)
	}
	reqs := []map[string]any{
		{"op": "encode", "type": "(AccountId, u16, Vec<u16>, Vec<u16>, Vec<u16>, u64)",
			"value": []any{hk.SS58(), 4097, uids, values, salt, 10002000}},
		{"op": "encode", "type": `{"hotkey":"Vec<u8>","uids":"Vec<u16>","values":"Vec<u16>","version_key":"u64"}`,
			"value": map[string]any{"hotkey": "0x" + hex.EncodeToString(hotkey[:]), "uids": uids, "values": values, "version_key": 7}},
	}
	var out []struct {
		Error   string `json:"error"`
		Encoded string `json:"encoded"`
		Blake2  string `json:"blake2_256"`
	}
	oracletest.Run(t, oracletest.Script(t, "extrinsic.mjs", "@polkadot/api"),
		map[string]any{"metadata": substratetest.Fixture(t, "chain", "mainnet_metadata_v14.hex"), "requests": reqs}, &out)
	if len(out) != 2 || out[0].Error != "" || out[1].Error != "" {
		t.Fatalf("oracle: %+v", out)
	}
	if out[0].Blake2 != "0x"+hex.EncodeToString(hash[:]) {
		t.Errorf("commit hash: polkadot %s, ours %x", out[0].Blake2, hash)
	}
	if out[1].Encoded != "0x"+hex.EncodeToString(payload) {
		t.Errorf("timelock payload:\npolkadot %s\n    ours %x", out[1].Encoded, payload)
	}
	// 1+32 (hotkey) + 2·(compact length + 2n) + 8: 43+4n bytes below 64
	// uids, 45+4n from 64 on.
	big := make([]uint16, 300)
	if p, _ := TimelockPayload(hotkey, big, big, 1); len(payload) != 43+4*len(uids) || len(p) != 45+4*300 {
		t.Errorf("payload sizes %d and %d", len(payload), len(p))
	}
}
