package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/bittensor/substrate"
	"github.com/vigil-validator/vigil/bittensor/subtensor"
	"github.com/vigil-validator/vigil/bittensor/timelock"
	"github.com/vigil-validator/vigil/bittensor/wallet"
)

// chainFlags are the flags of the chain commands.
type chainFlags struct {
	netuid  int
	network string
	timeout time.Duration
	asJSON  bool

	// metagraph, hyperparams, weights and bonds
	block string
	uid   int

	// the commands that sign
	w        wallet.Wallet
	uri      string
	finalize bool

	// set-weights and reveal-weights; mechanism also for weights and bonds
	uids, weights string
	mechanism     int
	versionKey    string
	mode          string
	dryRun        bool
	commitDir     string
	beacon        string
	blockTime     time.Duration

	// serve-axon
	ip       string
	port     int
	protocol int
	version  int

	// register
	yes     bool
	maxCost string
}

type chainCommand struct {
	synopsis string
	signs    bool
	flags    func(fs *flag.FlagSet, f *chainFlags)
	run      func(ctx context.Context, env Env, c *subtensor.Client, f *chainFlags) error
}

func readFlags(fs *flag.FlagSet, f *chainFlags) {
	fs.StringVar(&f.block, "block", "", "block hash to read at (default: the best block)")
	fs.BoolVar(&f.asJSON, "json", false, "print JSON instead of a table")
}

var chainCommands = map[string]chainCommand{
	"metagraph":   {"--netuid N [--block HASH] [--json]", false, readFlags, chainMetagraph},
	"hyperparams": {"--netuid N [--block HASH] [--json]", false, readFlags, chainHyperparams},
	"weights":     {"--netuid N [--uid U] [--mechanism M] [--block HASH] [--json]", false, sparseFlags, chainSparse("Weights")},
	"bonds":       {"--netuid N [--uid U] [--mechanism M] [--block HASH] [--json]", false, sparseFlags, chainSparse("Bonds")},
	"set-weights": {
		"--netuid N --uids LIST --weights LIST [--mechanism M] [--dry-run] [--mode auto|set|timelock|hash-commit]", true,
		func(fs *flag.FlagSet, f *chainFlags) {
			mechanismFlag(fs, f)
			fs.StringVar(&f.uids, "uids", "", "comma-separated uids (required)")
			fs.StringVar(&f.weights, "weights", "", "comma-separated non-negative weights, one per uid, any scale (required)")
			fs.StringVar(&f.versionKey, "version-key", "", "weights version key, a u64 (default: the subnet's WeightsVersionKey)")
			fs.StringVar(&f.mode, "mode", "auto", "auto (what the subnet requires), set, timelock or hash-commit")
			fs.BoolVar(&f.dryRun, "dry-run", false, "print the processed weights and the mode; submit nothing")
			fs.BoolVar(&f.asJSON, "json", false, "print JSON instead of text")
			commitFlags(fs, f)
		},
		chainSetWeights,
	},
	"reveal-weights": {
		"--netuid N [--commit-dir DIR]", true,
		func(fs *flag.FlagSet, f *chainFlags) { commitFlags(fs, f) },
		chainRevealWeights,
	},
	"serve-axon": {
		"--netuid N --ip IP --port PORT [--protocol 4]", true,
		func(fs *flag.FlagSet, f *chainFlags) {
			fs.StringVar(&f.ip, "ip", "", "the axon's public IPv4 or IPv6 address (required)")
			fs.IntVar(&f.port, "port", 0, "the axon's port (required)")
			fs.IntVar(&f.protocol, "protocol", 4, "protocol number published with the address (4: HTTP, as the SDK's axons)")
			fs.IntVar(&f.version, "axon-version", 0, "version number published with the address")
		},
		chainServeAxon,
	},
	"register": {
		"--netuid N [--max-cost TAO] [--yes]", true,
		func(fs *flag.FlagSet, f *chainFlags) {
			fs.BoolVar(&f.yes, "yes", false, "register, burning the current cost; without it the cost is printed and nothing is sent")
			fs.StringVar(&f.maxCost, "max-cost", "", "the most TAO to burn (e.g. 0.5): the chain refuses the registration if the cost in its block is higher (register_limit)")
		},
		chainRegister,
	},
}

