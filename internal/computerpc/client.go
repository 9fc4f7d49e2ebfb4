package computerpc

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/vigil-validator/vigil/bittensor/dendrite"
	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/bittensor/synapse"
	"github.com/vigil-validator/vigil/internal/computeproto"
	"github.com/vigil-validator/vigil/internal/securesession"
)

// Timeouts are the reference miner's timeouts per protocol, in seconds.
var Timeouts = map[string]float64{
	computeproto.ProtocolHeartbeat:      30,
	computeproto.ProtocolTask:           10,
	computeproto.ProtocolChallenge:      15,
	computeproto.ProtocolChallengeProof: 40,
}

// RemoteError is an error body the validator sent inside a valid record:
// {"error": ..., "error_code": N} (the code is 0 when absent).
type RemoteError struct {
	Code    int
	Message string
}

func (e *RemoteError) Error() string {
	return fmt.Sprintf("validator answered error %d: %s", e.Code, e.Message)
}

// StatusError is a call the validator's axon did not answer with 200.
type StatusError struct {
	Synapse string
	Status  int
	Message string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s: HTTP %d: %s", e.Synapse, e.Status, e.Message)
}

// Client is a miner's link to validators: one dendrite, one session per
// validator. It is safe for concurrent use; overlapping calls to one
// validator are fine (the dendrite gives each its own nonce lane).
type Client struct {
	d        *dendrite.Dendrite
	sessions *securesession.Client
	// Timeout of the encrypted calls in seconds; 0 uses Timeouts.
	Timeout float64
}

// NewClient returns a client signing with the miner's hotkey.
func NewClient(hotkey *keys.KeyPair, opts ...securesession.Option) (*Client, error) {
	d, err := dendrite.New(hotkey)
	if err != nil {
		return nil, err
	}
	c := &Client{d: d}
	c.sessions = securesession.NewClient(hotkey.SS58(), c.handshake, opts...)
	return c, nil
}

// Dendrite is the client's dendrite.
func (c *Client) Dendrite() *dendrite.Dendrite { return c.d }

// Sessions is the client's session cache.
func (c *Client) Sessions() *securesession.Client { return c.sessions }

// handshake runs SessionInit against the validator the context names.
func (c *Client) handshake(ctx context.Context, validator, request string) (string, error) {
	t, ok := ctx.Value(targetKey{}).(dendrite.Target)
	if !ok || t.Hotkey != validator {
		return "", fmt.Errorf("computerpc: no address for validator %s", validator)
	}
	s := &computeproto.SessionInitSynapse{Request: &request}
	timeout := securesession.HandshakeTimeout.Seconds()
	s.Timeout = &timeout
	if err := c.d.Call(ctx, t, s); err != nil {
		return "", err
	}
	if err := statusOf(computeproto.SynapseSessionInit, &s.Base); err != nil {
		return "", err
	}
	return deref(s.Response), nil
}

type targetKey struct{}

// Exchange sends plaintext as a record of protocol (one of the four
// encrypted protocol types) to the validator at t and returns the
// decrypted answer. Session errors come back as *securesession.Error, an
// error body inside the record as *RemoteError, an axon refusal as
// *StatusError.
func (c *Client) Exchange(ctx context.Context, t dendrite.Target, protocol string, plaintext []byte) ([]byte, error) {
	fresh, ok := synapses[protocol]
	if !ok {
		return nil, fmt.Errorf("computerpc: %q is not an encrypted protocol", protocol)
	}
	ctx = context.WithValue(ctx, targetKey{}, t)
	out, err := c.sessions.Exchange(ctx, t.Hotkey, protocol, plaintext, func(ctx context.Context, request string) (string, error) {
		s := fresh()
		req, resp := s.Payload()
		*req = &request
		timeout := c.Timeout
		if timeout <= 0 {
			timeout = Timeouts[protocol]
		}
		synapse.BaseOf(s).Timeout = &timeout
		if err := c.d.Call(ctx, t, s); err != nil {
			return "", err
		}
		if err := statusOf(synapse.Name(s), synapse.BaseOf(s)); err != nil {
			return "", err
		}
		return deref(*resp), nil
	})
	if err != nil {
		return nil, err
	}
	if e := remoteError(out); e != nil {
		return nil, e
	}
	return out, nil
}

