// Package config holds the typed configuration of every vigil role.
//
// A configuration is built in four layers, each overriding the one before:
// the defaults in this file, a YAML file, VIGIL_* environment variables, and
// command-line flags. Every leaf key has one name in each layer, derived from
// its YAML path (database.url, VIGIL_DATABASE_URL, --database-url), so the
// three can never drift apart. Unknown YAML keys are errors, and every error
// names the key it is about.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/bittensor/subtensor"
	"github.com/vigil-validator/vigil/internal/command"
	"github.com/vigil-validator/vigil/internal/mechanism/compute"
	"github.com/vigil-validator/vigil/internal/mechanism/kaspa"
	"github.com/vigil-validator/vigil/internal/mechanisms"
	"github.com/vigil-validator/vigil/internal/store"
)

// ErrInvalid is wrapped by every validation and parsing error, so callers can
// tell a configuration problem from an I/O failure.
var ErrInvalid = errors.New("invalid configuration")

// Log configures structured logging.
type Log struct {
	Level  string `yaml:"level" help:"minimum level logged: debug, info, warn or error"`
	Format string `yaml:"format" help:"text for terminals, json for log collectors"`
}

// Ops configures the operations listener that serves /health and /metrics.
type Ops struct {
	Listen string `yaml:"listen" help:"host:port of the operations listener (/health, /metrics); port 0 picks a free one"`
}

// Database selects the store.
type Database struct {
	URL          string        `yaml:"url" help:"sqlite:PATH (embedded, default) or postgres://user:pass@host:port/db"`
	MaxOpenConns int           `yaml:"max_open_conns" help:"upper bound on open connections to the database; 0 picks 4 for SQLite (one writer at a time, a page cache each) and 8 for PostgreSQL"`
	BusyTimeout  time.Duration `yaml:"busy_timeout" help:"how long a SQLite writer waits for a lock before failing"`
}

// Chain selects the subtensor endpoint and subnet.
type Chain struct {
	Network string  `yaml:"network" help:"finney, test, local, or a ws:// or wss:// endpoint"`
	Netuid  *uint16 `yaml:"netuid" help:"the subnet this node serves (required)"`
}

// Wallet locates the bittensor wallet whose hotkey signs for this node.
type Wallet struct {
	Path   string `yaml:"path" help:"directory holding bittensor wallets"`
	Name   string `yaml:"name" help:"wallet (coldkey) name"`
	Hotkey string `yaml:"hotkey" help:"hotkey name inside the wallet"`
	URI    string `yaml:"uri" help:"sign with this dev key URI (//Alice) instead of the wallet, on a development chain"`
}

// Weights tunes how the validator puts weights on chain.
type Weights struct {
	EveryBlocks uint64        `yaml:"every_blocks" help:"blocks between weight submissions; 0 means the subnet's tempo (the chain's rate limit is never beaten)"`
	Beacon      string        `yaml:"beacon" help:"drand beacon of timelocked commits: auto (the localnet's own on a localnet, else quicknet), quicknet, or <public key hex>:<genesis unix>:<period>"`
	BlockTime   time.Duration `yaml:"block_time" help:"the chain's block interval, to time reveals and the weight loop"`
	Mechanisms  string        `yaml:"mechanisms" help:"the subnet's incentive mechanisms to set weights on, comma-separated ids (0 to 15), each with the mechanism's scores; required when the subnet has more than one"`
}

// MechanismIDs parses weights.mechanisms: nil when unset, else the ids in
// the order given, each once.
func (w Weights) MechanismIDs() ([]uint8, error) { return parseMechanismIDs(w.Mechanisms) }

