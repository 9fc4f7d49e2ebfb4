package node

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/vigil-validator/vigil/bittensor/axon"
	"github.com/vigil-validator/vigil/bittensor/dendrite"
	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/bittensor/subtensor"
	"github.com/vigil-validator/vigil/bittensor/synapse"
	"github.com/vigil-validator/vigil/internal/mechanism"
)

// Ping is a synapse a test mechanism answers on the validator's axon.
type Ping struct {
	synapse.Base
	Text string  `json:"text"`
	Echo *string `json:"echo"`
}

func (*Ping) RequiredHashFields() []string { return []string{"text"} }

// axonMechanism is a mechanism with synapses; plain is one without.
type plain struct{}

func (plain) Name() string { return "plain" }
func (plain) Scores(context.Context, *subtensor.Metagraph) (map[subtensor.AccountID]float64, error) {
	return nil, nil
}
func (plain) Run(ctx context.Context) error                        { <-ctx.Done(); return nil }
func (plain) Handler() (string, http.Handler)                      { return "", nil }
func (plain) HealthChecks() map[string]func(context.Context) error { return nil }

type axonMechanism struct{ plain }

func (axonMechanism) Axon() (string, func(*axon.Axon) error) {
	return "127.0.0.1:0", func(ax *axon.Axon) error {
		axon.Handle(ax, func(_ context.Context, p *Ping) error {
			e := "pong:" + p.Text
			p.Echo = &e
			return nil
		}, nil)
		return nil
	}
}

// TestMechanismAxon: a mechanism with synapses gets an axon signed for the
// validator's hotkey that answers members of the subnet's metagraph and
// refuses everyone else; a mechanism without gets none.
func TestMechanismAxon(t *testing.T) {
	key := func(uri string) *keys.KeyPair {
		kp, err := keys.FromURI(uri)
		if err != nil {
			t.Fatal(err)
		}
		return kp
	}
	alice, bob, eve := key("//Alice"), key("//Bob"), key("//Eve")
	holder := &mechanism.Metagraph{}
	if srv, ln, err := serveAxon(plain{}, alice, holder, nil); srv != nil || ln != nil || err != nil {
		t.Fatalf("a mechanism without synapses: %v %v %v", srv, ln, err)
	}
	srv, ln, err := serveAxon(axonMechanism{}, alice, holder, nil)
	if err != nil || srv == nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	p, _ := strconv.Atoi(port)
	target := dendrite.Target{IP: host, Port: p, Hotkey: alice.SS58()}
	call := func(kp *keys.KeyPair) (int, string, *string) {
		t.Helper()
		d, err := dendrite.New(kp)
		if err != nil {
			t.Fatal(err)
		}
		ping := &Ping{Text: "hi"}
		if err := d.Call(context.Background(), target, ping); err != nil {
			t.Fatal(err)
		}
		return *ping.Dendrite.StatusCode, *ping.Dendrite.StatusMessage, ping.Echo
	}
	if code, msg, _ := call(bob); code != 403 || !strings.Contains(msg, "metagraph not loaded yet") {
		t.Errorf("before the first metagraph: %d %q", code, msg)
	}
	holder.Store(&subtensor.Metagraph{Neurons: []subtensor.Neuron{{UID: 0, Hotkey: subtensor.AccountID(bob.PublicKey())}}})
	if code, msg, echo := call(bob); code != 200 || echo == nil || *echo != "pong:hi" {
		t.Errorf("a member: %d %q %v", code, msg, echo)
	}
	if code, msg, _ := call(eve); code != 403 || !strings.Contains(msg, "not registered on the subnet") {
		t.Errorf("not a member: %d %q", code, msg)
	}
}
