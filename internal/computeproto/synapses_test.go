package computeproto

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/vigil-validator/vigil/bittensor/synapse"
)

// TestSynapsesMatchTheProtocolTable: each encrypted synapse's route, its
// protocol type and the protocol table agree, and each is built with
// protocol_version 1.
func TestSynapsesMatchTheProtocolTable(t *testing.T) {
	for _, s := range []EncryptedSynapse{NewHeartbeatSynapse(), NewTaskSynapse(), NewChallengeSynapse(), NewChallengeProofSynapse()} {
		name := synapse.Name(s)
		if want, ok := SynapseForProtocol(s.ProtocolType()); !ok || want != name {
			t.Errorf("%s serves %s, the table says %q", name, s.ProtocolType(), want)
		}
		if p, _ := ProtocolForSynapse(name); p != s.ProtocolType() {
			t.Errorf("%s: table protocol %q, synapse says %s", name, p, s.ProtocolType())
		}
		if b, err := json.Marshal(s); err != nil || !strings.Contains(string(b), `"protocol_version":1`) {
			t.Errorf("%s: %s %v, want protocol_version 1", name, b, err)
		}
	}
}