func parseMechanismIDs(list string) ([]uint8, error) {
	if strings.TrimSpace(list) == "" {
		return nil, nil
	}
	var out []uint8
	for _, f := range strings.Split(list, ",") {
		n, err := strconv.ParseUint(strings.TrimSpace(f), 10, 8)
		if err != nil {
			return nil, fmt.Errorf("%q is not a mechanism id", strings.TrimSpace(f))
		}
		if n >= subtensor.MaxMechanisms {
			return nil, fmt.Errorf("mechanism %d: a subnet has at most %d (ids 0 to %d)", n, subtensor.MaxMechanisms, subtensor.MaxMechanisms-1)
		}
		if slices.Contains(out, uint8(n)) {
			return nil, fmt.Errorf("mechanism %d is named twice", n)
		}
		out = append(out, uint8(n))
	}
	return out, nil
}

// Console is the operator's web console on the ops listener.
type Console struct {
	Enabled   bool   `yaml:"enabled" help:"serve the read-only web console on the ops listener at /ui/ (JSON under /ui/api/)"`
	TokenFile string `yaml:"token_file" help:"file holding the token the console demands when ops.listen is not loopback (without it the console is off there)"`
}

// Validate checks the console keys.
func (c Console) Validate() error {
	if c.TokenFile != "" && !c.Enabled {
		return invalid("console.token_file", "set while console.enabled is false")
	}
	return nil
}

// Shutdown bounds how long a stopping process may drain in-flight work.
type Shutdown struct {
	DrainTimeout time.Duration `yaml:"drain_timeout" help:"how long in-flight work may take to finish after SIGINT/SIGTERM"`
}

// Axon is the address a miner publishes on chain.
type Axon struct {
	Publish      bool   `yaml:"publish" help:"publish external_ip:external_port on chain at start (serve_axon), as 'vigil chain serve-axon' does"`
	ExternalIP   string `yaml:"external_ip" help:"IP published on chain (required with publish)"`
	ExternalPort int    `yaml:"external_port" help:"port published on chain"`
}

// WorkerHub configures the WebSocket endpoint where a miner's workers connect.
type WorkerHub struct {
	Listen           string        `yaml:"listen" help:"host:port where workers connect over WebSocket"`
	Token            string        `yaml:"token" help:"when set, workers must send it as 'Authorization: Bearer <token>' (the reference's workers send none: leave empty for them)"`
	HeartbeatTimeout time.Duration `yaml:"heartbeat_timeout" help:"a worker silent this long is dropped"`
}

// Validators selects the validators a miner serves.
type Validators struct {
	MinStakeTAO        float64       `yaml:"min_stake_tao" help:"stake a validator with a permit needs"`
	Whitelist          string        `yaml:"whitelist" help:"hotkeys served whatever their permit and stake, comma-separated; hotkey=ip:port also overrides the address"`
	BlacklistThreshold int           `yaml:"blacklist_threshold" help:"consecutive failures that blacklist a validator endpoint"`
	BlacklistTTL       time.Duration `yaml:"blacklist_ttl" help:"how long a blacklisted endpoint is skipped"`
}

// MinerLoops are a miner's intervals.
type MinerLoops struct {
	SyncInterval      time.Duration `yaml:"sync_interval" help:"between metagraph reads"`
	HeartbeatInterval time.Duration `yaml:"heartbeat_interval" help:"between heartbeats to the validators"`
	TaskPollInterval  time.Duration `yaml:"task_poll_interval" help:"between task polling rounds"`
}

// MinerLink tells a worker where its miner is.
type MinerLink struct {
	URL   string `yaml:"url" help:"ws:// or wss:// address of the miner's worker hub"`
	Token string `yaml:"token" help:"sent as 'Authorization: Bearer <token>' when the miner asks for one"`
}

// WorkerIdentity names a worker to its miner.
type WorkerIdentity struct {
	ID                string        `yaml:"id" help:"worker_id; empty derives it from this host as the reference does (set it to keep an existing worker's id)"`
	Name              string        `yaml:"name" help:"worker_name; empty uses the id"`
	PublicIP          string        `yaml:"public_ip" help:"public IP to report; empty reports the routed address when it is public"`
	HeartbeatInterval time.Duration `yaml:"heartbeat_interval" help:"between heartbeats to the miner"`
	ReconnectInterval time.Duration `yaml:"reconnect_interval" help:"first wait before reconnecting; doubled per failure up to a minute"`
}