// synapses makes a fresh synapse for each encrypted protocol type.
var synapses = func() map[string]func() computeproto.EncryptedSynapse {
	m := map[string]func() computeproto.EncryptedSynapse{}
	for _, f := range []func() computeproto.EncryptedSynapse{
		func() computeproto.EncryptedSynapse { return computeproto.NewHeartbeatSynapse() },
		func() computeproto.EncryptedSynapse { return computeproto.NewTaskSynapse() },
		func() computeproto.EncryptedSynapse { return computeproto.NewChallengeSynapse() },
		func() computeproto.EncryptedSynapse { return computeproto.NewChallengeProofSynapse() },
	} {
		m[f().ProtocolType()] = f
	}
	return m
}()

// remoteError recognises an error body: an object with an "error" key.
func remoteError(b []byte) *RemoteError {
	var m struct {
		Error     *json.RawMessage `json:"error"`
		ErrorCode *float64         `json:"error_code"`
	}
	if json.Unmarshal(b, &m) != nil || m.Error == nil {
		return nil
	}
	e := &RemoteError{}
	if err := json.Unmarshal(*m.Error, &e.Message); err != nil {
		e.Message = string(*m.Error)
	}
	if m.ErrorCode != nil {
		e.Code = int(*m.ErrorCode)
	}
	return e
}

// Heartbeat reports the miner's workers.
func (c *Client) Heartbeat(ctx context.Context, t dendrite.Target, hb computeproto.HeartbeatData) (computeproto.HeartbeatResponse, error) {
	return call(c, ctx, t, computeproto.ProtocolHeartbeat, hb, computeproto.DecodeHeartbeatResponse)
}

// Task asks for challenges.
func (c *Client) Task(ctx context.Context, t dendrite.Target, req computeproto.TaskRequest) (computeproto.TaskResponse, error) {
	return call(c, ctx, t, computeproto.ProtocolTask, req, computeproto.DecodeTaskResponse)
}

// Commit sends a challenge's commitment and returns the proof requests.
func (c *Client) Commit(ctx context.Context, t dendrite.Target, cd computeproto.CommitmentData) (computeproto.CommitmentResponse, error) {
	return call(c, ctx, t, computeproto.ProtocolChallenge, cd, computeproto.DecodeCommitmentResponse)
}

// Prove sends a challenge's proofs.
func (c *Client) Prove(ctx context.Context, t dendrite.Target, pd computeproto.ProofData) (computeproto.ProofDataResponse, error) {
	return call(c, ctx, t, computeproto.ProtocolChallengeProof, pd, computeproto.DecodeProofDataResponse)
}

func call[Req, Resp any](c *Client, ctx context.Context, t dendrite.Target, protocol string, req Req, decode func([]byte) (Resp, error)) (Resp, error) {
	var zero Resp
	plain, err := computeproto.Marshal(req)
	if err != nil {
		return zero, err
	}
	out, err := c.Exchange(ctx, t, protocol, plain)
	if err != nil {
		return zero, err
	}
	resp, err := decode(out)
	if err != nil {
		return zero, fmt.Errorf("computerpc: %s answer: %w", protocol, err)
	}
	return resp, nil
}

// statusOf turns a non-200 terminal status into a *StatusError.
func statusOf(name string, b *synapse.Base) error {
	if dendrite.Success(b) {
		return nil
	}
	e := &StatusError{Synapse: name, Message: deref(b.Dendrite.StatusMessage)}
	if b.Dendrite.StatusCode != nil {
		e.Status = *b.Dendrite.StatusCode
	}
	return e
}