func mechanismFlag(fs *flag.FlagSet, f *chainFlags) {
	fs.IntVar(&f.mechanism, "mechanism", 0, "the subnet's incentive mechanism (0 unless the subnet has several)")
}

func commitFlags(fs *flag.FlagSet, f *chainFlags) {
	home, _ := os.UserHomeDir()
	fs.StringVar(&f.commitDir, "commit-dir", filepath.Join(home, ".vigil", "commits"), "where hash commits' salts are kept until revealed")
	fs.StringVar(&f.beacon, "beacon", "quicknet", "drand beacon of timelocked commits: quicknet, or <public key hex>:<genesis unix>:<period> of a dev chain's")
	fs.DurationVar(&f.blockTime, "block-time", 12*time.Second, "the chain's block interval, to time the reveal")
}

func runChainCommand(env Env, sub string, cmd chainCommand, args []string) int {
	f := &chainFlags{w: walletFromEnv(env)}
	fs := newFlagSet(env, "chain "+sub, "chain "+sub+" "+cmd.synopsis+" [--network NET]", subHelp(chainHelp, sub, cmd.signs))
	fs.IntVar(&f.netuid, "netuid", -1, "subnet (required)")
	fs.StringVar(&f.network, "network", defaultNetwork(env), "finney, test, local, or a ws:// / wss:// endpoint [env VIGIL_CHAIN_NETWORK]")
	fs.DurationVar(&f.timeout, "timeout", 2*time.Minute, "give up after this long")
	if cmd.signs {
		fs.StringVar(&f.w.Path, "wallet-path", f.w.Path, "directory holding bittensor wallets [env VIGIL_WALLET_PATH, BT_WALLET_PATH]")
		fs.StringVar(&f.w.Name, "wallet-name", f.w.Name, "wallet (coldkey) name [env VIGIL_WALLET_NAME, BT_WALLET_NAME]")
		fs.StringVar(&f.w.Hotkey, "wallet-hotkey", f.w.Hotkey, "hotkey name inside the wallet [env VIGIL_WALLET_HOTKEY, BT_WALLET_HOTKEY]")
		fs.StringVar(&f.uri, "uri", "", "sign with this key URI instead of the wallet (//Alice on a development chain)")
		fs.BoolVar(&f.finalize, "wait-finalized", false, "wait for finalization, not just inclusion")
	}
	cmd.flags(fs, f)
	if code, ok := parse(env, fs, args); !ok {
		return code
	}
	if err := f.validate(fs, sub); err != nil {
		fmt.Fprintf(env.Stderr, "vigil chain %s: %v\n", sub, err)
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(context.Background(), f.timeout)
	defer cancel()
	client, closeRPC, code, ok := dialChain(ctx, env, sub, f.network, f.timeout)
	if !ok {
		return code
	}
	defer closeRPC()
	if err := cmd.run(ctx, env, client, f); err != nil {
		fmt.Fprintf(env.Stderr, "vigil chain %s: %v\n", sub, err)
		return exitFailure
	}
	return exitOK
}

func (f *chainFlags) validate(fs *flag.FlagSet, sub string) error {
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if f.netuid < 0 || f.netuid > 65535 {
		return errors.New("--netuid: required, 0-65535")
	}
	if f.block != "" && (!strings.HasPrefix(f.block, "0x") || len(f.block) != 66) {
		return fmt.Errorf("--block: %q is not a 0x-prefixed 32-byte hash", f.block)
	}
	switch sub {
	case "set-weights", "weights", "bonds":
		if f.mechanism < 0 || f.mechanism >= subtensor.MaxMechanisms {
			return fmt.Errorf("--mechanism: 0-%d", subtensor.MaxMechanisms-1)
		}
	}
	switch sub {
	case "set-weights":
		if f.uids == "" || f.weights == "" {
			return errors.New("--uids and --weights are required")
		}
		if f.mode != "auto" {
			if _, err := subtensor.ParseWeightMode(f.mode); err != nil {
				return fmt.Errorf("--mode: %w", err)
			}
		}
		if f.versionKey != "" {
			if _, err := strconv.ParseUint(f.versionKey, 10, 64); err != nil {
				return fmt.Errorf("--version-key: %q is not a u64", f.versionKey)
			}
		}
	case "register":
		if f.maxCost != "" {
			if _, err := parseTAO(f.maxCost); err != nil {
				return fmt.Errorf("--max-cost: %w", err)
			}
		}
	case "serve-axon":
		if f.port <= 0 || f.port > 65535 {
			return errors.New("--port: required, 1-65535")
		}
		if f.protocol < 0 || f.protocol > 255 {
			return errors.New("--protocol: 0-255")
		}
		if f.version < 0 || int64(f.version) > 1<<32-1 {
			return errors.New("--axon-version: 0-4294967295")
		}
	}
	if f.blockTime < 0 {
		return errors.New("--block-time: must be positive")
	}
	return nil
}

func (f *chainFlags) wait() substrate.WaitFor {
	if f.finalize {
		return substrate.WaitFinalized
	}
	return substrate.WaitInBlock
}

// hotkeyPub is the public key of the signing hotkey, read without
// decrypting anything.
func (f *chainFlags) hotkeyPub() (subtensor.AccountID, error) {
	if f.uri != "" {
		kp, err := keys.FromURI(f.uri)
		if err != nil {
			return subtensor.AccountID{}, fmt.Errorf("--uri: %w", err)
		}
		return subtensor.AccountID(kp.PublicKey()), nil
	}
	pub, err := wallet.LoadHotkeyPub(f.w)
	return subtensor.AccountID(pub), err
}

// coldkey loads the signing coldkey, decrypting it with
// VIGIL_COLDKEY_PASSWORD when it is encrypted.
func (f *chainFlags) coldkey(env Env) (*keys.KeyPair, error) {
	if f.uri != "" {
		return keys.FromURI(f.uri)
	}
	path, err := f.w.ColdkeyPath()
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pw, ok := env.LookupEnv("VIGIL_COLDKEY_PASSWORD")
	if wallet.IsEncrypted(data) && !ok {
		return nil, fmt.Errorf("%s is encrypted: set VIGIL_COLDKEY_PASSWORD", path)
	}
	return wallet.DecryptColdkey(f.w, pw)
}

func parseList[T any](s, what string, parse func(string) (T, error)) ([]T, error) {
	var out []T
	for i, p := range strings.Split(s, ",") {
		v, err := parse(strings.TrimSpace(p))
		if err != nil {
			return nil, fmt.Errorf("--%s: item %d (%q): %v", what, i+1, p, err)
		}
		out = append(out, v)
	}
	return out, nil
}

// weightsJSON is the stable JSON shape of set-weights.
type weightsJSON struct {
	Netuid             uint16   `json:"netuid"`
	Mechanism          uint8    `json:"mechanism"`
	Block              uint64   `json:"block"`
	Hotkey             string   `json:"hotkey"`
	Registered         bool     `json:"registered"`
	UID                uint16   `json:"uid"`
	Mode               string   `json:"mode"`
	VersionKey         uint64   `json:"version_key"`
	BlocksUntilAllowed uint64   `json:"blocks_until_allowed"`
	UIDs               []uint16 `json:"uids"`
	Weights            []uint16 `json:"weights"`
	Submitted          bool     `json:"submitted"`
	TxHash             string   `json:"tx_hash,omitempty"`
	BlockHash          string   `json:"block_hash,omitempty"`
	RevealRound        uint64   `json:"reveal_round,omitempty"`
	CommitHash         string   `json:"commit_hash,omitempty"`
	// Reveal is, for a commit, where it lands and when the chain reveals
	// it; CiphertextLen the timelocked commit's size (dry runs).
	Reveal        *subtensor.RevealTarget `json:"reveal,omitempty"`
	CiphertextLen int                     `json:"ciphertext_len,omitempty"`
}

func chainSetWeights(ctx context.Context, env Env, c *subtensor.Client, f *chainFlags) error {
	uids, err := parseList(f.uids, "uids", func(s string) (uint16, error) {
		v, err := strconv.ParseUint(s, 10, 16)
		return uint16(v), err
	})
	if err != nil {
		return err
	}
	scores, err := parseList(f.weights, "weights", func(s string) (float64, error) { return strconv.ParseFloat(s, 64) })
	if err != nil {
		return err
	}
	opts, err := f.weightOptions()
	if err != nil {
		return err
	}
	hotkey, err := f.hotkeyPub()
	if err != nil {
		return err
	}
	st, err := c.WeightState(ctx, uint16(f.netuid), hotkey)
	if err != nil {
		return err
	}
	plan, err := st.Plan(uids, scores)
	if err != nil {
		return err
	}
	if f.mode != "auto" {
		plan.Mode, _ = subtensor.ParseWeightMode(f.mode)
	}
	if f.versionKey != "" {
		plan.VersionKey, _ = strconv.ParseUint(f.versionKey, 10, 64) // validated
	}
	plan.Mechanism = uint8(f.mechanism) // validated
	out := weightsJSON{
		Netuid: st.Netuid, Mechanism: plan.Mechanism, Block: st.Block, Hotkey: ss58(st.Hotkey), Registered: st.Registered, UID: st.UID,
		Mode: plan.Mode.String(), VersionKey: plan.VersionKey, BlocksUntilAllowed: st.BlocksUntilAllowedOn(plan.Mechanism),
		UIDs: plan.UIDs, Weights: plan.Values,
	}
	if plan.Mode != subtensor.ModeSet {
		if target, err := st.RevealTarget(); err == nil {
			out.Reveal = &target
		}
	}
	if f.dryRun && plan.Mode == subtensor.ModeTimelock && len(plan.UIDs) > 0 {
		round, ct, err := subtensor.PrepareTimelock(st, plan, opts)
		if err != nil {
			return err
		}
		out.RevealRound, out.CiphertextLen = round, len(ct)
	}
	if !f.dryRun {
		if err := st.ReadyOn(plan.Mechanism); err != nil {
			return err
		}
		signer, err := loadHotkey(env, f.uri, f.w)
		if err != nil {
			return err
		}
		res, err := c.SubmitWeights(ctx, signer, st, plan, opts)
		if res != nil && res.SubmitResult != nil {
			out.Submitted, out.TxHash, out.BlockHash = true, fmt.Sprintf("0x%x", res.TxHash), res.BlockHash
			out.RevealRound = res.RevealRound
			if plan.Mode == subtensor.ModeHashCommit {
				out.CommitHash = fmt.Sprintf("0x%x", res.CommitHash)
			}
		}
		if err != nil {
			return err
		}
	}
	if f.asJSON {
		return json.NewEncoder(env.Stdout).Encode(out)
	}
	printWeights(env, st, plan, out, opts)
	if f.dryRun {
		if err := st.ReadyOn(plan.Mechanism); err != nil {
			fmt.Fprintf(env.Stdout, "\nnot ready: %v\n", err)
		}
		fmt.Fprintln(env.Stdout, "\ndry run: nothing submitted")
	}
	return nil
}

func printWeights(env Env, st *subtensor.WeightState, plan *subtensor.WeightPlan, out weightsJSON, opts subtensor.WeightOptions) {
	w := env.Stdout
	fmt.Fprintf(w, "netuid %d at block %d: hotkey %s", st.Netuid, st.Block, out.Hotkey)
	if st.Registered {
		fmt.Fprintf(w, " is uid %d of %d\n", st.UID, st.N)
	} else {
		fmt.Fprintf(w, " is not registered\n")
	}
	reason := "commit-reveal off"
	if st.Params.CommitRevealEnabled {
		reason = "commit-reveal on"
	}
	if plan.Mechanism > 0 || st.MechanismCount > 1 {
		fmt.Fprintf(w, "mechanism %d of %d\n", plan.Mechanism, max(st.MechanismCount, 1))
	}
	fmt.Fprintf(w, "mode %s (%s), version key %d, rate limit %d blocks (last update %d)\n",
		plan.Mode, reason, plan.VersionKey, st.Params.WeightsSetRateLimit, st.LastUpdateOn(plan.Mechanism))
	if r := out.Reveal; r != nil {
		fmt.Fprintf(w, "commit lands in block %d (epoch %d), revealed from block %d (epoch %d), %s scheduler\n",
			r.CommitBlock, r.CommitEpoch, r.RevealBlock, r.RevealEpoch, r.Scheduler)
	}
	if !out.Submitted && out.RevealRound > 0 {
		fmt.Fprintf(w, "timelocked to drand round %d, %d-byte ciphertext\n", out.RevealRound, out.CiphertextLen)
	}
	var sum float64
	for _, v := range plan.Values {
		sum += float64(v)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "UID\tWEIGHT (u16)\tSHARE\t")
	for i, u := range plan.UIDs {
		fmt.Fprintf(tw, "%d\t%d\t%.6f\t\n", u, plan.Values[i], float64(plan.Values[i])/sum)
	}
	_ = tw.Flush()
	if out.Submitted {
		fmt.Fprintf(w, "\nsubmitted in block %s, transaction %s\n", out.BlockHash, out.TxHash)
		if out.RevealRound > 0 {
			at := opts.Beacon.TimeOf(out.RevealRound)
			fmt.Fprintf(w, "revealed by the chain at drand round %d (about %s)\n", out.RevealRound, at.UTC().Format(time.RFC3339))
		}
		if out.CommitHash != "" {
			fmt.Fprintf(w, "commit %s: reveal it with 'vigil chain reveal-weights --netuid %d' in its reveal epoch\n", out.CommitHash, st.Netuid)
		}
	}
}

func (f *chainFlags) weightOptions() (subtensor.WeightOptions, error) {
	b, err := timelock.ParseBeacon(f.beacon)
	if err != nil {
		return subtensor.WeightOptions{}, fmt.Errorf("--beacon: %w", err)
	}
	return subtensor.WeightOptions{
		Submit:    subtensor.SubmitOptions{Wait: f.wait()},
		Beacon:    &b,
		BlockTime: f.blockTime,
		Commits:   subtensor.FileCommitStore{Dir: f.commitDir},
	}, nil
}

func chainRevealWeights(ctx context.Context, env Env, c *subtensor.Client, f *chainFlags) error {
	opts, err := f.weightOptions()
	if err != nil {
		return err
	}
	signer, err := loadHotkey(env, f.uri, f.w)
	if err != nil {
		return err
	}
	out, err := c.RevealCommits(ctx, signer, uint16(f.netuid), opts)
	if err != nil {
		return err
	}
	if len(out) == 0 {
		fmt.Fprintf(env.Stdout, "no pending commits of %s on netuid %d in %s\n", ss58(subtensor.AccountID(signer.PublicKey())), f.netuid, f.commitDir)
		return nil
	}
	var failed int
	for _, o := range out {
		fmt.Fprintf(env.Stdout, "commit 0x%x: %s", o.Commit.Hash, o.Status)
		switch {
		case o.Status == subtensor.Waiting:
			fmt.Fprintf(env.Stdout, " (%d blocks to the reveal epoch)", o.Blocks)
		case o.Status == subtensor.Revealed && o.Result != nil:
			fmt.Fprintf(env.Stdout, " in block %s", o.Result.BlockHash)
		}
		if o.Err != nil {
			failed++
			fmt.Fprintf(env.Stdout, ": %v", o.Err)
		}
		fmt.Fprintln(env.Stdout)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d commits failed", failed, len(out))
	}
	return nil
}

func chainServeAxon(ctx context.Context, env Env, c *subtensor.Client, f *chainFlags) error {
	ip, err := netip.ParseAddr(f.ip)
	if err != nil {
		return fmt.Errorf("--ip: %w", err)
	}
	call, err := subtensor.ServeAxon(uint16(f.netuid), uint32(f.version), netip.AddrPortFrom(ip, uint16(f.port)), uint8(f.protocol))
	if err != nil {
		return err
	}
	signer, err := loadHotkey(env, f.uri, f.w)
	if err != nil {
		return err
	}
	hk := subtensor.AccountID(signer.PublicKey())
	if _, ok, err := c.UID(ctx, uint16(f.netuid), hk, ""); err != nil {
		return err
	} else if !ok {
		return fmt.Errorf("%w: %s on netuid %d", subtensor.ErrNotRegistered, ss58(hk), f.netuid)
	}
	res, err := c.Submit(ctx, signer, call, subtensor.SubmitOptions{Wait: f.wait()})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "axon of %s on netuid %d is %s, in block %s\n", ss58(hk), f.netuid, netip.AddrPortFrom(ip, uint16(f.port)), res.BlockHash)
	return nil
}

