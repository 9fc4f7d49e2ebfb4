package computeproto

import (
	"encoding/json"
	"time"
)

// Worker status values.
const (
	StatusOnline  = "online"
	StatusBusy    = "busy"
	StatusOffline = "offline"
)

// Worker capabilities, also the challenge types.
const (
	ChallengeCPUMatrix = "cpu_matrix"
	ChallengeGPUMatrix = "gpu_matrix"
)

func validStatus(s string) bool {
	return s == StatusOnline || s == StatusBusy || s == StatusOffline
}

func validChallengeType(s string) bool {
	return s == ChallengeCPUMatrix || s == ChallengeGPUMatrix
}

// Encoding convention for every model type (the Python side builds these
// with model_dump, which writes every declared field and None as null):
// all declared fields are always written; Optional fields held as nil
// pointers or nil raw objects are written as null, which the Python models
// accept; list fields are never null. Unknown members read on decode are
// kept in Extra and written back unchanged, so relaying a payload through
// this package loses nothing.

// GPUEntry is one item of SystemInfo.gpu_info (NVML or VFIO data) or
// SystemInfo.gpu_plugin (what the compute binary reports). Only the uuid
// and name are typed; memory, utilisation and the rest stay in Extra. The
// items are plain dicts upstream, so an empty uuid or name is omitted on
// encode rather than written as null: readers treat both as "no value".
type GPUEntry struct {
	UUID  string                     `json:"uuid,omitempty"`
	Name  string                     `json:"name,omitempty"`
	Extra map[string]json.RawMessage `json:"-"`
}

func (g *GPUEntry) decode(b []byte) error {
	f, err := readObject(b)
	if err != nil {
		return err
	}
	*g = GPUEntry{}
	f.nullStr("uuid", &g.UUID)
	f.nullStr("name", &g.Name)
	g.Extra, err = f.done()
	return err
}

// UnmarshalJSON implements json.Unmarshaler.
func (g *GPUEntry) UnmarshalJSON(b []byte) error { return unmarshalModel(b, g) }

// MarshalJSON implements json.Marshaler.
func (g GPUEntry) MarshalJSON() ([]byte, error) {
	type wire GPUEntry
	return withExtra(wire(g), g.Extra)
}

// Validate checks the entry. NVML reports a null uuid when the query fails,
// so a uuid is optional here; see SystemInfo.Validate for gpu_plugin.
func (g GPUEntry) Validate() error {
	if len(g.UUID) > MaxIDLength {
		return invalid("uuid", "too long")
	}
	return checkExtra("", g.Extra)
}

// SystemInfo describes a host (a worker, or the miner itself). Counts are
// in MB (memory) and GB (disk); usages are percentages. The nested detail
// maps are free-form upstream and kept verbatim (nil means null/absent).
type SystemInfo struct {
	CPUCount        int64           `json:"cpu_count"`
	CPUUsage        PyFloat         `json:"cpu_usage"`
	MemoryTotal     int64           `json:"memory_total"`
	MemoryAvailable int64           `json:"memory_available"`
	MemoryUsage     PyFloat         `json:"memory_usage"`
	DiskTotal       int64           `json:"disk_total"`
	DiskFree        int64           `json:"disk_free"`
	GPUInfo         []GPUEntry      `json:"gpu_info"`
	GPUPlugin       []GPUEntry      `json:"gpu_plugin"`
	PublicIP        *string         `json:"public_ip"`
	CPUInfo         json.RawMessage `json:"cpu_info"`
	MemoryInfo      json.RawMessage `json:"memory_info"`
	OSInfo          json.RawMessage `json:"system_info"`
	MotherboardInfo json.RawMessage `json:"motherboard_info"`
	UptimeSeconds   *PyFloat        `json:"uptime_seconds"`
	// Sent by newer miners only; older validators keep them as unknown
	// members, so writing them (even as null) is harmless.
	StorageInfo  json.RawMessage `json:"storage_info"`
	MinerVersion *string         `json:"miner_version"`

	Extra map[string]json.RawMessage `json:"-"`
}

