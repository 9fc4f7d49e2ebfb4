package securesession

import (
	"bytes"
	"crypto/ecdh"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"github.com/vigil-validator/vigil/internal/computeproto"
	"math/rand/v2"
	"testing"

	"github.com/vigil-validator/vigil/internal/pyoracle"
)

const oracleScript = "session.py"

// oracleReq is any request of tools/pyoracle/session.py.
type oracleReq map[string]any

type oracleResp struct {
	Pub           string `json:"pub"`
	PubB64        string `json:"pub_b64"`
	Shared        string `json:"shared"`
	KCS           string `json:"k_cs"`
	KSC           string `json:"k_sc"`
	InfoCS        string `json:"info_cs"`
	InfoSC        string `json:"info_sc"`
	Package       string `json:"package"`
	IV            string `json:"iv"`
	AAD           string `json:"aad"`
	CiphertextB64 string `json:"ciphertext_b64"`
	Plaintext     string `json:"plaintext"`
	Error         string `json:"error"`
	Text          string `json:"text"`
	Accepted      []bool `json:"accepted"`
}

func ask(t *testing.T, reqs ...oracleReq) []oracleResp {
	t.Helper()
	return pyoracle.Ask[oracleResp](t, oracleScript, reqs)
}

func seeded(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

const (
	minerHotkey     = "5GrwvaDF5GrwvaDF5GrwvaDF5GrwvaDF5GrwvaDF5GrwvaDF"
	validatorHotkey = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty"
)

// TestOracleHandshakeKeys derives a session's keys in Go and in Python from
// the same fixed scalars and nonces: public keys, the shared secret from
// both sides, and k_cs/k_sc must agree byte for byte.
func TestOracleHandshakeKeys(t *testing.T) {
	for i, hk := range []struct{ client, server string }{
		{minerHotkey, validatorHotkey},
		{"miner-ü-✓", "validator"}, // non-ASCII hotkeys enter info as UTF-8
	} {
		minerPriv, validatorPriv := seeded(uint64(10*i+1), 32), seeded(uint64(10*i+2), 32)
		cn, sn := seeded(uint64(10*i+3), 16), seeded(uint64(10*i+4), 16)
		mk, _ := ecdh.X25519().NewPrivateKey(minerPriv)
		vk, _ := ecdh.X25519().NewPrivateKey(validatorPriv)
		mPubB64 := base64.StdEncoding.EncodeToString(mk.PublicKey().Bytes())
		vPubB64 := base64.StdEncoding.EncodeToString(vk.PublicKey().Bytes())

		goShared, err := SharedSecret(mk, vk.PublicKey().Bytes())
		if err != nil {
			t.Fatal(err)
		}
		goShared2, err := SharedSecret(vk, mk.PublicKey().Bytes())
		if err != nil || !bytes.Equal(goShared, goShared2) {
			t.Fatalf("Go ECDH sides disagree: %v", err)
		}
		goKeys, err := DeriveKeys(goShared, cn, sn, hk.client, hk.server, mPubB64, vPubB64)
		if err != nil {
			t.Fatal(err)
		}
		out := ask(t,
			oracleReq{"op": "x25519_pub", "priv": hex.EncodeToString(minerPriv)},
			oracleReq{"op": "x25519_shared", "priv": hex.EncodeToString(validatorPriv), "pub": hex.EncodeToString(mk.PublicKey().Bytes())},
			oracleReq{"op": "derive", "shared": hex.EncodeToString(goShared),
				"client_nonce": hex.EncodeToString(cn), "server_nonce": hex.EncodeToString(sn),
				"client_hotkey": hk.client, "server_hotkey": hk.server,
				"client_pub_b64": mPubB64, "server_pub_b64": vPubB64},
		)
		if out[0].PubB64 != mPubB64 {
			t.Errorf("public key: python %s, go %s", out[0].PubB64, mPubB64)
		}
		if out[1].Shared != hex.EncodeToString(goShared) {
			t.Errorf("shared secret: python %s, go %x", out[1].Shared, goShared)
		}
		if out[2].KCS != hex.EncodeToString(goKeys.ClientToServer[:]) || out[2].KSC != hex.EncodeToString(goKeys.ServerToClient[:]) {
			t.Errorf("keys: python cs=%s sc=%s, go cs=%x sc=%x", out[2].KCS, out[2].KSC, goKeys.ClientToServer, goKeys.ServerToClient)
		}
		salt := append(append([]byte{}, cn...), sn...)
		if out[2].InfoCS != hex.EncodeToString([]byte(kdfInfo(DirClientToServer, hk.client, hk.server, mPubB64, vPubB64, salt))) {
			t.Errorf("info layout differs")
		}
		if goKeys.ClientToServer == goKeys.ServerToClient {
			t.Error("directional keys are equal")
		}
	}
}

// TestOracleRecords seals in Go and opens in Python and the reverse, with
// equal inputs giving equal ciphertexts, IVs and AADs.
func TestOracleRecords(t *testing.T) {
	key := seeded(20, 32)
	sid := "0b6f1c52-3d1e-4c53-9a0e-6f7f4a0f2d11"
	cases := []struct {
		seq       uint64
		plaintext []byte
		typ       string
	}{
		{1, []byte(`{"hotkey": "x", "workers": []}`), computeproto.ProtocolHeartbeat},
		{1 << 40, []byte(`{"note": "ünïcødé ✓ 🚀"}`), computeproto.ProtocolChallengeProof},
		{MaxSeq, seeded(21, 1024), computeproto.ProtocolTask},
		{7, nil, computeproto.ProtocolChallenge},
	}
	var reqs []oracleReq
	goPkgs := make([]string, len(cases))
	for i, c := range cases {
		pkg, err := SealRecord(key, sid, c.seq, minerHotkey, validatorHotkey, c.typ, c.plaintext)
		if err != nil {
			t.Fatal(err)
		}
		goPkgs[i] = pkg
		reqs = append(reqs,
			oracleReq{"op": "seal", "key": hex.EncodeToString(key), "session_id": sid, "seq": c.seq,
				"sender": minerHotkey, "recipient": validatorHotkey, "synapse_type": c.typ,
				"plaintext": hex.EncodeToString(c.plaintext)},
			oracleReq{"op": "open", "key": hex.EncodeToString(key), "package": pkg,
				"sender": minerHotkey, "recipient": validatorHotkey, "synapse_type": c.typ},
			oracleReq{"op": "open", "key": hex.EncodeToString(key), "package": pkg,
				"sender": minerHotkey, "recipient": validatorHotkey, "synapse_type": "OTHER_V1"},
		)
	}
	out := ask(t, reqs...)
	for i, c := range cases {
		sealed, opened, wrongType := out[3*i], out[3*i+1], out[3*i+2]
		// Python -> Go
		pt, p, err := OpenRecord(key, minerHotkey, validatorHotkey, c.typ, sealed.Package)
		if err != nil {
			t.Fatalf("case %d: Go cannot open the Python package: %v", i, err)
		}
		if !bytes.Equal(pt, c.plaintext) || p.Seq != c.seq || p.SessionID != sid {
			t.Errorf("case %d: Go opened %q seq %d", i, pt, p.Seq)
		}
		// Go -> Python
		if opened.Error != "" || opened.Plaintext != hex.EncodeToString(c.plaintext) {
			t.Errorf("case %d: Python open of the Go package: %q err %s", i, opened.Plaintext, opened.Error)
		}
		if wrongType.Error == "" {
			t.Errorf("case %d: Python opened under the wrong synapse type", i)
		}
		// Byte-level equality of the cryptographic parts.
		var gp Package
		if err := json.Unmarshal([]byte(goPkgs[i]), &gp); err != nil {
			t.Fatal(err)
		}
		if gp.Ciphertext != sealed.CiphertextB64 {
			t.Errorf("case %d: ciphertext differs:\n go %s\n py %s", i, gp.Ciphertext, sealed.CiphertextB64)
		}
		iv := RecordIV(sid, c.seq)
		if hex.EncodeToString(iv[:]) != sealed.IV {
			t.Errorf("case %d: IV go %x python %s", i, iv, sealed.IV)
		}
		if aad := string(RecordAAD(minerHotkey, validatorHotkey, c.typ, sid, c.seq)); aad != sealed.AAD {
			t.Errorf("case %d: AAD go %q python %q", i, aad, sealed.AAD)
		}
		// Python's package with its own key order and spacing opens in Go
		// field for field the same as Go's.
		var pp Package
		if err := json.Unmarshal([]byte(sealed.Package), &pp); err != nil || pp != gp {
			t.Errorf("case %d: packages differ: go %+v python %+v (%v)", i, gp, pp, err)
		}
	}
}

// TestOracleReplayModel checks the Go FIFO+set model used by the window
// tests against the Python one on the same random traffic.
func TestOracleReplayModel(t *testing.T) {
	seqs := randomSeqs(rand.New(rand.NewPCG(5, 6)), 6000)
	out := ask(t, oracleReq{"op": "replay", "seqs": seqs})
	m := newFIFOWindow()
	for i, s := range seqs {
		if got := m.accept(s); got != out[0].Accepted[i] {
			t.Fatalf("step %d seq %d: Go model %v, Python %v", i, s, got, out[0].Accepted[i])
		}
	}
}