// GPU selects where a worker's GPU challenges run.
type GPU struct {
	Backend    string `yaml:"backend" help:"none (CPU challenges only), binary (the reference GPU binary's socket) or cpu (vigil's exact CPU implementation, for small sizes)"`
	Socket     string `yaml:"socket" help:"the GPU binary's Unix socket, for backend binary"`
	CPUDevices int    `yaml:"cpu_devices" help:"devices the cpu backend reports"`
	CPUMaxSize int    `yaml:"cpu_max_size" help:"largest matrix the cpu backend takes"`
	KeyFile    string `yaml:"key_file" help:"the cpu backend's P-256 signing key (PEM, created 0600 when missing); validators must trust its public key"`
}

// Subnet is one subnet a validator node serves: its netuid, its mechanism
// with that mechanism's settings (under the mechanism's name), and how
// weights are set on it.
type Subnet struct {
	Netuid    *uint16          `yaml:"netuid" help:"the subnet's netuid (required)"`
	Mechanism string           `yaml:"mechanism" help:"the subnet's mechanism: kaspa or compute"`
	Weights   SubnetWeights    `yaml:"weights"`
	Kaspa     kaspa.Settings   `yaml:"kaspa"`
	Compute   compute.Settings `yaml:"compute"`
}

// SubnetWeights are the weight settings of one subnet.
type SubnetWeights struct {
	EveryBlocks uint64 `yaml:"every_blocks" help:"blocks between weight submissions; 0 means the subnet's tempo"`
	Mechanisms  string `yaml:"mechanisms" help:"the subnet's incentive mechanisms to set weights on, comma-separated ids (0 to 15); required when it has more than one"`
}

// SetDefaults gives a subnet of the subnets: list its defaults.
func (s *Subnet) SetDefaults() {
	s.Mechanism = "kaspa"
	s.Kaspa = kaspa.DefaultSettings()
	s.Compute = compute.DefaultSettings()
}

// MechanismIDs parses weights.mechanisms.
func (s Subnet) MechanismIDs() ([]uint8, error) { return parseMechanismIDs(s.Weights.Mechanisms) }

// MechanismSettings is the subnet's section named after its mechanism
// (kaspa: for kaspa), nil when there is none.
func (s Subnet) MechanismSettings() any {
	rv := reflect.ValueOf(s)
	for i := range rv.NumField() {
		if yamlName(rv.Type().Field(i)) == s.Mechanism {
			return rv.Field(i).Interface()
		}
	}
	return nil
}

// Validator is the configuration of `vigil validator`.
type Validator struct {
	Log       Log      `yaml:"log"`
	Ops       Ops      `yaml:"ops"`
	Database  Database `yaml:"database"`
	Chain     Chain    `yaml:"chain"`
	Wallet    Wallet   `yaml:"wallet"`
	Weights   Weights  `yaml:"weights"`
	Mechanism string   `yaml:"mechanism" help:"the subnet's mechanism: kaspa or compute"`
	// Each mechanism's settings, under its name (the mechanism package
	// defines their keys, help, defaults and validation).
	Kaspa   kaspa.Settings   `yaml:"kaspa"`
	Compute compute.Settings `yaml:"compute"`
	// Subnets are more subnets served by the same node, hotkey, chain
	// connection, store and ops listener; the keys above describe the first.
	Subnets  []Subnet `yaml:"subnets" help:"more subnets served by this node (configuration file only)"`
	Console  Console  `yaml:"console"`
	Shutdown Shutdown `yaml:"shutdown"`
}

// SubnetList is every subnet the node serves: the one of chain.netuid,
// mechanism, weights and the mechanism's section, then subnets:.
func (v Validator) SubnetList() []Subnet {
	first := Subnet{Netuid: v.Chain.Netuid, Mechanism: v.Mechanism, Kaspa: v.Kaspa, Compute: v.Compute,
		Weights: SubnetWeights{EveryBlocks: v.Weights.EveryBlocks, Mechanisms: v.Weights.Mechanisms}}
	return append([]Subnet{first}, v.Subnets...)
}

