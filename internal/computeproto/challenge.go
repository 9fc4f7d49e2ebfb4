package computeproto

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// Signature versions of a commitment.
const (
	SigVerCPU = 0 // no signature
	SigVerGPU = 1 // ECDSA P-256 by the compute binary
)

// CPUUUID is the uuid of the single commitment of a CPU challenge.
const CPUUUID = "-1"

// Commitment is one Merkle root, per GPU or the single CPU one. SigVal is
// Optional upstream with default ""; a null is read as "" and "" is written.
type Commitment struct {
	UUID       string `json:"uuid"`
	MerkleRoot string `json:"merkle_root"`
	SigVer     int64  `json:"sig_ver"`
	SigVal     string `json:"sig_val"`

	Extra map[string]json.RawMessage `json:"-"`
}

// DecodeCommitment decodes and validates a standalone commitment.
func DecodeCommitment(b []byte) (Commitment, error) {
	var c Commitment
	err := decodeDoc(b, MaxCommitmentDataSize, &c)
	return c, err
}

func (c *Commitment) decode(b []byte) error {
	f, err := readObject(b)
	if err != nil {
		return err
	}
	*c = Commitment{SigVer: SigVerCPU}
	f.str("uuid", &c.UUID, true)
	f.str("merkle_root", &c.MerkleRoot, true)
	f.int("sig_ver", &c.SigVer, false)
	f.nullStr("sig_val", &c.SigVal)
	c.Extra, err = f.done()
	return err
}

// UnmarshalJSON implements json.Unmarshaler.
func (c *Commitment) UnmarshalJSON(b []byte) error { return unmarshalModel(b, c) }

// MarshalJSON implements json.Marshaler.
func (c Commitment) MarshalJSON() ([]byte, error) {
	type wire Commitment
	return withExtra(wire(c), c.Extra)
}

// Validate checks the commitment. The uuid and the signature version must
// agree ("-1" exactly for CPU): otherwise a CPU result could pose as a GPU
// one or the reverse. A GPU signature must be hex or standard base64.
func (c Commitment) Validate() error {
	if err := checkID("uuid", c.UUID); err != nil {
		return err
	}
	if err := checkHash("merkle_root", c.MerkleRoot); err != nil {
		return err
	}
	if len(c.SigVal) > MaxSignatureLength {
		return invalid("sig_val", "too long")
	}
	switch c.SigVer {
	case SigVerCPU:
		if c.UUID != CPUUUID {
			return invalid("uuid", `must be "-1" for sig_ver 0`)
		}
	case SigVerGPU:
		if c.UUID == CPUUUID {
			return invalid("uuid", `"-1" is reserved for CPU commitments`)
		}
		if c.SigVal == "" {
			return invalid("sig_val", "required for sig_ver 1")
		}
		if !isHex(c.SigVal) && !isBase64(c.SigVal) {
			return invalid("sig_val", "must be hex or base64")
		}
	default:
		return invalid("sig_ver", "must be 0 or 1")
	}
	return checkExtra("", c.Extra)
}

// CommitmentData is phase 1 of a challenge (CHALLENGE_V1 request).
// DebugInfo is Optional upstream with default {}: decode keeps {} when
// absent and nil for null; nil is written as null.
type CommitmentData struct {
	ChallengeID   string          `json:"challenge_id"`
	WorkerID      string          `json:"worker_id"`
	Commitments   []Commitment    `json:"commitments"`
	DebugInfo     json.RawMessage `json:"debug_info"`
	SchemaVersion int64           `json:"schema_version"`

	Extra map[string]json.RawMessage `json:"-"`
}

var emptyObject = json.RawMessage("{}")

// NewCommitmentData returns phase-1 data with the model defaults.
func NewCommitmentData(challengeID, workerID string, commitments []Commitment) CommitmentData {
	return CommitmentData{ChallengeID: challengeID, WorkerID: workerID, Commitments: commitments,
		DebugInfo: bytes.Clone(emptyObject), SchemaVersion: DefaultSchemaVersion}
}

