package computeproto

import "github.com/vigil-validator/vigil/bittensor/synapse"

// The synapse classes miners send the validator. Their request and
// response fields carry the payloads: plain JSON for the handshake, a
// session record (securesession) for the others. The classes give them
// None defaults, so no bt_header_input_obj_ header is needed for them.

// SessionInitSynapse opens an encrypted session.
type SessionInitSynapse struct {
	synapse.Base
	Request  *string `json:"request"`
	Response *string `json:"response"`
}

// SynapseProtocolVersion is the encrypted synapses' protocol_version. The
// Python classes require at least 1 (their default), so a body without it
// set is refused by a Python axon.
const SynapseProtocolVersion = 1

// Encrypted is the common part of the encrypted synapses. Build the
// synapses with their New functions, which set ProtocolVersion.
type Encrypted struct {
	synapse.Base
	Request         *string `json:"request"`
	Response        *string `json:"response"`
	ProtocolVersion int     `json:"protocol_version"`
}

// EncryptedSynapse is any of the synapses that carry a session record.
type EncryptedSynapse interface {
	synapse.Synapse
	Payload() (request, response **string)
	// ProtocolType is the record AAD's synapse type and the routing key.
	ProtocolType() string
}

// Payload returns the request and response fields for the session layer.
func (e *Encrypted) Payload() (request, response **string) { return &e.Request, &e.Response }

// HeartbeatSynapse carries a miner's heartbeat.
type HeartbeatSynapse struct{ Encrypted }

// TaskSynapse asks the validator for challenges.
type TaskSynapse struct{ Encrypted }

// ChallengeSynapse carries a commitment; the proof requests come back in
// the encrypted response (the proof_requests field stays unused, as in
// the reference).
type ChallengeSynapse struct {
	Encrypted
	ProofRequests []ProofRequest `json:"proof_requests"`
}

// ChallengeProofSynapse carries a proof.
type ChallengeProofSynapse struct{ Encrypted }

func newEncrypted() Encrypted { return Encrypted{ProtocolVersion: SynapseProtocolVersion} }

// NewHeartbeatSynapse returns a HeartbeatSynapse with its defaults.
func NewHeartbeatSynapse() *HeartbeatSynapse { return &HeartbeatSynapse{newEncrypted()} }

// NewTaskSynapse returns a TaskSynapse with its defaults.
func NewTaskSynapse() *TaskSynapse { return &TaskSynapse{newEncrypted()} }

// NewChallengeSynapse returns a ChallengeSynapse with its defaults.
func NewChallengeSynapse() *ChallengeSynapse { return &ChallengeSynapse{Encrypted: newEncrypted()} }

// NewChallengeProofSynapse returns a ChallengeProofSynapse with its
// defaults.
func NewChallengeProofSynapse() *ChallengeProofSynapse { return &ChallengeProofSynapse{newEncrypted()} }

// Each encrypted synapse's protocol type.
func (*HeartbeatSynapse) ProtocolType() string      { return ProtocolHeartbeat }
func (*TaskSynapse) ProtocolType() string           { return ProtocolTask }
func (*ChallengeSynapse) ProtocolType() string      { return ProtocolChallenge }
func (*ChallengeProofSynapse) ProtocolType() string { return ProtocolChallengeProof }

// Each synapse's class name, the axon route.
func (*SessionInitSynapse) SynapseName() string    { return SynapseSessionInit }
func (*HeartbeatSynapse) SynapseName() string      { return SynapseHeartbeat }
func (*TaskSynapse) SynapseName() string           { return SynapseTask }
func (*ChallengeSynapse) SynapseName() string      { return SynapseChallenge }
func (*ChallengeProofSynapse) SynapseName() string { return SynapseChallengeProof }