// Miner is the configuration of `vigil miner`.
type Miner struct {
	Log        Log        `yaml:"log"`
	Ops        Ops        `yaml:"ops"`
	Chain      Chain      `yaml:"chain"`
	Wallet     Wallet     `yaml:"wallet"`
	Axon       Axon       `yaml:"axon"`
	WorkerHub  WorkerHub  `yaml:"worker_hub"`
	Validators Validators `yaml:"validators"`
	Loops      MinerLoops `yaml:"loops"`
	Shutdown   Shutdown   `yaml:"shutdown"`
}

// Worker is the configuration of `vigil worker`.
type Worker struct {
	Log      Log            `yaml:"log"`
	Ops      Ops            `yaml:"ops"`
	Miner    MinerLink      `yaml:"miner"`
	Worker   WorkerIdentity `yaml:"worker"`
	GPU      GPU            `yaml:"gpu"`
	Shutdown Shutdown       `yaml:"shutdown"`
}

// The defaults, in one place.
func defaultLog() Log           { return Log{Level: "info", Format: "text"} }
func defaultShutdown() Shutdown { return Shutdown{DrainTimeout: 30 * time.Second} }
func defaultWallet() Wallet {
	return Wallet{Path: "~/.bittensor/wallets", Name: "default", Hotkey: "default"}
}

// DefaultDatabase is the embedded store used when nothing else is configured.
func DefaultDatabase() Database {
	return Database{URL: "sqlite:vigil.db", BusyTimeout: 5 * time.Second}
}

// DefaultValidator returns the validator defaults.
func DefaultValidator() Validator {
	return Validator{
		Log:       defaultLog(),
		Ops:       Ops{Listen: "127.0.0.1:9100"},
		Database:  DefaultDatabase(),
		Chain:     Chain{Network: "local"},
		Wallet:    defaultWallet(),
		Weights:   Weights{Beacon: "auto", BlockTime: 12 * time.Second},
		Mechanism: "kaspa",
		Kaspa:     kaspa.DefaultSettings(),
		Compute:   compute.DefaultSettings(),
		Console:   Console{Enabled: true},

		Shutdown: defaultShutdown(),
	}
}

// DefaultMiner returns the miner defaults.
func DefaultMiner() Miner {
	return Miner{
		Log:        defaultLog(),
		Ops:        Ops{Listen: "127.0.0.1:9101"},
		Chain:      Chain{Network: "local"},
		Wallet:     defaultWallet(),
		WorkerHub:  WorkerHub{Listen: "0.0.0.0:8092", HeartbeatTimeout: 90 * time.Second},
		Validators: Validators{MinStakeTAO: 10000, BlacklistThreshold: 5, BlacklistTTL: 600 * time.Second},
		Loops:      MinerLoops{SyncInterval: time.Minute, HeartbeatInterval: time.Minute, TaskPollInterval: 30 * time.Second},
		Shutdown:   defaultShutdown(),
	}
}

// DefaultWorker returns the worker defaults.
func DefaultWorker() Worker {
	return Worker{
		Log:      defaultLog(),
		Ops:      Ops{Listen: "127.0.0.1:9102"},
		Miner:    MinerLink{URL: "ws://127.0.0.1:8092"},
		Worker:   WorkerIdentity{HeartbeatInterval: 30 * time.Second, ReconnectInterval: 5 * time.Second},
		GPU:      GPU{Backend: "none", Socket: "/tmp/gpu_tensor.sock", CPUDevices: 1, CPUMaxSize: 1024, KeyFile: "vigil-gpu-key.pem"},
		Shutdown: defaultShutdown(),
	}
}

func invalid(key, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrInvalid, key, fmt.Sprintf(format, args...))
}

// CheckLogLevel accepts the levels log.level takes (command.CheckLogLevel,
// which commands with a --log-level flag use too).
func CheckLogLevel(level string) error { return command.CheckLogLevel(level) }

