package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/bittensor/subtensor"
	"github.com/vigil-validator/vigil/bittensor/wallet"
	"github.com/vigil-validator/vigil/internal/clock"
	"github.com/vigil-validator/vigil/internal/config"
	"github.com/vigil-validator/vigil/internal/mechanism"
	"github.com/vigil-validator/vigil/internal/mechanism/kaspa/registry"
	"github.com/vigil-validator/vigil/internal/mechanisms"
	"github.com/vigil-validator/vigil/internal/store"
	"github.com/vigil-validator/vigil/internal/validator"
)

const weightsHelp = `
weights preview computes, from the validator's store and the chain's
metagraph, the weights the validator would submit now (or as of --at),
without storing or submitting anything: each miner's score and the factors
behind it (for compute: the challenge term, lease, availability and score),
and the u16 vector the weight loop would send (the compute mechanism's as the
reference converts it, the others after the SDK's processing with the
subnet's parameters).

It reads the validator's configuration (--config, VIGIL_*, the flags below)
for the database, the chain, the wallet and the subnet's mechanism; the
hotkey is only read to look up the validator's own weight state.`

// previewJSON is the stable JSON shape of a preview.
type previewJSON struct {
	Netuid    uint16 `json:"netuid"`
	Mechanism string `json:"mechanism"`
	At        string `json:"at"`
	Block     uint64 `json:"block"`
	Direct    bool   `json:"direct"`
	// ChainRules: the vector was checked against the chain's rules (not
	// with --hotkeys).
	ChainRules bool             `json:"chain_rules"`
	Miners     []previewMinerJS `json:"miners"`
	UIDs       []uint16         `json:"uids"`
	Weights    []uint16         `json:"weights"`
}

type previewMinerJS struct {
	mechanism.MinerPreview
	U16 uint16 `json:"u16"`
}

func runWeights(env Env, args []string) int {
	if len(args) == 0 || args[0] != "preview" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			fmt.Fprintln(env.Stdout, "Usage: vigil weights preview [--config FILE] [--subnet N] [--at RFC3339] [--json] [flags]"+weightsHelp)
			return exitOK
		}
		fmt.Fprintln(env.Stderr, "vigil weights: want 'preview'\nRun 'vigil weights --help' for usage.")
		return exitUsage
	}
	defaults := config.DefaultValidator()
	fs := newFlagSet(env, "weights preview", "weights preview [--config FILE] [--subnet N] [--at RFC3339] [--json] [flags]", weightsHelp)
	file := configFlag(env, fs)
	subnet := fs.Int("subnet", -1, "the subnet to preview (default chain.netuid)")
	at := fs.String("at", "", "score as of this time, RFC 3339 (default now)")
	asJSON := fs.Bool("json", false, "print the preview as one JSON object")
	hotkeys := fs.String("hotkeys", "", "read the metagraph's hotkeys, in uid order, from this file (a JSON list of SS58 strings) instead of the chain; the chain's rules are then not applied")
	flags := config.BindFlags(fs, config.Keys(&defaults))
	if code, ok := parse(env, fs, args[1:]); !ok {
		return code
	}
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(env.Stderr, "vigil weights preview: "+format+"\n", a...)
		return code
	}
	if fs.NArg() > 0 {
		return fail(exitUsage, "unexpected argument %q", fs.Arg(0))
	}
	clk := clock.Real()
	when := time.Now().UTC()
	if *at != "" {
		t, err := time.Parse(time.RFC3339, *at)
		if err != nil {
			return fail(exitUsage, "--at: %v", err)
		}
		when = t.UTC()
		clk = clock.NewFake(when)
	}
	lookup, _ := config.SN16EnvNamed(env.LookupEnv)
	cfg, err := config.LoadRole(defaults, config.Source{File: *file, LookupEnv: lookup, Flags: flags})
	if err != nil {
		return fail(exitUsage, "%v", err)
	}
	var sc *config.Subnet
	for _, s := range cfg.SubnetList() {
		if *subnet < 0 || int(*s.Netuid) == *subnet {
			sc = &s
			break
		}
	}
	if sc == nil {
		return fail(exitUsage, "--subnet %d: the configuration serves no such subnet", *subnet)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var mg *subtensor.Metagraph
	if *hotkeys != "" {
		if mg, err = readHotkeys(*hotkeys, *sc.Netuid); err != nil {
			return fail(exitUsage, "--hotkeys: %v", err)
		}
	}
	p, err := preview(ctx, env, cfg, *sc, clk, mg)
	if err != nil {
		return fail(exitFailure, "%v", err)
	}
	p.At = when.Format(time.RFC3339)
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(p); err != nil {
			return fail(exitFailure, "%v", err)
		}
		return exitOK
	}
	printPreview(env.Stdout, p)
	return exitOK
}

