// Package computerpc puts the compute subnet's conversation on the axon
// and the dendrite: the validator side serves the five synapses, opening
// and sealing session records around typed handlers; the miner side sends
// typed payloads through a session to a validator. The mechanism and the
// miner only write handlers and calls.
package computerpc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/vigil-validator/vigil/bittensor/axon"
	"github.com/vigil-validator/vigil/bittensor/synapse"
	"github.com/vigil-validator/vigil/internal/computeproto"
	"github.com/vigil-validator/vigil/internal/securesession"
)

// The reference validator's limit on the encrypted synapses, per hotkey.
const (
	DefaultRateLimit  = 150
	DefaultRateWindow = 30 * time.Second
	DefaultMaxPeers   = 5000
)

// RateLimitedResponse is the reference's plaintext answer to a miner over
// its request allowance.
var RateLimitedResponse = securesession.ErrorResponse(computeproto.CodeNetworkError, "rate_limited")

// Handler answers one decrypted, validated request from peer (the verified
// dendrite hotkey). The body is encrypted back whatever the code, as the
// reference does; a non-zero code with a nil body becomes
// {"error": "Processing failed with code N", "error_code": N}.
type Handler[T any] func(ctx context.Context, peer string, req T) (body any, code int)

// Handlers are the validator's processors; a nil one leaves its synapse
// unserved (404).
type Handlers struct {
	Heartbeat  Handler[computeproto.HeartbeatData]
	Task       Handler[computeproto.TaskRequest]
	Commitment Handler[computeproto.CommitmentData]
	Proof      Handler[computeproto.ProofData]
}

// ServerConfig configures Serve.
type ServerConfig struct {
	Sessions *securesession.Server
	// RateLimit requests per hotkey per RateWindow over the encrypted
	// synapses (default 150 per 30 s, the reference's); negative disables.
	RateLimit  int
	RateWindow time.Duration
	// MaxPeers bounds the hotkeys the limiter remembers (default 5000).
	MaxPeers int
	// Blacklist guards the five synapses, after the axon's own.
	Blacklist axon.Blacklist
	Now       func() time.Time
	Log       *slog.Logger
	// Observe, when set, is told how long each encrypted request took,
	// from the rate limit to the sealed answer, by protocol.
	Observe func(protocol string, took time.Duration)
	// Refused, when set, is told of each request refused before its
	// handler (a handshake, a record, a limit), by protocol and the code
	// answered.
	Refused func(protocol string, code int)
}

// ProtocolHandshake names the handshake to ServerConfig.Refused.
const ProtocolHandshake = "SESSION_INIT"