// DecodeCommitmentData decodes and validates a CHALLENGE_V1 request.
func DecodeCommitmentData(b []byte) (CommitmentData, error) {
	var c CommitmentData
	err := decodeDoc(b, MaxCommitmentDataSize, &c)
	return c, err
}

func (c *CommitmentData) decode(b []byte) error {
	f, err := readObject(b)
	if err != nil {
		return err
	}
	*c = CommitmentData{DebugInfo: bytes.Clone(emptyObject), SchemaVersion: DefaultSchemaVersion}
	f.str("challenge_id", &c.ChallengeID, true)
	f.str("worker_id", &c.WorkerID, true)
	f.value("commitments", true, false, func(v []byte) (err error) {
		c.Commitments, err = decodeModels[Commitment](v, MaxCommitments)
		return
	})
	if v, ok := f.m["debug_info"]; ok && isNull(v) {
		c.DebugInfo = nil
	}
	f.object("debug_info", &c.DebugInfo, true)
	f.int("schema_version", &c.SchemaVersion, false)
	c.Extra, err = f.done()
	return err
}

// UnmarshalJSON implements json.Unmarshaler.
func (c *CommitmentData) UnmarshalJSON(b []byte) error { return unmarshalModel(b, c) }

// MarshalJSON implements json.Marshaler.
func (c CommitmentData) MarshalJSON() ([]byte, error) {
	type wire CommitmentData
	w := wire(c)
	w.Commitments = nonNil(w.Commitments)
	return withExtra(w, c.Extra)
}

// Validate checks phase-1 data. An empty commitment list is refused: with
// nothing to sample, the reference validator would pass the challenge
// unverified. Uuids are unique, and a CPU commitment stands alone.
func (c CommitmentData) Validate() error {
	if err := checkID("challenge_id", c.ChallengeID); err != nil {
		return err
	}
	if err := checkID("worker_id", c.WorkerID); err != nil {
		return err
	}
	if err := checkUnits("commitments", len(c.Commitments), MaxCommitments, func(i int) (string, error) {
		return c.Commitments[i].UUID, c.Commitments[i].Validate()
	}); err != nil {
		return err
	}
	if err := checkObject("debug_info", c.DebugInfo, true); err != nil {
		return err
	}
	if err := checkSchema(c.SchemaVersion); err != nil {
		return err
	}
	return checkExtra("", c.Extra)
}

// checkUnits validates a per-GPU list (commitments, proofs, requests):
// 1..limit items, each valid, uuids unique, "-1" only alone.
func checkUnits(field string, n, limit int, item func(i int) (uuid string, err error)) error {
	if n == 0 {
		return invalid(field, "must not be empty")
	}
	if err := checkCount(field, n, limit); err != nil {
		return err
	}
	seen := make(map[string]bool, n)
	for i := 0; i < n; i++ {
		p := field + index(i)
		uuid, err := item(i)
		if err != nil {
			return within(p, err)
		}
		if seen[uuid] {
			return invalid(p+".uuid", "duplicate")
		}
		if uuid == CPUUUID && n > 1 {
			return invalid(p+".uuid", `"-1" cannot be mixed with GPU entries`)
		}
		seen[uuid] = true
	}
	return nil
}

// Coordinate is a [row, column] cell of the result matrix.
type Coordinate [2]int64

// UnmarshalJSON requires exactly two integers (encoding/json would accept
// a longer or shorter array silently).
func (c *Coordinate) UnmarshalJSON(b []byte) error {
	if err := checkJSON(b); err != nil {
		return err
	}
	return c.decode(bytes.TrimSpace(b))
}

func (c *Coordinate) decode(b []byte) error {
	v, err := decodeList(b, 2, intElem)
	if err != nil {
		return err
	}
	if len(v) != 2 {
		return invalid("", "must be a [row, col] pair")
	}
	*c = Coordinate{v[0], v[1]}
	return nil
}