func (s *SystemInfo) decode(b []byte) error {
	f, err := readObject(b)
	if err != nil {
		return err
	}
	*s = SystemInfo{}
	f.int("cpu_count", &s.CPUCount, false)
	f.float("cpu_usage", &s.CPUUsage, false)
	f.int("memory_total", &s.MemoryTotal, false)
	f.int("memory_available", &s.MemoryAvailable, false)
	f.float("memory_usage", &s.MemoryUsage, false)
	f.int("disk_total", &s.DiskTotal, false)
	f.int("disk_free", &s.DiskFree, false)
	f.value("gpu_info", false, false, func(v []byte) (err error) {
		s.GPUInfo, err = decodeModels[GPUEntry](v, MaxGPUsPerSystem)
		return
	})
	f.value("gpu_plugin", false, false, func(v []byte) (err error) {
		s.GPUPlugin, err = decodeModels[GPUEntry](v, MaxGPUsPerSystem)
		return
	})
	f.optStr("public_ip", &s.PublicIP)
	f.object("cpu_info", &s.CPUInfo, true)
	f.object("memory_info", &s.MemoryInfo, true)
	f.object("system_info", &s.OSInfo, true)
	f.object("motherboard_info", &s.MotherboardInfo, true)
	f.optFloat("uptime_seconds", &s.UptimeSeconds)
	f.object("storage_info", &s.StorageInfo, true)
	f.optStr("miner_version", &s.MinerVersion)
	s.Extra, err = f.done()
	return err
}

// UnmarshalJSON implements json.Unmarshaler.
func (s *SystemInfo) UnmarshalJSON(b []byte) error { return unmarshalModel(b, s) }

// MarshalJSON implements json.Marshaler.
func (s SystemInfo) MarshalJSON() ([]byte, error) {
	type wire SystemInfo
	w := wire(s)
	w.GPUInfo = nonNil(w.GPUInfo)
	w.GPUPlugin = nonNil(w.GPUPlugin)
	return withExtra(w, s.Extra)
}

// Validate checks the host description. Percentages are not capped at 100:
// psutil rounding and container accounting can exceed it, and rejecting a
// whole heartbeat for that would mark healthy workers offline.
func (s SystemInfo) Validate() error {
	for _, c := range []struct {
		name string
		n    int64
	}{
		{"cpu_count", s.CPUCount}, {"memory_total", s.MemoryTotal},
		{"memory_available", s.MemoryAvailable}, {"disk_total", s.DiskTotal},
		{"disk_free", s.DiskFree},
	} {
		if err := checkNonNegative(c.name, c.n); err != nil {
			return err
		}
	}
	if err := checkFinite("cpu_usage", s.CPUUsage, true); err != nil {
		return err
	}
	if err := checkFinite("memory_usage", s.MemoryUsage, true); err != nil {
		return err
	}
	if s.UptimeSeconds != nil {
		if err := checkFinite("uptime_seconds", *s.UptimeSeconds, true); err != nil {
			return err
		}
	}
	if err := checkCount("gpu_info", len(s.GPUInfo), MaxGPUsPerSystem); err != nil {
		return err
	}
	for i, g := range s.GPUInfo {
		if err := g.Validate(); err != nil {
			return within("gpu_info"+index(i), err)
		}
	}
	if err := checkCount("gpu_plugin", len(s.GPUPlugin), MaxGPUsPerSystem); err != nil {
		return err
	}
	// The plugin list is what GPU inventory and commitments are keyed by,
	// so every entry must name its GPU.
	for i, g := range s.GPUPlugin {
		p := "gpu_plugin" + index(i)
		if err := checkID("uuid", g.UUID); err != nil {
			return within(p, err)
		}
		if err := g.Validate(); err != nil {
			return within(p, err)
		}
	}
	for _, o := range []struct {
		name string
		raw  json.RawMessage
	}{
		{"cpu_info", s.CPUInfo}, {"memory_info", s.MemoryInfo}, {"system_info", s.OSInfo},
		{"motherboard_info", s.MotherboardInfo}, {"storage_info", s.StorageInfo},
	} {
		if err := checkObject(o.name, o.raw, true); err != nil {
			return err
		}
	}
	return checkExtra("", s.Extra)
}

// WorkerInfo is one worker as relayed by its miner.
type WorkerInfo struct {
	WorkerID      string     `json:"worker_id"`
	WorkerName    *string    `json:"worker_name"`
	WorkerVersion *string    `json:"worker_version"`
	Capabilities  []string   `json:"capabilities"`
	Status        string     `json:"status"`
	SystemInfo    SystemInfo `json:"system_info"`
	// Epoch seconds. Python fills an absent value with its own clock; we
	// leave 0 so a handler decides which clock to trust.
	ConnectedAt   PyFloat `json:"connected_at"`
	LastHeartbeat PyFloat `json:"last_heartbeat"`

	Extra map[string]json.RawMessage `json:"-"`
}

// NewWorkerInfo returns a worker with the model defaults, both timestamps
// set to now.
func NewWorkerInfo(workerID string, now time.Time) WorkerInfo {
	t := epoch(now)
	return WorkerInfo{
		WorkerID: workerID, Capabilities: []string{}, Status: DefaultWorkerStatus,
		SystemInfo:  SystemInfo{GPUInfo: []GPUEntry{}, GPUPlugin: []GPUEntry{}},
		ConnectedAt: t, LastHeartbeat: t,
	}
}

