package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/bittensor/substrate"
	"github.com/vigil-validator/vigil/bittensor/subtensor"
	"github.com/vigil-validator/vigil/internal/config"
)

const chainHelp = `
Reads the chain, and sends a validator's transactions to it.

  metagraph --netuid N [--block HASH] [--json]
      the subnet's neurons: uid, hotkey, stake, validator permit, incentive,
      dividends, validator trust, axon and last update
  hyperparams --netuid N [--block HASH] [--json]
      the subnet's hyperparameters
  weights --netuid N [--uid U] [--mechanism M] [--block HASH] [--json]
      the weights each validator (or uid U) has set, as stored: uid:value,
      the largest value of a row upscaled to 65535; --mechanism reads one of
      a subnet's several incentive mechanisms (default 0)
  bonds --netuid N [--uid U] [--mechanism M] [--block HASH] [--json]
      the bonds each validator (or uid U) holds, as stored
  set-weights --netuid N --uids 0,1,5 --weights 0.2,0.5,0.3 [--mechanism M] [--dry-run]
      processes the weights as the Python SDK does and submits them, signed by
      the hotkey, the way the subnet requires: set_weights, or a drand
      timelocked commit when commit-reveal is on (--mode hash-commit for a
      salted hash commit, revealed later by reveal-weights). Checks first that
      the hotkey is registered and the rate limit has passed. --dry-run prints
      the u16 vector and the mode and submits nothing. --mechanism M sets
      mechanism M of a subnet with several (set_mechanism_weights or
      commit_timelocked_mechanism_weights; each has its own rate limit).
  reveal-weights --netuid N
      reveals the hotkey's hash commits whose reveal epoch has come
  serve-axon --netuid N --ip IP --port PORT
      publishes the hotkey's axon address
  register --netuid N [--max-cost TAO] [--yes]
      registers the hotkey by burning TAO from the coldkey; without --yes it
      prints the cost and stops. --max-cost refuses a higher cost; where the
      runtime has register_limit, the chain enforces it in its block

Every command takes --network NET: finney, test, local or a ws:// / wss://
endpoint (default: chain.network, from VIGIL_CHAIN_NETWORK or the built-in
"local"). --block pins every read to one block hash; without it the best
block is used.

Transactions are signed by the wallet's hotkey (coldkey for register), chosen
by --wallet-path, --wallet-name and --wallet-hotkey as in 'vigil wallet', or
by --uri (//Alice on a development chain). An encrypted coldkey is decrypted
with VIGIL_COLDKEY_PASSWORD, an encrypted hotkey with VIGIL_HOTKEY_PASSWORD;
keys and passwords are never printed.`

func runChain(env Env, args []string) int {
	sub, args, code, ok := subcommand(env, "chain", chainHelp, args, "metagraph", "hyperparams", "weights", "bonds", "set-weights", "reveal-weights", "serve-axon", "register")
	if !ok {
		return code
	}
	return runChainCommand(env, sub, chainCommands[sub], args)
}

func defaultNetwork(env Env) string {
	if v, ok := env.LookupEnv("VIGIL_CHAIN_NETWORK"); ok && v != "" {
		return v
	}
	return config.DefaultValidator().Chain.Network
}

// dialChain connects to a network for 'vigil chain <sub>'; on failure it
// has printed the error and returns the exit code.
func dialChain(ctx context.Context, env Env, sub, network string, timeout time.Duration) (*subtensor.Client, func(), int, bool) {
	endpoint, err := subtensor.Endpoint(network)
	if err != nil {
		fmt.Fprintf(env.Stderr, "vigil chain %s: --network: %v\n", sub, err)
		return nil, nil, exitUsage, false
	}
	rpc, err := substrate.Dial(ctx, substrate.Options{URL: endpoint, CallTimeout: timeout})
	if err != nil {
		fmt.Fprintf(env.Stderr, "vigil chain %s: %v\n", sub, err)
		return nil, nil, exitFailure, false
	}
	client, err := subtensor.New(rpc)
	if err != nil {
		rpc.Close()
		fmt.Fprintf(env.Stderr, "vigil chain %s: %v\n", sub, err)
		return nil, nil, exitFailure, false
	}
	return client, func() { rpc.Close() }, exitOK, true
}