// ProofRequest asks for the proofs of one committed unit. Rows and
// Coordinates are Optional upstream: null decodes to nil, and nil is
// written as [] (the validator always sends lists).
type ProofRequest struct {
	UUID        string       `json:"uuid"`
	Rows        []int64      `json:"rows"`
	Coordinates []Coordinate `json:"coordinates"`

	Extra map[string]json.RawMessage `json:"-"`
}

// DecodeProofRequest decodes and validates a standalone proof request.
func DecodeProofRequest(b []byte) (ProofRequest, error) {
	var r ProofRequest
	err := decodeDoc(b, MaxCommitmentResponseSize, &r)
	return r, err
}

func (r *ProofRequest) decode(b []byte) error {
	f, err := readObject(b)
	if err != nil {
		return err
	}
	*r = ProofRequest{}
	f.str("uuid", &r.UUID, true)
	f.value("rows", false, true, func(v []byte) (err error) {
		r.Rows, err = decodeList(v, MaxProofRows, intElem)
		return
	})
	f.value("coordinates", false, true, func(v []byte) (err error) {
		r.Coordinates, err = decodeList(v, MaxProofCoordinates, func(e []byte, c *Coordinate) error {
			return c.decode(e)
		})
		return
	})
	r.Extra, err = f.done()
	return err
}

// UnmarshalJSON implements json.Unmarshaler.
func (r *ProofRequest) UnmarshalJSON(b []byte) error { return unmarshalModel(b, r) }

// MarshalJSON implements json.Marshaler.
func (r ProofRequest) MarshalJSON() ([]byte, error) {
	type wire ProofRequest
	w := wire(r)
	w.Rows = nonNil(w.Rows)
	w.Coordinates = nonNil(w.Coordinates)
	return withExtra(w, r.Extra)
}

// Validate checks the request: something must be asked, and every index
// must lie in a matrix we could have issued.
func (r ProofRequest) Validate() error {
	if err := checkID("uuid", r.UUID); err != nil {
		return err
	}
	if len(r.Rows) == 0 && len(r.Coordinates) == 0 {
		return invalid("rows", "rows or coordinates must be non-empty")
	}
	if err := checkCount("rows", len(r.Rows), MaxProofRows); err != nil {
		return err
	}
	for i, row := range r.Rows {
		if err := checkIndex("", row); err != nil {
			return within("rows"+index(i), err)
		}
	}
	if err := checkCount("coordinates", len(r.Coordinates), MaxProofCoordinates); err != nil {
		return err
	}
	for i, c := range r.Coordinates {
		for j, x := range c {
			if err := checkIndex("", x); err != nil {
				return within("coordinates"+index(i)+index(j), err)
			}
		}
	}
	return checkExtra("", r.Extra)
}

func checkIndex(field string, x int64) error {
	if x < 0 {
		return invalid(field, "must be >= 0")
	}
	if x >= MaxMatrixSize {
		return invalid(field, "must be < "+strconv.Itoa(MaxMatrixSize))
	}
	return nil
}

// CommitmentResponse is the validator's phase-1 answer (CHALLENGE_V1
// response): the proofs it wants. It is a plain dict upstream, so the
// optional members are omitted when unset rather than written as null.
type CommitmentResponse struct {
	ProofRequests []ProofRequest `json:"proof_requests"`
	// Set with an empty request list when the validator accepted the
	// commitment without sampling anything.
	AutoVerified *bool   `json:"auto_verified,omitempty"`
	Message      *string `json:"message,omitempty"`

	Extra map[string]json.RawMessage `json:"-"`
}

// DecodeCommitmentResponse decodes and validates a CHALLENGE_V1 response.
func DecodeCommitmentResponse(b []byte) (CommitmentResponse, error) {
	var r CommitmentResponse
	err := decodeDoc(b, MaxCommitmentResponseSize, &r)
	return r, err
}