func epoch(t time.Time) PyFloat { return PyFloat(float64(t.UnixNano()) / 1e9) }

func (w *WorkerInfo) decode(b []byte) error {
	f, err := readObject(b)
	if err != nil {
		return err
	}
	*w = WorkerInfo{Status: DefaultWorkerStatus}
	f.str("worker_id", &w.WorkerID, true)
	f.optStr("worker_name", &w.WorkerName)
	f.optStr("worker_version", &w.WorkerVersion)
	f.value("capabilities", false, false, func(v []byte) (err error) {
		w.Capabilities, err = decodeList(v, MaxCapabilities, strElem)
		return
	})
	f.str("status", &w.Status, false)
	f.value("system_info", false, false, w.SystemInfo.decode)
	f.float("connected_at", &w.ConnectedAt, false)
	f.float("last_heartbeat", &w.LastHeartbeat, false)
	w.Extra, err = f.done()
	return err
}

// UnmarshalJSON implements json.Unmarshaler.
func (w *WorkerInfo) UnmarshalJSON(b []byte) error { return unmarshalModel(b, w) }

// MarshalJSON implements json.Marshaler.
func (w WorkerInfo) MarshalJSON() ([]byte, error) {
	type wire WorkerInfo
	x := wire(w)
	x.Capabilities = nonNil(x.Capabilities)
	return withExtra(x, w.Extra)
}

// Validate checks the worker. Capabilities must be known ones: they select
// the challenge type, and an unknown one has no challenge to earn from.
func (w WorkerInfo) Validate() error {
	if err := checkID("worker_id", w.WorkerID); err != nil {
		return err
	}
	if err := checkCount("capabilities", len(w.Capabilities), MaxCapabilities); err != nil {
		return err
	}
	for i, c := range w.Capabilities {
		if !validChallengeType(c) {
			return invalid("capabilities"+index(i), "must be cpu_matrix or gpu_matrix")
		}
	}
	if !validStatus(w.Status) {
		return invalid("status", "must be online, busy or offline")
	}
	if err := w.SystemInfo.Validate(); err != nil {
		return within("system_info", err)
	}
	if err := checkFinite("connected_at", w.ConnectedAt, true); err != nil {
		return err
	}
	if err := checkFinite("last_heartbeat", w.LastHeartbeat, true); err != nil {
		return err
	}
	return checkExtra("", w.Extra)
}

// HeartbeatData is the miner's periodic report (HEARTBEAT_V1 request).
type HeartbeatData struct {
	Hotkey        string       `json:"hotkey"`
	Timestamp     PyFloat      `json:"timestamp"` // 0 when the peer omitted it
	Workers       []WorkerInfo `json:"workers"`
	MinerInfo     *SystemInfo  `json:"miner_info"`
	SchemaVersion int64        `json:"schema_version"`

	Extra map[string]json.RawMessage `json:"-"`
}

// NewHeartbeatData returns a heartbeat with the model defaults.
func NewHeartbeatData(hotkey string, now time.Time) HeartbeatData {
	return HeartbeatData{Hotkey: hotkey, Timestamp: epoch(now), Workers: []WorkerInfo{}, SchemaVersion: DefaultSchemaVersion}
}

// DecodeHeartbeatData decodes and validates a HEARTBEAT_V1 request.
func DecodeHeartbeatData(b []byte) (HeartbeatData, error) {
	var h HeartbeatData
	err := decodeDoc(b, MaxHeartbeatSize, &h)
	return h, err
}

func (h *HeartbeatData) decode(b []byte) error {
	f, err := readObject(b)
	if err != nil {
		return err
	}
	*h = HeartbeatData{SchemaVersion: DefaultSchemaVersion}
	f.str("hotkey", &h.Hotkey, true)
	f.float("timestamp", &h.Timestamp, false)
	f.value("workers", true, false, func(v []byte) (err error) {
		h.Workers, err = decodeModels[WorkerInfo](v, MaxWorkersPerHeartbeat)
		return
	})
	f.value("miner_info", false, true, func(v []byte) error {
		h.MinerInfo = new(SystemInfo)
		return h.MinerInfo.decode(v)
	})
	f.int("schema_version", &h.SchemaVersion, false)
	h.Extra, err = f.done()
	return err
}

// UnmarshalJSON implements json.Unmarshaler.
func (h *HeartbeatData) UnmarshalJSON(b []byte) error { return unmarshalModel(b, h) }