// neuronJSON is the stable JSON shape of one neuron.
type neuronJSON struct {
	UID             uint16  `json:"uid"`
	Hotkey          string  `json:"hotkey"`
	Coldkey         string  `json:"coldkey"`
	Active          bool    `json:"active"`
	ValidatorPermit bool    `json:"validator_permit"`
	LastUpdate      uint64  `json:"last_update"`
	AxonIP          string  `json:"axon_ip"`
	AxonPort        uint16  `json:"axon_port"`
	Incentive       float64 `json:"incentive"`
	Dividends       float64 `json:"dividends"`
	Consensus       float64 `json:"consensus"`
	ValidatorTrust  float64 `json:"validator_trust"`
	Emission        uint64  `json:"emission"`
	Stake           uint64  `json:"stake"`
}

func ss58(a subtensor.AccountID) string {
	s, err := keys.SS58Encode(a[:], 42)
	if err != nil {
		return a.Hex()
	}
	return s
}

func chainMetagraph(ctx context.Context, env Env, c *subtensor.Client, f *chainFlags) error {
	m, err := c.Metagraph(ctx, uint16(f.netuid), f.block)
	if err != nil {
		return err
	}
	if f.asJSON {
		out := struct {
			Netuid    uint16       `json:"netuid"`
			Block     uint64       `json:"block"`
			BlockHash string       `json:"block_hash"`
			Name      string       `json:"name,omitempty"`
			Tempo     uint16       `json:"tempo"`
			Neurons   []neuronJSON `json:"neurons"`
		}{Netuid: m.Netuid, Block: m.Block, BlockHash: m.BlockHash, Name: m.Name, Tempo: m.Tempo, Neurons: make([]neuronJSON, len(m.Neurons))}
		for i, n := range m.Neurons {
			out.Neurons[i] = neuronJSON{UID: n.UID, Hotkey: ss58(n.Hotkey), Coldkey: ss58(n.Coldkey), Active: n.Active,
				ValidatorPermit: n.ValidatorPermit, LastUpdate: n.LastUpdate, AxonIP: axonIP(n.Axon), AxonPort: n.Axon.Port,
				Incentive: n.Incentive.Float(), Dividends: n.Dividends.Float(), Consensus: n.Consensus.Float(),
				ValidatorTrust: n.ValidatorTrust.Float(), Emission: n.Emission, Stake: n.Stake}
		}
		enc := json.NewEncoder(env.Stdout)
		return enc.Encode(out)
	}
	fmt.Fprintf(env.Stdout, "netuid %d %q at block %d (%s), tempo %d, %d neurons\n\n", m.Netuid, m.Name, m.Block, m.BlockHash, m.Tempo, len(m.Neurons))
	tw := tabwriter.NewWriter(env.Stdout, 2, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "UID\tHOTKEY\tSTAKE\tVPERMIT\tINCENTIVE\tDIVIDENDS\tVTRUST\tAXON\tLAST UPDATE\t")
	for _, n := range m.Neurons {
		permit := ""
		if n.ValidatorPermit {
			permit = "yes"
		}
		axon := "-"
		if ap, ok := n.Axon.Addr(); ok {
			axon = ap.String()
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%.5f\t%.5f\t%.5f\t%s\t%d\t\n", n.UID, ss58(n.Hotkey), rao(n.Stake), permit,
			n.Incentive.Float(), n.Dividends.Float(), n.ValidatorTrust.Float(), axon, n.LastUpdate)
	}
	return tw.Flush()
}

// axonIP is the axon's address as the Python SDK prints it: "0.0.0.0" for
// a neuron that serves none.
func axonIP(a subtensor.AxonInfo) string {
	if ip := a.IPString(); ip != "" {
		return ip
	}
	return "0.0.0.0"
}

// rao renders an amount of rao in whole units with nine decimals.
func rao(v uint64) string { return fmt.Sprintf("%d.%09d", v/1e9, v%1e9) }

func chainHyperparams(ctx context.Context, env Env, c *subtensor.Client, f *chainFlags) error {
	h, err := c.Hyperparameters(ctx, uint16(f.netuid), f.block)
	if err != nil {
		return err
	}
	if f.asJSON {
		return json.NewEncoder(env.Stdout).Encode(h)
	}
	b, _ := json.Marshal(h)
	var fields map[string]json.RawMessage
	_ = json.Unmarshal(b, &fields)
	tw := tabwriter.NewWriter(env.Stdout, 2, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "netuid %d (runtime API v%d)\n", f.netuid, h.Version)
	for _, k := range sortedKeys(fields) {
		if k == "runtime_api_version" {
			continue
		}
		// The JSON text as written: integers stay integers (max_burn
		// 100000000000, not 1e+11).
		fmt.Fprintf(tw, "%s\t%s\n", k, fields[k])
	}
	return tw.Flush()
}