func (r *CommitmentResponse) decode(b []byte) error {
	f, err := readObject(b)
	if err != nil {
		return err
	}
	*r = CommitmentResponse{}
	f.value("proof_requests", true, false, func(v []byte) (err error) {
		r.ProofRequests, err = decodeModels[ProofRequest](v, MaxProofRequests)
		return
	})
	f.optBool("auto_verified", &r.AutoVerified)
	f.optStr("message", &r.Message)
	r.Extra, err = f.done()
	return err
}

// UnmarshalJSON implements json.Unmarshaler.
func (r *CommitmentResponse) UnmarshalJSON(b []byte) error { return unmarshalModel(b, r) }

// MarshalJSON implements json.Marshaler.
func (r CommitmentResponse) MarshalJSON() ([]byte, error) {
	type wire CommitmentResponse
	w := wire(r)
	w.ProofRequests = nonNil(w.ProofRequests)
	return withExtra(w, r.Extra)
}

// Validate checks the answer. An empty list is only meaningful together
// with auto_verified; uuids are unique.
func (r CommitmentResponse) Validate() error {
	if len(r.ProofRequests) == 0 {
		if r.AutoVerified == nil || !*r.AutoVerified {
			return invalid("proof_requests", "must not be empty unless auto_verified")
		}
	} else if err := checkUnits("proof_requests", len(r.ProofRequests), MaxProofRequests, func(i int) (string, error) {
		return r.ProofRequests[i].UUID, r.ProofRequests[i].Validate()
	}); err != nil {
		return err
	}
	return checkExtra("", r.Extra)
}

// MerkleProof is the path from one requested row hash to the root.
// ProofDirections[i] is true when ProofHashes[i] is the right sibling.
type MerkleProof struct {
	LeafIndex       int64    `json:"leaf_index"`
	LeafHash        string   `json:"leaf_hash"`
	ProofHashes     []string `json:"proof_hashes"`
	ProofDirections []bool   `json:"proof_directions"`

	Extra map[string]json.RawMessage `json:"-"`
}

func (m *MerkleProof) decode(b []byte) error {
	f, err := readObject(b)
	if err != nil {
		return err
	}
	*m = MerkleProof{}
	f.int("leaf_index", &m.LeafIndex, true)
	f.str("leaf_hash", &m.LeafHash, true)
	f.value("proof_hashes", true, false, func(v []byte) (err error) {
		m.ProofHashes, err = decodeList(v, MaxMerkleDepth, strElem)
		return
	})
	f.value("proof_directions", true, false, func(v []byte) (err error) {
		m.ProofDirections, err = decodeList(v, MaxMerkleDepth, boolElem)
		return
	})
	m.Extra, err = f.done()
	return err
}

// UnmarshalJSON implements json.Unmarshaler.
func (m *MerkleProof) UnmarshalJSON(b []byte) error { return unmarshalModel(b, m) }

// MarshalJSON implements json.Marshaler.
func (m MerkleProof) MarshalJSON() ([]byte, error) {
	type wire MerkleProof
	w := wire(m)
	w.ProofHashes = nonNil(w.ProofHashes)
	w.ProofDirections = nonNil(w.ProofDirections)
	return withExtra(w, m.Extra)
}

// Validate checks the path's shape; whether it leads to the root is for
// the verifier.
func (m MerkleProof) Validate() error {
	if err := checkIndex("leaf_index", m.LeafIndex); err != nil {
		return err
	}
	if err := checkHash("leaf_hash", m.LeafHash); err != nil {
		return err
	}
	if err := checkCount("proof_hashes", len(m.ProofHashes), MaxMerkleDepth); err != nil {
		return err
	}
	for i, h := range m.ProofHashes {
		if err := checkHash("", h); err != nil {
			return within("proof_hashes"+index(i), err)
		}
	}
	if len(m.ProofDirections) != len(m.ProofHashes) {
		return invalid("proof_directions", "length differs from proof_hashes")
	}
	return checkExtra("", m.Extra)
}

