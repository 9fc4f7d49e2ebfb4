package axon_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/vigil-validator/vigil/bittensor/dendrite"
	"github.com/vigil-validator/vigil/bittensor/oracletest"
	"github.com/vigil-validator/vigil/bittensor/synapse"
)

// The reference peers of tools/oracle follow the Python SDK's rules with
// @polkadot/util-crypto, independently of this module's code.
const peerModule = "@polkadot/util-crypto"

// TestReferenceDendriteAgainstOurAxon: our axon accepts the reference
// dendrite's signed requests and refuses its tampered, replayed,
// stale-nonce and unsigned ones with the SDK's status codes.
func TestReferenceDendriteAgainstOurAxon(t *testing.T) {
	_, target := server(t, nil)
	want := map[string]int{
		"ok": 200, "get": 200, "wrapped_signature": 200,
		"unsigned": 401, "bad_signature": 401, "stale_nonce": 401, "wrong_axon": 401,
		"replay": 401, "lower_nonce": 401,
		"tamper_body": 500, "missing_input_obj": 400, "unknown_synapse": 404,
	}
	var cases []string
	for c := range want {
		cases = append(cases, c)
	}
	var got []struct {
		Case        string            `json:"case"`
		Status      int               `json:"status"`
		FirstStatus int               `json:"first_status"`
		Error       string            `json:"error"`
		Body        map[string]any    `json:"body"`
		Headers     map[string]string `json:"headers"`
	}
	oracletest.Run(t, oracletest.Script(t, "dendrite-peer.mjs", peerModule), map[string]any{
		"url": fmt.Sprintf("http://%s:%d", target.IP, target.Port), "uri": "//Bob", "axon_hotkey": target.Hotkey,
		"synapse": "Ping", "fields": map[string]any{"text": "héllo 'quoted'", "n": 42, "score": 0.25},
		"hash_fields": []string{"text", "n"}, "required": map[string]any{"text": ""}, "timeout": 12.0, "cases": cases,
	}, &got)
	if len(got) != len(cases) {
		t.Fatalf("%d answers for %d cases", len(got), len(cases))
	}
	for _, g := range got {
		if g.Error != "" || g.Status != want[g.Case] {
			t.Errorf("%s: status %d (%s), want %d; body %v", g.Case, g.Status, g.Error, want[g.Case], g.Body)
		}
		if (g.Case == "replay" || g.Case == "lower_nonce") && g.FirstStatus != 200 {
			t.Errorf("%s: first request %d, want 200", g.Case, g.FirstStatus)
		}
		if g.Status == 200 {
			if g.Body["echo"] != "pong:héllo 'quoted'" || g.Headers["bt_header_axon_status_code"] != "200" || g.Headers["bt_header_axon_status_message"] != "Success" {
				t.Errorf("%s: body %v headers %v", g.Case, g.Body, g.Headers)
			}
		}
	}
}

// TestOurDendriteAgainstReferenceAxon: the reference axon accepts our
// dendrite's requests, and we read its answer.
func TestOurDendriteAgainstReferenceAxon(t *testing.T) {
	p := oracletest.Start(t, "axon-peer.mjs", peerModule, map[string]any{
		"uri": "//Alice", "timeout_ms": 120000,
		"synapses": map[string]any{"Ping": map[string]any{"hash_fields": []string{"text", "n"}, "required": []string{"text"},
			"reply": map[string]any{"echo": "pong"}}},
	})
	var hello struct {
		Port   int    `json:"port"`
		Hotkey string `json:"hotkey"`
	}
	p.First(&hello)
	d, err := dendrite.New(key(t, "//Bob"))
	if err != nil {
		t.Fatal(err)
	}
	target := dendrite.Target{IP: "127.0.0.1", Port: hello.Port, Hotkey: hello.Hotkey}
	texts := []string{"plain", "ünïcode ✓", "it's \"quoted\"", ""}
	for i, text := range texts {
		ping := &Ping{Text: text, N: -i, Score: 1}
		if err := d.Call(context.Background(), target, ping); err != nil {
			t.Fatal(err)
		}
		b := synapse.BaseOf(ping)
		if !dendrite.Success(ping) || ping.Echo == nil || *ping.Echo != "pong" || b.Axon.ProcessTime == nil {
			t.Errorf("call %d (%q): dendrite %+v axon %+v echo %v", i, text, b.Dendrite, b.Axon, ping.Echo)
		}
	}
	// Signed for another axon: the reference refuses it.
	other := &Ping{Text: "x"}
	_ = d.Call(context.Background(), dendrite.Target{IP: "127.0.0.1", Port: hello.Port, Hotkey: key(t, "//Charlie").SS58()}, other)
	if c := synapse.BaseOf(other).Dendrite.StatusCode; c == nil || *c != 401 {
		t.Errorf("wrong axon hotkey: %+v", synapse.BaseOf(other).Dendrite)
	}
	var final struct {
		Log []struct {
			Status int    `json:"status"`
			Reason string `json:"reason"`
		} `json:"log"`
	}
	p.Close(&final)
	if len(final.Log) != len(texts)+1 {
		t.Fatalf("reference axon log: %+v", final.Log)
	}
	for i, l := range final.Log[:len(texts)] {
		if l.Status != 200 {
			t.Errorf("reference axon refused call %d: %+v", i, l)
		}
	}
}