// Serve registers the handshake and the handled encrypted synapses on a.
func Serve(a *axon.Axon, cfg ServerConfig, h Handlers) error {
	if cfg.Sessions == nil {
		return errors.New("computerpc: no session server specified")
	}
	if cfg.Sessions.Hotkey() != a.Hotkey() {
		return fmt.Errorf("computerpc: sessions are for %s but the axon serves %s", cfg.Sessions.Hotkey(), a.Hotkey())
	}
	if cfg.RateLimit == 0 {
		cfg.RateLimit = DefaultRateLimit
	}
	if cfg.RateWindow <= 0 {
		cfg.RateWindow = DefaultRateWindow
	}
	if cfg.MaxPeers <= 0 {
		cfg.MaxPeers = DefaultMaxPeers
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	cfg.Log = cfg.Log.With("component", "compute")
	s := &server{cfg: cfg}
	if cfg.RateLimit > 0 {
		s.rate = axon.NewRateLimiter(cfg.RateLimit, cfg.RateWindow, cfg.MaxPeers)
	}
	// The handshake is not counted by the request limiter: the session
	// server has its own limit of 5 a minute.
	axon.Handle(a, func(_ context.Context, syn *computeproto.SessionInitSynapse) error {
		resp, err := cfg.Sessions.Handshake(peerOf(syn), deref(syn.Request))
		if err != nil {
			cfg.Log.Debug("handshake refused", "hotkey", peerOf(syn), "err", err)
			if cfg.Refused != nil {
				code := computeproto.CodeValidationFailed
				if se := (*securesession.Error)(nil); errors.As(err, &se) {
					code = se.Code
				}
				cfg.Refused(ProtocolHandshake, code)
			}
		}
		syn.Response = &resp
		return nil
	}, cfg.Blacklist)
	if h.Heartbeat != nil {
		serve[*computeproto.HeartbeatSynapse](a, s, computeproto.DecodeHeartbeatData, h.Heartbeat)
	}
	if h.Task != nil {
		serve[*computeproto.TaskSynapse](a, s, computeproto.DecodeTaskRequest, h.Task)
	}
	if h.Commitment != nil {
		serve[*computeproto.ChallengeSynapse](a, s, computeproto.DecodeCommitmentData, h.Commitment)
	}
	if h.Proof != nil {
		serve[*computeproto.ChallengeProofSynapse](a, s, computeproto.DecodeProofData, h.Proof)
	}
	return nil
}

type server struct {
	cfg  ServerConfig
	rate *axon.RateLimiter
}

func serve[S computeproto.EncryptedSynapse, T any](a *axon.Axon, s *server, decode func([]byte) (T, error), h Handler[T]) {
	var zero S
	protocol := zero.ProtocolType()
	axon.Handle(a, func(ctx context.Context, syn S) error {
		req, resp := syn.Payload()
		answer, err := s.answer(ctx, peerOf(syn), protocol, *req, func(ctx context.Context, peer string, pt []byte) (any, int, error) {
			v, err := decode(pt)
			if err != nil {
				return nil, 0, err
			}
			body, code := h(ctx, peer, v)
			return body, code, nil
		})
		if err != nil {
			return err
		}
		*resp = &answer
		return nil
	}, s.cfg.Blacklist)
}

// answer turns one record into the string for synapse.response: a sealed
// answer, or a plaintext error the miner acts on. An error return means a
// fault of ours (the axon answers 500).
func (s *server) answer(ctx context.Context, peer, protocol string, req *string, process func(context.Context, string, []byte) (any, int, error)) (string, error) {
	if s.cfg.Observe != nil {
		start := time.Now()
		defer func() { s.cfg.Observe(protocol, time.Since(start)) }()
	}
	refused := func(code int) {
		if s.cfg.Refused != nil {
			s.cfg.Refused(protocol, code)
		}
	}
	if s.rate != nil && !s.rate.Allow(peer, s.cfg.Now()) {
		refused(computeproto.CodeNetworkError)
		return RateLimitedResponse, nil
	}
	if req == nil || *req == "" {
		refused(computeproto.CodeSessionRequired)
		return securesession.ErrorResponse(computeproto.CodeSessionRequired, "Encrypted request required"), nil
	}
	pt, sess, err := s.cfg.Sessions.Open(peer, protocol, *req)
	if err != nil {
		var se *securesession.Error
		if errors.As(err, &se) {
			s.cfg.Log.Debug("record refused", "hotkey", peer, "protocol", protocol, "code", se.Code, "err", se.Message)
			refused(se.Code)
			return se.Response(), nil
		}
		return "", err
	}
	body, code, err := process(ctx, peer, pt)
	if err != nil {
		// The reference answers 4015 (bad AAD) here, which misleads: the
		// payload is what failed. Neither code makes a miner retry.
		s.cfg.Log.Debug("invalid payload", "hotkey", peer, "protocol", protocol, "err", err)
		refused(computeproto.CodeValidationFailed)
		return securesession.ErrorResponse(computeproto.CodeValidationFailed, err.Error()), nil
	}
	if code != 0 && body == nil {
		body = map[string]any{"error": fmt.Sprintf("Processing failed with code %d", code), "error_code": code}
	}
	plain, err := computeproto.Marshal(body)
	if err != nil {
		return "", fmt.Errorf("computerpc: %s answer: %w", protocol, err)
	}
	return s.cfg.Sessions.Seal(sess, protocol, plain)
}

func peerOf(s synapse.Synapse) string { return deref(synapse.BaseOf(s).Dendrite.Hotkey) }

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