// Validate checks the logging keys.
func (l Log) Validate() error {
	if err := CheckLogLevel(l.Level); err != nil {
		return invalid("log.level", "%v", err)
	}
	switch l.Format {
	case "text", "json":
	default:
		return invalid("log.format", "unsupported format %q (want text or json)", l.Format)
	}
	return nil
}

// Validate checks the operations listener address.
func (o Ops) Validate() error { return validateListen("ops.listen", o.Listen) }

func validateListen(key, addr string) error {
	if addr == "" {
		return invalid(key, "required")
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return invalid(key, "not a host:port address %q", addr)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return invalid(key, "port %q out of range 0-65535", port)
	}
	return nil
}

// Validate checks the database keys.
func (d Database) Validate() error {
	if d.URL == "" {
		return invalid("database.url", "required")
	}
	if _, _, err := store.ParseURL(d.URL); err != nil {
		return invalid("database.url", "%v", err)
	}
	if d.MaxOpenConns < 0 || d.MaxOpenConns > 1000 {
		return invalid("database.max_open_conns", "%d out of range 0-1000", d.MaxOpenConns)
	}
	if d.BusyTimeout < 0 || d.BusyTimeout > 10*time.Minute {
		return invalid("database.busy_timeout", "%s out of range 0-10m", d.BusyTimeout)
	}
	return nil
}

// Validate checks the chain keys.
func (c Chain) Validate() error {
	switch c.Network {
	case "finney", "test", "local":
	default:
		u, err := url.Parse(c.Network)
		if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
			return invalid("chain.network", "unsupported network %q (want finney, test, local, or a ws:// or wss:// URL)", c.Network)
		}
	}
	if c.Netuid == nil {
		return invalid("chain.netuid", "required (the subnet this node serves)")
	}
	return nil
}

