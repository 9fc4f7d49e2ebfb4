package computeproto

// Input size caps, checked before any parsing. Each is a few times the
// largest payload an honest peer produces, so a peer cannot make us parse or
// hold more than that.
const (
	// A worker entry with 8 GPUs (NVML list, plugin list, CPU, memory,
	// storage and board details) is about 7 KB; 512 workers fit in 4 MiB.
	MaxHeartbeatSize = 4 << 20

	// A GPU proof holds 20-30 coordinate values plus 1-3 full rows of
	// N <= 34406 values, about 103k numbers of ~10 bytes each, so ~1.1 MB
	// per GPU and ~9 MB for an 8-GPU worker. The miner's worker socket
	// accepts 16 MiB messages, so nothing larger can reach it honestly.
	MaxProofDataSize = 16 << 20

	// One root and one 64-byte signature per GPU (~350 bytes each) plus a
	// small debug_info map of timestamps.
	MaxCommitmentDataSize = 256 << 10

	// One challenge (~500 bytes with its data map) per worker of a miner.
	MaxTaskResponseSize = 1 << 20

	// Proof requests: per GPU at most a few dozen coordinates and rows.
	MaxCommitmentResponseSize = 1 << 20

	// Handshake, task poll, acknowledgements, VMGW token, error answers:
	// a handful of short strings.
	MaxSmallPayloadSize = 64 << 10
)

// Element count caps. They bound allocation independently of the byte caps
// (a list of small numbers is cheap in bytes but not in memory) and reject
// values no honest peer sends.
const (
	MaxWorkersPerHeartbeat = 512  // the validator only ranks 100 per miner
	MaxGPUsPerSystem       = 64   // gpu_info may list a GPU twice (NVML and VFIO)
	MaxCapabilities        = 8    // two are defined
	MaxCommitments         = 64   // one per GPU of a worker
	MaxProofRequests       = 64   // one per committed GPU
	MaxProofs              = 64   // one per committed GPU
	MaxChallengesPerTask   = 512  // one pending challenge per worker
	MaxProofRows           = 1024 // the validator asks 25-75 CPU rows, 1-3 GPU rows
	MaxProofCoordinates    = 1024 // the validator asks 20-30 GPU cells
	MaxMerkleDepth         = 64   // 2^64 leaves; real trees have <= 16 levels
	MaxCoordinateValues    = 1 << 18
	MaxObjectMembers       = 256 // keys per decoded model object, known and unknown
)

// Value bounds.
const (
	MaxIDLength          = 256     // worker_id, challenge_id, uuid, hotkey, session_id
	MaxHashHexLength     = 128     // row hashes, leaf and proof hashes, roots
	MaxSignatureLength   = 1024    // sig_val text (64 raw bytes, hex or base64)
	MaxMatrixSize        = 1 << 16 // also the bound on any row or column index
	MaxChallengeTimeout  = 300
	MinChallengeTimeout  = 1
	MaxChallengeIters    = 64
	MaxTryAgainInSeconds = 3600
)

// Default values of the Python models.
const (
	DefaultSchemaVersion    = 1
	DefaultChallengeTimeout = 45
	DefaultRequestType      = RequestTypeChallenge
	DefaultWorkerStatus     = StatusOnline
	DefaultChallengeType    = ChallengeCPUMatrix
	DefaultIterations       = 1
)