// ProofResponse carries the proofs of one committed unit. For GPU units
// CoordinateValues holds the requested cells followed by the full requested
// rows.
type ProofResponse struct {
	UUID             string        `json:"uuid"`
	RowHashes        []string      `json:"row_hashes"`
	MerkleProofs     []MerkleProof `json:"merkle_proofs"`
	CoordinateValues []PyFloat     `json:"coordinate_values"`

	Extra map[string]json.RawMessage `json:"-"`
}

// DecodeProofResponse decodes and validates a standalone proof.
func DecodeProofResponse(b []byte) (ProofResponse, error) {
	var p ProofResponse
	err := decodeDoc(b, MaxProofDataSize, &p)
	return p, err
}

func (p *ProofResponse) decode(b []byte) error {
	f, err := readObject(b)
	if err != nil {
		return err
	}
	*p = ProofResponse{}
	f.str("uuid", &p.UUID, true)
	f.value("row_hashes", true, false, func(v []byte) (err error) {
		p.RowHashes, err = decodeList(v, MaxProofRows, strElem)
		return
	})
	f.value("merkle_proofs", true, false, func(v []byte) (err error) {
		p.MerkleProofs, err = decodeModels[MerkleProof](v, MaxProofRows)
		return
	})
	f.value("coordinate_values", false, false, func(v []byte) (err error) {
		p.CoordinateValues, err = decodeList(v, MaxCoordinateValues, floatElem)
		return
	})
	p.Extra, err = f.done()
	return err
}

// UnmarshalJSON implements json.Unmarshaler.
func (p *ProofResponse) UnmarshalJSON(b []byte) error { return unmarshalModel(b, p) }

// MarshalJSON implements json.Marshaler.
func (p ProofResponse) MarshalJSON() ([]byte, error) {
	type wire ProofResponse
	w := wire(p)
	w.RowHashes = nonNil(w.RowHashes)
	w.MerkleProofs = nonNil(w.MerkleProofs)
	w.CoordinateValues = nonNil(w.CoordinateValues)
	return withExtra(w, p.Extra)
}

// Validate checks the proof's shape: one Merkle path per row hash, hex
// hashes, finite values (they are compared against expected products).
func (p ProofResponse) Validate() error {
	if err := checkID("uuid", p.UUID); err != nil {
		return err
	}
	if err := checkCount("row_hashes", len(p.RowHashes), MaxProofRows); err != nil {
		return err
	}
	for i, h := range p.RowHashes {
		if err := checkHash("", h); err != nil {
			return within("row_hashes"+index(i), err)
		}
	}
	if err := checkCount("merkle_proofs", len(p.MerkleProofs), MaxProofRows); err != nil {
		return err
	}
	if len(p.MerkleProofs) != len(p.RowHashes) {
		return invalid("merkle_proofs", "length differs from row_hashes")
	}
	for i, m := range p.MerkleProofs {
		if err := m.Validate(); err != nil {
			return within("merkle_proofs"+index(i), err)
		}
	}
	if err := checkCount("coordinate_values", len(p.CoordinateValues), MaxCoordinateValues); err != nil {
		return err
	}
	for i, x := range p.CoordinateValues {
		if err := checkFinite("", x, false); err != nil {
			return within("coordinate_values"+index(i), err)
		}
	}
	return checkExtra("", p.Extra)
}

// ProofData is phase 2 of a challenge (CHALLENGE_PROOF_V1 request).
// DebugInfo follows the CommitmentData convention.
type ProofData struct {
	ChallengeID   string          `json:"challenge_id"`
	Proofs        []ProofResponse `json:"proofs"`
	DebugInfo     json.RawMessage `json:"debug_info"`
	SchemaVersion int64           `json:"schema_version"`

	Extra map[string]json.RawMessage `json:"-"`
}

// NewProofData returns phase-2 data with the model defaults.
func NewProofData(challengeID string, proofs []ProofResponse) ProofData {
	return ProofData{ChallengeID: challengeID, Proofs: proofs, DebugInfo: bytes.Clone(emptyObject), SchemaVersion: DefaultSchemaVersion}
}

