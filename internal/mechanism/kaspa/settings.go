package kaspa

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-validator/vigil/internal/mechanism/kaspa/rating"
	"github.com/vigil-validator/vigil/internal/mechanism/kaspa/registry"
)

// Settings are the mechanism's section of the validator's configuration
// (kaspa:), each with its one name, its help and, in DefaultSettings, its
// default.
type Settings struct {
	PrometheusEndpoint        string        `yaml:"prometheus_endpoint" help:"the Prometheus scraping the pool's stratum bridges"`
	PoolWallet                string        `yaml:"pool_wallet" help:"the pool owner's kaspa: address; only its workers count"`
	Window                    time.Duration `yaml:"window" help:"metrics and rating window"`
	RatingAlpha               float64       `yaml:"rating_alpha" help:"uptime exponent of the rating (the reference's production setting is 1; 0 ignores uptime)"`
	MaxDifficulty             float64       `yaml:"max_difficulty" help:"credited difficulty per share is capped here (hash-value units)"`
	MaxWorkersPerHotkey       int           `yaml:"max_workers_per_hotkey" help:"active workers a hotkey may register"`
	RegistrationTimeTolerance time.Duration `yaml:"registration_time_tolerance" help:"how far a registration's time may be from this validator's clock"`
	MinPeerStake              float64       `yaml:"min_peer_stake" help:"stake (alpha + 0.18 TAO) a validator needs to be synced from, in TAO (0: every validator serving an axon)"`
	SyncInterval              time.Duration `yaml:"sync_interval" help:"pause between syncs of the worker registry from peer validators"`
	RatingsTTL                time.Duration `yaml:"ratings_ttl" help:"how long a scoring pass answers /ratings and /metrics before the next request runs a new one (one pass at a time)"`
	Listen                    string        `yaml:"listen" help:"address of the public API: /register, /unbind, /mappings, /hotkey_workers, /validator_sync_offsets, /openapi.json, /health, /metrics, /ratings"`
}

// DefaultPoolWallet is the reference subnet's pool owner wallet.
const DefaultPoolWallet = "kaspa:qr4ksh6s3rmy5f4qyql2kh7p9z7f4c55da5r5gz2nnsd8ctt4k69whtr4u0wp"

// DefaultRatingsTTL is how long a scoring pass answers the API by default.
const DefaultRatingsTTL = 15 * time.Second

// DefaultSettings are the defaults, the reference validator's where it has
// them.
func DefaultSettings() Settings {
	return Settings{
		PrometheusEndpoint:        "http://127.0.0.1:9090",
		PoolWallet:                DefaultPoolWallet,
		Window:                    rating.DefaultWindow,
		RatingAlpha:               rating.DefaultUptimeAlpha,
		MaxDifficulty:             rating.DefaultMaxDifficulty,
		MaxWorkersPerHotkey:       registry.DefaultMaxWorkersPerHotkey,
		RegistrationTimeTolerance: registry.DefaultRegistrationTimeTolerance,
		MinPeerStake:              registry.DefaultMinPeerStake,
		SyncInterval:              registry.DefaultSyncInterval,
		RatingsTTL:                DefaultRatingsTTL,
		Listen:                    "0.0.0.0:8000",
	}
}

// Validate checks every setting; an error names its key (kaspa.window).
func (s Settings) Validate() error {
	bad := func(key, format string, args ...any) error {
		return fmt.Errorf("kaspa.%s: %s", key, fmt.Sprintf(format, args...))
	}
	u, err := url.Parse(s.PrometheusEndpoint)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return bad("prometheus_endpoint", "%q is not an http(s) URL", s.PrometheusEndpoint)
	case !strings.HasPrefix(s.PoolWallet, "kaspa:"):
		return bad("pool_wallet", "%q is not a kaspa: address", s.PoolWallet)
	case s.Window < time.Minute || s.Window > 24*time.Hour || s.Window%time.Second != 0:
		return bad("window", "%s: whole seconds from 1m to 24h", s.Window)
	case !(s.RatingAlpha >= 0 && s.RatingAlpha <= 10):
		return bad("rating_alpha", "%v out of range 0-10", s.RatingAlpha)
	case !(s.MaxDifficulty > 0):
		return bad("max_difficulty", "must be positive")
	case s.MaxWorkersPerHotkey < 1 || s.MaxWorkersPerHotkey > 10000:
		return bad("max_workers_per_hotkey", "%d out of range 1-10000", s.MaxWorkersPerHotkey)
	case s.RegistrationTimeTolerance <= 0 || s.RegistrationTimeTolerance > time.Hour:
		return bad("registration_time_tolerance", "%s out of range (0, 1h]", s.RegistrationTimeTolerance)
	case !(s.MinPeerStake >= 0):
		return bad("min_peer_stake", "must not be negative")
	case s.SyncInterval < time.Second:
		return bad("sync_interval", "%s: at least 1s", s.SyncInterval)
	case s.RatingsTTL < time.Second || s.RatingsTTL > time.Hour:
		return bad("ratings_ttl", "%s out of range 1s-1h", s.RatingsTTL)
	}
	if s.Listen == "" {
		return bad("listen", "required")
	}
	_, port, err := net.SplitHostPort(s.Listen)
	if err != nil {
		return bad("listen", "not a host:port address %q", s.Listen)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return bad("listen", "port %q out of range 0-65535", port)
	}
	return nil
}

// PublicListen is the public API's address, which the configuration holds
// apart from every other listener's.
func (s Settings) PublicListen() string { return s.Listen }