// MarshalJSON implements json.Marshaler.
func (h HeartbeatData) MarshalJSON() ([]byte, error) {
	type wire HeartbeatData
	w := wire(h)
	w.Workers = nonNil(w.Workers)
	return withExtra(w, h.Extra)
}

// Validate checks the heartbeat. Worker ids must be unique: the miner
// de-duplicates before sending, and handlers key workers by id.
func (h HeartbeatData) Validate() error {
	if err := checkID("hotkey", h.Hotkey); err != nil {
		return err
	}
	if err := checkFinite("timestamp", h.Timestamp, true); err != nil {
		return err
	}
	if err := checkCount("workers", len(h.Workers), MaxWorkersPerHeartbeat); err != nil {
		return err
	}
	seen := make(map[string]bool, len(h.Workers))
	for i, w := range h.Workers {
		p := "workers" + index(i)
		if err := w.Validate(); err != nil {
			return within(p, err)
		}
		if seen[w.WorkerID] {
			return invalid(p+".worker_id", "duplicate")
		}
		seen[w.WorkerID] = true
	}
	if h.MinerInfo != nil {
		if err := h.MinerInfo.Validate(); err != nil {
			return within("miner_info", err)
		}
	}
	if err := checkSchema(h.SchemaVersion); err != nil {
		return err
	}
	return checkExtra("", h.Extra)
}

// HeartbeatResponse is the validator's answer to a heartbeat.
type HeartbeatResponse struct {
	ErrorCode        int64   `json:"error_code"`
	Message          string  `json:"message"`
	WorkersProcessed int64   `json:"workers_processed"`
	Timestamp        PyFloat `json:"timestamp"`
	RequestID        *string `json:"request_id"`
	SchemaVersion    int64   `json:"schema_version"`

	Extra map[string]json.RawMessage `json:"-"`
}

// NewHeartbeatResponse returns a response with the model defaults.
func NewHeartbeatResponse(code int64, message string, workers int64, now time.Time) HeartbeatResponse {
	return HeartbeatResponse{ErrorCode: code, Message: message, WorkersProcessed: workers, Timestamp: epoch(now), SchemaVersion: DefaultSchemaVersion}
}

// DecodeHeartbeatResponse decodes and validates a HEARTBEAT_V1 response.
func DecodeHeartbeatResponse(b []byte) (HeartbeatResponse, error) {
	var r HeartbeatResponse
	err := decodeDoc(b, MaxSmallPayloadSize, &r)
	return r, err
}

func (r *HeartbeatResponse) decode(b []byte) error {
	f, err := readObject(b)
	if err != nil {
		return err
	}
	*r = HeartbeatResponse{SchemaVersion: DefaultSchemaVersion}
	f.int("error_code", &r.ErrorCode, false)
	f.str("message", &r.Message, true) // required, may be empty
	f.int("workers_processed", &r.WorkersProcessed, false)
	f.float("timestamp", &r.Timestamp, false)
	f.optStr("request_id", &r.RequestID)
	f.int("schema_version", &r.SchemaVersion, false)
	r.Extra, err = f.done()
	return err
}

// UnmarshalJSON implements json.Unmarshaler.
func (r *HeartbeatResponse) UnmarshalJSON(b []byte) error { return unmarshalModel(b, r) }

// MarshalJSON implements json.Marshaler.
func (r HeartbeatResponse) MarshalJSON() ([]byte, error) {
	type wire HeartbeatResponse
	return withExtra(wire(r), r.Extra)
}

// Validate checks the response; any error code is accepted, since a newer
// peer may define more.
func (r HeartbeatResponse) Validate() error {
	if err := checkNonNegative("error_code", r.ErrorCode); err != nil {
		return err
	}
	if err := checkNonNegative("workers_processed", r.WorkersProcessed); err != nil {
		return err
	}
	if err := checkFinite("timestamp", r.Timestamp, true); err != nil {
		return err
	}
	if err := checkSchema(r.SchemaVersion); err != nil {
		return err
	}
	return checkExtra("", r.Extra)
}

// DecodeSystemInfo decodes and validates a standalone SystemInfo.
func DecodeSystemInfo(b []byte) (SystemInfo, error) {
	var s SystemInfo
	err := decodeDoc(b, MaxHeartbeatSize, &s)
	return s, err
}

// DecodeWorkerInfo decodes and validates a standalone WorkerInfo.
func DecodeWorkerInfo(b []byte) (WorkerInfo, error) {
	var w WorkerInfo
	err := decodeDoc(b, MaxHeartbeatSize, &w)
	return w, err
}
