// Package computeproto defines the plaintext payloads exchanged between
// compute-subnet miners and validators (carried, encrypted, inside the
// synapses), decodes them with full validation, and encodes them in the exact
// JSON form the Python peers produce.
package computeproto

import "strconv"

// Protocol types. These strings, not the synapse class names, enter the
// record AAD and select the handler, so they must match byte for byte.
const (
	ProtocolSessionInit        = "SESSION_INIT_V1"
	ProtocolHeartbeat          = "HEARTBEAT_V1"
	ProtocolTask               = "TASK_V1"
	ProtocolChallenge          = "CHALLENGE_V1"
	ProtocolChallengeProof     = "CHALLENGE_PROOF_V1"
	ProtocolGetVmgwEnrollToken = "GET_VMGW_ENROLL_TOKEN_V1"
)

// Synapse class names, used as the HTTP path of the axon endpoint.
const (
	SynapseSessionInit        = "SessionInitSynapse"
	SynapseHeartbeat          = "HeartbeatSynapse"
	SynapseTask               = "TaskSynapse"
	SynapseChallenge          = "ChallengeSynapse"
	SynapseChallengeProof     = "ChallengeProofSynapse"
	SynapseGetVmgwEnrollToken = "GetVmgwEnrollTokenSynapse"
)

var protocolToSynapse = map[string]string{
	ProtocolSessionInit:        SynapseSessionInit,
	ProtocolHeartbeat:          SynapseHeartbeat,
	ProtocolTask:               SynapseTask,
	ProtocolChallenge:          SynapseChallenge,
	ProtocolChallengeProof:     SynapseChallengeProof,
	ProtocolGetVmgwEnrollToken: SynapseGetVmgwEnrollToken,
}

var synapseToProtocol = func() map[string]string {
	m := make(map[string]string, len(protocolToSynapse))
	for p, s := range protocolToSynapse {
		m[s] = p
	}
	return m
}()

// Protocols lists every protocol type in a fixed order.
func Protocols() []string {
	return []string{
		ProtocolSessionInit, ProtocolHeartbeat, ProtocolTask,
		ProtocolChallenge, ProtocolChallengeProof, ProtocolGetVmgwEnrollToken,
	}
}

// SynapseForProtocol returns the synapse class name for a protocol type.
func SynapseForProtocol(protocolType string) (string, bool) {
	s, ok := protocolToSynapse[protocolType]
	return s, ok
}

// ProtocolForSynapse returns the protocol type served at a synapse class name.
func ProtocolForSynapse(synapseName string) (string, bool) {
	p, ok := synapseToProtocol[synapseName]
	return p, ok
}

// IsEncrypted reports whether payloads of the protocol travel as encrypted
// records; only the handshake is plaintext.
func IsEncrypted(protocolType string) bool {
	_, known := protocolToSynapse[protocolType]
	return known && protocolType != ProtocolSessionInit
}

// Error codes carried in error_code fields and in plaintext error answers.
const (
	CodeSuccess = 0

	CodeInvalidRequest            = 1000
	CodeInvalidResponse           = 1001
	CodeTimeoutError              = 1002
	CodeNetworkError              = 1003 // also signals rate limiting
	CodeHeartbeatProcessingFailed = 1004
	CodeTaskProcessingFailed      = 1005
	CodeChallengeProcessingFailed = 1006

	CodeConfigMissingKey       = 2000
	CodeConfigInvalidValue     = 2001
	CodeConfigValidationFailed = 2002

	CodeValidationFailed         = 3000
	CodeInvalidSignature         = 3001
	CodeInvalidProof             = 3002
	CodeMerkleVerificationFailed = 3003

	CodeSessionRequired      = 4010
	CodeSessionUnknown       = 4011
	CodeSessionExpired       = 4012
	CodeRehandshakeRequired  = 4013
	CodeReplayDetected       = 4014
	CodeBadAAD               = 4015
	CodeBadNonce             = 4016
	CodeSeqWindowExceeded    = 4017
	CodeHandshakeFailed      = 4018
	CodeSessionLimitExceeded = 4019
	CodeSequenceError        = 4020

	CodeDBError           = 5000
	CodeDBConnectionError = 5001
)

var codeNames = map[int]string{
	CodeSuccess:                   "SUCCESS",
	CodeInvalidRequest:            "INVALID_REQUEST",
	CodeInvalidResponse:           "INVALID_RESPONSE",
	CodeTimeoutError:              "TIMEOUT_ERROR",
	CodeNetworkError:              "NETWORK_ERROR",
	CodeHeartbeatProcessingFailed: "HEARTBEAT_PROCESSING_FAILED",
	CodeTaskProcessingFailed:      "TASK_PROCESSING_FAILED",
	CodeChallengeProcessingFailed: "CHALLENGE_PROCESSING_FAILED",
	CodeConfigMissingKey:          "CONFIG_MISSING_KEY",
	CodeConfigInvalidValue:        "CONFIG_INVALID_VALUE",
	CodeConfigValidationFailed:    "CONFIG_VALIDATION_FAILED",
	CodeValidationFailed:          "VALIDATION_FAILED",
	CodeInvalidSignature:          "INVALID_SIGNATURE",
	CodeInvalidProof:              "INVALID_PROOF",
	CodeMerkleVerificationFailed:  "MERKLE_VERIFICATION_FAILED",
	CodeSessionRequired:           "SESSION_REQUIRED",
	CodeSessionUnknown:            "SESSION_UNKNOWN",
	CodeSessionExpired:            "SESSION_EXPIRED",
	CodeRehandshakeRequired:       "REHANDSHAKE_REQUIRED",
	CodeReplayDetected:            "REPLAY_DETECTED",
	CodeBadAAD:                    "BAD_AAD",
	CodeBadNonce:                  "BAD_NONCE",
	CodeSeqWindowExceeded:         "SEQ_WINDOW_EXCEEDED",
	CodeHandshakeFailed:           "HANDSHAKE_FAILED",
	CodeSessionLimitExceeded:      "SESSION_LIMIT_EXCEEDED",
	CodeSequenceError:             "SEQUENCE_ERROR",
	CodeDBError:                   "DB_ERROR",
	CodeDBConnectionError:         "DB_CONNECTION_ERROR",
}

// CodeName returns the symbolic name of an error code, or "UNKNOWN_<n>".
func CodeName(code int) string {
	if n, ok := codeNames[code]; ok {
		return n
	}
	return "UNKNOWN_" + strconv.Itoa(code)
}

// IsKnownCode reports whether code is one of the defined error codes.
func IsKnownCode(code int) bool {
	_, ok := codeNames[code]
	return ok
}

// SessionRetryable reports whether a peer answering with code should make
// the client drop its session, handshake again and retry once.
func SessionRetryable(code int) bool {
	switch code {
	case CodeSessionUnknown, CodeSessionExpired, CodeRehandshakeRequired, CodeSequenceError:
		return true
	}
	return false
}