// parseTAO reads an amount of TAO ("1", "0.25") as rao, exactly.
func parseTAO(s string) (uint64, error) {
	whole, frac, _ := strings.Cut(strings.TrimSpace(s), ".")
	if whole == "" && frac == "" || len(frac) > 9 || strings.ContainsAny(whole+frac, "+-") {
		return 0, fmt.Errorf("%q is not an amount of TAO (at most 9 decimals)", s)
	}
	if whole == "" {
		whole = "0"
	}
	w, err := strconv.ParseUint(whole, 10, 64)
	if err != nil || w >= math.MaxUint64/1_000_000_000 {
		return 0, fmt.Errorf("%q is not an amount of TAO", s)
	}
	f := uint64(0)
	if frac != "" {
		if f, err = strconv.ParseUint(frac+strings.Repeat("0", 9-len(frac)), 10, 64); err != nil {
			return 0, fmt.Errorf("%q is not an amount of TAO", s)
		}
	}
	return w*1e9 + f, nil
}

func chainRegister(ctx context.Context, env Env, c *subtensor.Client, f *chainFlags) error {
	hk, err := f.hotkeyPub()
	if err != nil {
		return err
	}
	netuid := uint16(f.netuid)
	if uid, ok, err := c.UID(ctx, netuid, hk, ""); err != nil {
		return err
	} else if ok {
		fmt.Fprintf(env.Stdout, "%s is already uid %d on netuid %d\n", ss58(hk), uid, netuid)
		return nil
	}
	burn, err := c.Burn(ctx, netuid, "")
	if err != nil {
		return err
	}
	var limit *uint64
	if f.maxCost != "" {
		v, _ := parseTAO(f.maxCost) // checked in validate
		if burn > v {
			return fmt.Errorf("the registration costs %s TAO now, above --max-cost %s; nothing sent", rao(burn), rao(v))
		}
		limit = &v
	}
	if !f.yes {
		// A dry run: what it would cost, and nothing sent. Not a failure.
		fmt.Fprintf(env.Stdout, "registering %s on netuid %d burns %s TAO from the coldkey now\n"+
			"nothing sent: pass --yes to register\n", ss58(hk), netuid, rao(burn))
		return nil
	}
	signer, err := f.coldkey(env)
	if err != nil {
		return err
	}
	call := subtensor.BurnedRegister(netuid, hk)
	if limit != nil {
		// The price moves each block and with each registration: the chain
		// enforces the ceiling in the block that includes the call. A runtime
		// without register_limit gets the check made here, before sending.
		has, err := c.HasCall(ctx, "register_limit")
		if err != nil {
			return err
		}
		if has {
			call = subtensor.RegisterLimit(netuid, hk, *limit)
		} else {
			fmt.Fprintf(env.Stderr, "this runtime has no register_limit: the cost was checked before sending, not in the including block\n")
		}
	}
	res, err := c.Submit(ctx, signer, call, subtensor.SubmitOptions{Wait: f.wait()})
	if err != nil {
		return err
	}
	uid, ok, err := c.UID(ctx, netuid, hk, res.BlockHash)
	if err != nil || !ok {
		fmt.Fprintf(env.Stdout, "registered %s on netuid %d in block %s\n", ss58(hk), netuid, res.BlockHash)
		return err
	}
	fmt.Fprintf(env.Stdout, "registered %s on netuid %d as uid %d, in block %s\n", ss58(hk), netuid, uid, res.BlockHash)
	return nil
}

// subHelp is the part of a command's help that concerns sub: its own entry
// (the line naming it and the lines indented under it), then the closing
// paragraphs — the one on signing only for a command that signs.
func subHelp(help, sub string, signs bool) string {
	lines := strings.Split(strings.TrimSpace(help), "\n")
	var entry []string
	for i := 0; i < len(lines); i++ {
		if strings.HasPrefix(lines[i], "  "+sub+" ") || lines[i] == "  "+sub {
			entry = append(entry, strings.TrimPrefix(lines[i], "  "))
			for i++; i < len(lines) && strings.HasPrefix(lines[i], "      "); i++ {
				entry = append(entry, strings.TrimPrefix(lines[i], "  "))
			}
			break
		}
	}
	paras := strings.Split(strings.TrimSpace(help), "\n\n")
	out := []string{strings.Join(entry, "\n")}
	for _, p := range paras[1:] {
		if strings.HasPrefix(p, "  ") {
			continue // the list of commands
		}
		if !signs && strings.Contains(p, "signed by") {
			continue
		}
		out = append(out, p)
	}
	return strings.Join(out, "\n\n")
}