// readHotkeys reads a metagraph of hotkeys in uid order from a file.
func readHotkeys(path string, netuid uint16) (*subtensor.Metagraph, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, fmt.Errorf("%s: want a JSON list of SS58 hotkeys: %v", path, err)
	}
	if len(list) > 65535 {
		return nil, fmt.Errorf("%s: %d hotkeys, more than a subnet has uids", path, len(list))
	}
	mg := &subtensor.Metagraph{Netuid: netuid}
	for uid, hk := range list {
		pk, err := registry.CanonicalHotkey(hk)
		if err != nil {
			return nil, fmt.Errorf("%s: uid %d: %w", path, uid, err)
		}
		mg.Neurons = append(mg.Neurons, subtensor.Neuron{UID: uint16(uid), Hotkey: subtensor.AccountID(pk)})
	}
	return mg, nil
}

// preview builds the subnet's mechanism on the store and the chain (or
// the metagraph given), asks it for its next pass, and plans the vector
// as the weight loop would.
func preview(ctx context.Context, env Env, cfg config.Validator, sc config.Subnet, clk clock.Clock, mg *subtensor.Metagraph) (*previewJSON, error) {
	netuid := *sc.Netuid
	st, err := store.Open(ctx, store.Options{URL: cfg.Database.URL, MaxOpenConns: 2, BusyTimeout: cfg.Database.BusyTimeout})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	status, err := st.Check(ctx)
	if err != nil {
		return nil, err
	}
	if len(status.Pending) > 0 {
		return nil, fmt.Errorf("%s is at schema version %d of %d: run 'vigil db migrate up' first", st, status.Version, status.Latest)
	}
	var ws *subtensor.WeightState
	var self subtensor.AccountID
	if mg == nil {
		client, closeChain, code, ok := dialChain(ctx, env, "weights preview", cfg.Chain.Network, time.Minute)
		if !ok {
			return nil, fmt.Errorf("no chain (exit %d)", code)
		}
		defer closeChain()
		if kp, err := loadHotkey(env, cfg.Wallet.URI, wallet.Wallet{Path: cfg.Wallet.Path, Name: cfg.Wallet.Name, Hotkey: cfg.Wallet.Hotkey}); err == nil {
			self = subtensor.AccountID(kp.PublicKey())
		}
		if mg, err = client.Metagraph(ctx, netuid, ""); err != nil {
			return nil, err
		}
		if ws, err = client.WeightState(ctx, netuid, self); err != nil {
			return nil, err
		}
	}
	f, ok := mechanisms.Lookup(sc.Mechanism)
	if !ok {
		return nil, fmt.Errorf("unknown mechanism %q", sc.Mechanism)
	}
	holder := &mechanism.Metagraph{}
	holder.Store(mg)
	mech, err := f.New(sc.MechanismSettings(), mechanism.Deps{Netuid: netuid, Store: st, Metagraph: holder, Self: self, Clock: clk,
		Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, err
	}
	out := &previewJSON{Netuid: netuid, Mechanism: sc.Mechanism, Block: mg.Block, ChainRules: ws != nil}
	var miners []mechanism.MinerPreview
	if pv, ok := mech.(mechanism.Previewer); ok {
		if miners, err = pv.Preview(ctx, mg); err != nil {
			return nil, err
		}
	} else {
		scores, err := mech.Scores(ctx, mg)
		if err != nil {
			return nil, err
		}
		for _, n := range mg.Neurons {
			if s, ok := scores[n.Hotkey]; ok {
				hk, _ := keys.SS58Encode(n.Hotkey[:], keys.SS58PrefixBittensor)
				miners = append(miners, mechanism.MinerPreview{Hotkey: hk, UID: n.UID, Score: s, Factors: map[string]float64{"score": s}})
			}
		}
	}
	score := map[string]float64{}
	for _, m := range miners {
		score[m.Hotkey] = m.Score
	}
	// The vector as the weight loop builds it (validator.Step).
	type entry struct {
		hotkey string
		uid    uint16
	}
	var es []entry
	for _, n := range mg.Neurons {
		hk, _ := keys.SS58Encode(n.Hotkey[:], keys.SS58PrefixBittensor)
		es = append(es, entry{hk, n.UID})
	}
	if d, ok := mech.(validator.DirectWeights); ok && d.DirectWeights() {
		out.Direct = true
		sort.SliceStable(es, func(i, j int) bool { return es[i].hotkey < es[j].hotkey })
	}
	uids, weights := make([]uint16, len(es)), make([]float64, len(es))
	any := false
	for i, e := range es {
		uids[i], weights[i] = e.uid, score[e.hotkey]
		any = any || weights[i] > 0
	}
	out.UIDs, out.Weights = []uint16{}, []uint16{}
	if any {
		switch {
		case ws == nil && out.Direct:
			if out.UIDs, out.Weights, err = subtensor.ConvertWeights(uids, weights); err != nil {
				return nil, err
			}
		case ws == nil:
			return nil, fmt.Errorf("the %s mechanism's vector goes through the chain's rules: preview it against the chain (without --hotkeys)", sc.Mechanism)
		default:
			plan, err := ws.Plan(uids, weights)
			if out.Direct {
				plan, err = ws.PlanDirect(uids, weights)
			}
			if err != nil {
				return nil, err
			}
			out.UIDs, out.Weights = plan.UIDs, plan.Values
		}
	}
	byUID := map[uint16]uint16{}
	for i, u := range out.UIDs {
		byUID[u] = out.Weights[i]
	}
	slices.SortFunc(miners, func(a, b mechanism.MinerPreview) int { return strings.Compare(a.Hotkey, b.Hotkey) })
	for _, m := range miners {
		out.Miners = append(out.Miners, previewMinerJS{MinerPreview: m, U16: byUID[m.UID]})
	}
	if out.Miners == nil {
		out.Miners = []previewMinerJS{}
	}
	return out, nil
}

func printPreview(w io.Writer, p *previewJSON) {
	fmt.Fprintf(w, "subnet %d (%s) at %s, metagraph of block %d\n", p.Netuid, p.Mechanism, p.At, p.Block)
	var names []string
	for _, m := range p.Miners {
		for k := range m.Factors {
			if !slices.Contains(names, k) {
				names = append(names, k)
			}
		}
	}
	sort.Strings(names)
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "UID\tHOTKEY\tSCORE\tU16")
	for _, n := range names {
		fmt.Fprintf(tw, "\t%s", strings.ToUpper(n))
	}
	fmt.Fprintln(tw)
	for _, m := range p.Miners {
		fmt.Fprintf(tw, "%d\t%s\t%.6f\t%d", m.UID, m.Hotkey, m.Score, m.U16)
		for _, n := range names {
			fmt.Fprintf(tw, "\t%.6g", m.Factors[n])
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	how := "after the SDK's processing"
	if p.Direct {
		how = "converted directly, as the reference does"
	}
	if len(p.UIDs) == 0 {
		fmt.Fprintln(w, "no weights would be submitted: every score is 0")
		return
	}
	fmt.Fprintf(w, "the vector (%s): uids %v, weights %v\n", how, p.UIDs, p.Weights)
}