// Validate checks the wallet keys.
func (w Wallet) Validate() error {
	for _, kv := range [][2]string{{"wallet.path", w.Path}, {"wallet.name", w.Name}, {"wallet.hotkey", w.Hotkey}} {
		if kv[1] == "" {
			return invalid(kv[0], "required")
		}
	}
	for _, kv := range [][2]string{{"wallet.name", w.Name}, {"wallet.hotkey", w.Hotkey}} {
		if strings.ContainsAny(kv[1], `/\`) || kv[1] == "." || kv[1] == ".." {
			return invalid(kv[0], "%q is not a plain name", kv[1])
		}
	}
	return nil
}

// Validate checks the shutdown keys.
func (s Shutdown) Validate() error {
	if s.DrainTimeout <= 0 || s.DrainTimeout > 10*time.Minute {
		return invalid("shutdown.drain_timeout", "%s out of range (0, 10m]", s.DrainTimeout)
	}
	return nil
}

// Validate checks the axon keys.
func (a Axon) Validate() error {
	if a.ExternalIP != "" && net.ParseIP(a.ExternalIP) == nil {
		return invalid("axon.external_ip", "%q is not an IP address", a.ExternalIP)
	}
	if a.ExternalPort < 0 || a.ExternalPort > 65535 {
		return invalid("axon.external_port", "%d out of range 0-65535", a.ExternalPort)
	}
	if a.Publish && (a.ExternalIP == "" || a.ExternalPort == 0) {
		return invalid("axon.publish", "needs axon.external_ip and axon.external_port")
	}
	return nil
}

// Validate checks the hub keys.
func (h WorkerHub) Validate() error {
	if err := validateListen("worker_hub.listen", h.Listen); err != nil {
		return err
	}
	if h.HeartbeatTimeout < time.Second || h.HeartbeatTimeout > time.Hour {
		return invalid("worker_hub.heartbeat_timeout", "%s out of range [1s, 1h]", h.HeartbeatTimeout)
	}
	return nil
}

// Validate checks the validator selection.
func (v Validators) Validate() error {
	if !(v.MinStakeTAO >= 0 && v.MinStakeTAO < 1e9) {
		return invalid("validators.min_stake_tao", "%v out of range [0, 1e9)", v.MinStakeTAO)
	}
	if v.BlacklistThreshold < 1 || v.BlacklistThreshold > 1000 {
		return invalid("validators.blacklist_threshold", "%d out of range 1-1000", v.BlacklistThreshold)
	}
	if v.BlacklistTTL < time.Second || v.BlacklistTTL > 24*time.Hour {
		return invalid("validators.blacklist_ttl", "%s out of range [1s, 24h]", v.BlacklistTTL)
	}
	_, err := v.ParseWhitelist()
	return err
}

// ParseWhitelist reads validators.whitelist: SS58 hotkeys, each with an
// optional =ip:port address override.
func (v Validators) ParseWhitelist() (map[string]string, error) {
	out := map[string]string{}
	for _, item := range strings.Split(v.Whitelist, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		hotkey, addr, _ := strings.Cut(item, "=")
		if _, err := keys.ParsePublicKey(hotkey); err != nil {
			return nil, invalid("validators.whitelist", "%q is not an SS58 hotkey", hotkey)
		}
		if addr != "" {
			if _, err := netip.ParseAddrPort(addr); err != nil {
				return nil, invalid("validators.whitelist", "%q: %q is not ip:port", hotkey, addr)
			}
		}
		out[hotkey] = addr
	}
	return out, nil
}

// Validate checks the intervals.
func (l MinerLoops) Validate() error {
	for key, d := range map[string]time.Duration{"loops.sync_interval": l.SyncInterval, "loops.heartbeat_interval": l.HeartbeatInterval, "loops.task_poll_interval": l.TaskPollInterval} {
		if d < 100*time.Millisecond || d > time.Hour {
			return invalid(key, "%s out of range [100ms, 1h]", d)
		}
	}
	return nil
}

// Validate checks the worker's identity keys.
func (w WorkerIdentity) Validate() error {
	if len(w.ID) > 256 || len(w.Name) > 256 {
		return invalid("worker.id", "id and name take at most 256 characters")
	}
	if w.PublicIP != "" && net.ParseIP(w.PublicIP) == nil {
		return invalid("worker.public_ip", "%q is not an IP address", w.PublicIP)
	}
	if w.HeartbeatInterval < 100*time.Millisecond || w.HeartbeatInterval > 10*time.Minute {
		return invalid("worker.heartbeat_interval", "%s out of range [100ms, 10m]", w.HeartbeatInterval)
	}
	if w.ReconnectInterval < 10*time.Millisecond || w.ReconnectInterval > time.Minute {
		return invalid("worker.reconnect_interval", "%s out of range [10ms, 1m]", w.ReconnectInterval)
	}
	return nil
}

// Validate checks the GPU backend keys.
func (g GPU) Validate() error {
	switch g.Backend {
	case "none":
	case "binary":
		if g.Socket == "" {
			return invalid("gpu.socket", "required with gpu.backend binary")
		}
	case "cpu":
		if g.CPUDevices < 1 || g.CPUDevices > 64 {
			return invalid("gpu.cpu_devices", "%d out of range 1-64", g.CPUDevices)
		}
		if g.CPUMaxSize < 1 || g.CPUMaxSize > 8192 {
			return invalid("gpu.cpu_max_size", "%d out of range 1-8192", g.CPUMaxSize)
		}
		if g.KeyFile == "" {
			return invalid("gpu.key_file", "required with gpu.backend cpu")
		}
	default:
		return invalid("gpu.backend", "%q: want none, binary or cpu", g.Backend)
	}
	return nil
}

// Validate checks the miner link.
func (m MinerLink) Validate() error {
	u, err := url.Parse(m.URL)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
		return invalid("miner.url", "%q is not a ws:// or wss:// URL", m.URL)
	}
	return nil
}

func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// Validate checks every key of the validator configuration.
func (v Validator) Validate() error {
	return firstError(v.Log.Validate(), v.Ops.Validate(), v.Console.Validate(), v.Database.Validate(),
		v.Chain.Validate(), v.Wallet.Validate(), v.Weights.Validate(), v.validateSubnets(), v.Shutdown.Validate(), v.validateListeners())
}

// validateListeners refuses one address for two listeners (the ops
// listener and each subnet's public API), naming both keys, before
// anything binds.
func (v Validator) validateListeners() error {
	type listener struct{ key, addr string }
	ls := []listener{{"ops.listen", v.Ops.Listen}}
	for i, sn := range v.SubnetList() {
		l, ok := sn.MechanismSettings().(interface{ PublicListen() string })
		if !ok {
			continue
		}
		key := sn.Mechanism + ".listen"
		if i > 0 {
			key = fmt.Sprintf("subnets[%d].%s", i-1, key)
		}
		ls = append(ls, listener{key, l.PublicListen()})
	}
	wildcard := func(h string) bool { return h == "" || h == "0.0.0.0" || h == "::" }
	for i, a := range ls {
		for _, b := range ls[i+1:] {
			ah, ap, err1 := net.SplitHostPort(a.addr)
			bh, bp, err2 := net.SplitHostPort(b.addr)
			if err1 != nil || err2 != nil || ap == "0" || ap != bp {
				continue
			}
			if ah == bh || wildcard(ah) || wildcard(bh) {
				return invalid(a.key, "%s clashes with %s %s: give them different ports", a.addr, b.key, b.addr)
			}
		}
	}
	return nil
}

// Validate checks the weights keys.
func (w Weights) Validate() error {
	if _, err := w.MechanismIDs(); err != nil {
		return invalid("weights.mechanisms", "%v", err)
	}
	switch w.Beacon {
	case "auto", "quicknet":
	default:
		if strings.Count(w.Beacon, ":") != 2 {
			return invalid("weights.beacon", "%q: want auto, quicknet or <public key hex>:<genesis unix>:<period>", w.Beacon)
		}
	}
	if w.BlockTime < 10*time.Millisecond || w.BlockTime > time.Hour {
		return invalid("weights.block_time", "%s out of range 10ms-1h", w.BlockTime)
	}
	return nil
}

// validateSubnets checks each subnet's mechanism and settings (the
// first's keys are top-level, the others' under subnets[i]), and that no
// netuid is served twice.
func (v Validator) validateSubnets() error {
	seen := map[uint16]int{}
	for i, sn := range v.SubnetList() {
		prefix := ""
		if i > 0 {
			prefix = fmt.Sprintf("subnets[%d].", i-1)
			if sn.Netuid == nil {
				return invalid(prefix+"netuid", "required")
			}
			if _, err := sn.MechanismIDs(); err != nil {
				return invalid(prefix+"weights.mechanisms", "%v", err)
			}
		}
		if sn.Netuid != nil {
			if j, dup := seen[*sn.Netuid]; dup {
				return invalid(prefix+"netuid", "netuid %d is served twice (also by subnet %d of the list)", *sn.Netuid, j+1)
			}
			seen[*sn.Netuid] = i
		}
		if _, ok := mechanisms.Lookup(sn.Mechanism); !ok {
			return invalid(prefix+"mechanism", "unknown mechanism %q (want %s)", sn.Mechanism, strings.Join(mechanisms.Names(), " or "))
		}
		settings, ok := sn.MechanismSettings().(interface{ Validate() error })
		if !ok {
			return invalid(prefix+sn.Mechanism, "no settings")
		}
		if err := settings.Validate(); err != nil {
			return fmt.Errorf("%w: %s%w", ErrInvalid, prefix, err)
		}
	}
	return nil
}

// Validate checks every key of the miner configuration.
func (m Miner) Validate() error {
	return firstError(m.Log.Validate(), m.Ops.Validate(), m.Chain.Validate(), m.Wallet.Validate(),
		m.Axon.Validate(), m.WorkerHub.Validate(), m.Validators.Validate(), m.Loops.Validate(), m.Shutdown.Validate())
}

// Validate checks every key of the worker configuration.
func (w Worker) Validate() error {
	return firstError(w.Log.Validate(), w.Ops.Validate(), w.Miner.Validate(), w.Worker.Validate(), w.GPU.Validate(), w.Shutdown.Validate())
}