// DecodeProofData decodes and validates a CHALLENGE_PROOF_V1 request.
func DecodeProofData(b []byte) (ProofData, error) {
	var p ProofData
	err := decodeDoc(b, MaxProofDataSize, &p)
	return p, err
}

func (p *ProofData) decode(b []byte) error {
	f, err := readObject(b)
	if err != nil {
		return err
	}
	*p = ProofData{DebugInfo: bytes.Clone(emptyObject), SchemaVersion: DefaultSchemaVersion}
	f.str("challenge_id", &p.ChallengeID, true)
	f.value("proofs", true, false, func(v []byte) (err error) {
		p.Proofs, err = decodeModels[ProofResponse](v, MaxProofs)
		return
	})
	if v, ok := f.m["debug_info"]; ok && isNull(v) {
		p.DebugInfo = nil
	}
	f.object("debug_info", &p.DebugInfo, true)
	f.int("schema_version", &p.SchemaVersion, false)
	p.Extra, err = f.done()
	return err
}

// UnmarshalJSON implements json.Unmarshaler.
func (p *ProofData) UnmarshalJSON(b []byte) error { return unmarshalModel(b, p) }

// MarshalJSON implements json.Marshaler.
func (p ProofData) MarshalJSON() ([]byte, error) {
	type wire ProofData
	w := wire(p)
	w.Proofs = nonNil(w.Proofs)
	return withExtra(w, p.Extra)
}

// Validate checks phase-2 data: at least one proof, unique uuids, "-1"
// alone.
func (p ProofData) Validate() error {
	if err := checkID("challenge_id", p.ChallengeID); err != nil {
		return err
	}
	if err := checkUnits("proofs", len(p.Proofs), MaxProofs, func(i int) (string, error) {
		return p.Proofs[i].UUID, p.Proofs[i].Validate()
	}); err != nil {
		return err
	}
	if err := checkObject("debug_info", p.DebugInfo, true); err != nil {
		return err
	}
	if err := checkSchema(p.SchemaVersion); err != nil {
		return err
	}
	return checkExtra("", p.Extra)
}

// ChallengeStatusQueued is the only status of a ProofDataResponse.
const ChallengeStatusQueued = "queued"

// ProofDataResponse is the validator's phase-2 answer (CHALLENGE_PROOF_V1
// response). A plain dict upstream; all three members are always sent.
type ProofDataResponse struct {
	ChallengeStatus string `json:"challenge_status"`
	Message         string `json:"message"`
	ChallengeID     string `json:"challenge_id"`

	Extra map[string]json.RawMessage `json:"-"`
}

// DecodeProofDataResponse decodes and validates a CHALLENGE_PROOF_V1
// response.
func DecodeProofDataResponse(b []byte) (ProofDataResponse, error) {
	var r ProofDataResponse
	err := decodeDoc(b, MaxSmallPayloadSize, &r)
	return r, err
}

func (r *ProofDataResponse) decode(b []byte) error {
	f, err := readObject(b)
	if err != nil {
		return err
	}
	*r = ProofDataResponse{}
	f.str("challenge_status", &r.ChallengeStatus, true)
	f.nullStr("message", &r.Message)
	f.str("challenge_id", &r.ChallengeID, true)
	r.Extra, err = f.done()
	return err
}

// UnmarshalJSON implements json.Unmarshaler.
func (r *ProofDataResponse) UnmarshalJSON(b []byte) error { return unmarshalModel(b, r) }

// MarshalJSON implements json.Marshaler.
func (r ProofDataResponse) MarshalJSON() ([]byte, error) {
	type wire ProofDataResponse
	return withExtra(wire(r), r.Extra)
}

// Validate checks the acknowledgement.
func (r ProofDataResponse) Validate() error {
	if r.ChallengeStatus != ChallengeStatusQueued {
		return invalid("challenge_status", "must be queued")
	}
	if err := checkID("challenge_id", r.ChallengeID); err != nil {
		return err
	}
	return checkExtra("", r.Extra)
}
