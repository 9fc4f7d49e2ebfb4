// Package mechanism is how a subnet's incentive mechanism plugs into the
// validator node. A mechanism is one package that provides a Factory: from
// its settings (a section of the validator's configuration, under the
// mechanism's name) and the host's Deps it builds a Mechanism, which gives
// the node everything it contributes:
//
//   - Scores: its rating of the metagraph's hotkeys, which the node's
//     weight loop turns into weights on the subnet's cadence;
//   - Run: its long-running loops (a registry sync, a challenge round),
//     started and stopped with the node;
//   - Handler: its public HTTP API and the address to serve it on, if any;
//   - HealthChecks: named checks the node serves on /health;
//   - where it has them (AxonHandlers), the synapses it answers on the
//     validator's axon.
//
// The node writes each subnet's latest metagraph to a Metagraph holder that
// the mechanism (and axon blacklists) read. internal/mechanisms lists the
// factories; adding a mechanism is its package, a line there, and a field
// for its settings in the validator configuration.
package mechanism

import (
	"context"
	"log/slog"
	"net/http"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigil-validator/vigil/bittensor/axon"
	"github.com/vigil-validator/vigil/bittensor/subtensor"
	"github.com/vigil-validator/vigil/internal/clock"
	"github.com/vigil-validator/vigil/internal/command"
	"github.com/vigil-validator/vigil/internal/store"
	"github.com/vigil-validator/vigil/internal/view"
)

// Mechanism is a subnet mechanism as the node runs it.
type Mechanism interface {
	// Name identifies the mechanism in logs, metrics and configuration.
	Name() string
	// Scores rates hotkeys of the metagraph on any non-negative scale;
	// hotkeys left out score 0. An empty or all-zero result means "nothing
	// to say yet": no weights are submitted.
	Scores(ctx context.Context, mg *subtensor.Metagraph) (map[subtensor.AccountID]float64, error)
	// Run runs the mechanism's loops until ctx ends, then returns nil; an
	// error stops the node.
	Run(ctx context.Context) error
	// Handler is the mechanism's public API and the address it is served
	// on; "" and nil when it has none.
	Handler() (listen string, h http.Handler)
	// HealthChecks are named checks for the node's /health.
	HealthChecks() map[string]func(context.Context) error
}

// AxonHandlers is implemented by a mechanism whose peers call the
// validator's axon (the compute subnet's miners): the node builds an axon
// signed for the validator's hotkey that refuses callers outside the
// subnet's metagraph, lets the mechanism add its synapses with
// axon.Handle, and serves it on listen. "" and a nil register mean none.
type AxonHandlers interface {
	Axon() (listen string, register func(ax *axon.Axon) error)
}

// Previewer is implemented by a mechanism that can tell, without storing
// or sending anything, what its next weight pass would give: each
// hotkey's score (what Scores would return) with the factors behind it.
type Previewer interface {
	Preview(ctx context.Context, mg *subtensor.Metagraph) ([]MinerPreview, error)
}

// MinerPreview is one hotkey in a preview.
type MinerPreview struct {
	Hotkey  string             `json:"hotkey"`
	UID     uint16             `json:"uid"`
	Score   float64            `json:"score"`
	Factors map[string]float64 `json:"factors"`
	// Parts are the factors of what the score is made of (a compute
	// miner's workers), each named.
	Parts []PreviewPart `json:"parts,omitempty"`
}

// PreviewPart is a named part of a miner's score and its factors.
type PreviewPart struct {
	Name    string             `json:"name"`
	Factors map[string]float64 `json:"factors"`
}

// Console is implemented by a mechanism that shows its state on the
// operator's console. Its pages are built from what it holds or has
// stored (its last pass, its cached ratings), never from a new pass or a
// call upstream, so that a page costs milliseconds and no reader can load
// the mechanism or the servers behind it.
type Console interface {
	// ConsolePage is the mechanism's page: its miners and what it knows
	// of them.
	ConsolePage(ctx context.Context, req ConsoleRequest) (*view.Page, error)
	// ConsoleMiner is one miner's page; nil (and no error) when the
	// mechanism knows nothing of the hotkey.
	ConsoleMiner(ctx context.Context, req ConsoleRequest, hotkey string) (*view.Page, error)
}

// ConsoleRequest is what a console page is built for.
type ConsoleRequest struct {
	// Metagraph is the subnet's latest (nil before the first).
	Metagraph *subtensor.Metagraph
	// MinerURL is the console's link to a miner's page.
	MinerURL func(hotkey string) string
}

// Metagraph holds a subnet's latest metagraph: the node's weight loop
// stores each one it reads, mechanisms and blacklists load it. The zero
// value holds none.
type Metagraph struct {
	p atomic.Pointer[subtensor.Metagraph]
}

// Load is the latest metagraph, nil before the first. It is shared: callers
// must not modify it.
func (m *Metagraph) Load() *subtensor.Metagraph { return m.p.Load() }

// Store replaces the metagraph.
func (m *Metagraph) Store(mg *subtensor.Metagraph) { m.p.Store(mg) }

// Deps are what the node gives a mechanism.
type Deps struct {
	// Netuid is the subnet the mechanism serves.
	Netuid uint16
	Store  *store.Store
	// Metagraph is the subnet's latest metagraph.
	Metagraph *Metagraph
	// Self is this validator's hotkey.
	Self       subtensor.AccountID
	Clock      clock.Clock
	Log        *slog.Logger
	Registerer prometheus.Registerer
}

// Factory builds a mechanism from its settings, the value of its section of
// the configuration; Tools are the commands it adds to vigil (its miners'
// side, a simulator).
type Factory struct {
	Name  string
	New   func(settings any, deps Deps) (Mechanism, error)
	Tools []command.Tool
}
