package worker

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vigil-validator/vigil/internal/compute"
	"github.com/vigil-validator/vigil/internal/computeproto"
)

// Inventory reads what a heartbeat reports of this machine: CPUs and their
// load, memory, the root filesystem, uptime, the public address, and the
// GPUs (the backend's, else nvidia-smi's, else none). Reads are from /proc
// and the kernel, never from a third-party service.
type Inventory struct {
	// PublicIP, when set, is reported as is; otherwise the local address
	// the kernel routes to Probe from is used when it is publicly routable.
	PublicIP string
	Probe    string // host:port, usually the miner
	Backend  compute.Backend
	// NvidiaSMI is the nvidia-smi to ask when no backend reports GPUs; ""
	// looks it up on PATH.
	NvidiaSMI string

	mu       sync.Mutex
	lastIdle uint64
	lastAll  uint64
	// The slow parts (the GPUs, the routed address) are read at most every
	// staticTTL, as the reference caches GPU capabilities for 300 s.
	static   staticInfo
	staticAt time.Time
	// The last load sample.
	sample    computeproto.SystemInfo
	sampledAt time.Time
}

type staticInfo struct {
	publicIP  string
	osInfo    json.RawMessage
	gpuPlugin []computeproto.GPUEntry
	gpuInfo   []computeproto.GPUEntry
}

const staticTTL = 5 * time.Minute

// Refresh forgets the cached slow parts, so the next SystemInfo reads them.
func (inv *Inventory) Refresh() {
	inv.mu.Lock()
	inv.staticAt = time.Time{}
	inv.mu.Unlock()
}

func (inv *Inventory) staticParts(ctx context.Context) staticInfo {
	inv.mu.Lock()
	if !inv.staticAt.IsZero() && time.Since(inv.staticAt) < staticTTL {
		st := inv.static
		inv.mu.Unlock()
		return st
	}
	inv.mu.Unlock()
	var st staticInfo
	st.publicIP = inv.publicIP()
	st.osInfo, _ = json.Marshal(map[string]string{"system": runtimeSystem(), "machine": machine(), "release": kernelRelease()})
	st.gpuPlugin = []computeproto.GPUEntry{}
	if inv.Backend != nil {
		if ds, err := inv.Backend.Devices(ctx); err == nil {
			for _, d := range ds {
				extra, _ := json.Marshal(d)
				var m map[string]json.RawMessage
				_ = json.Unmarshal(extra, &m)
				delete(m, "uuid")
				delete(m, "name")
				st.gpuPlugin = append(st.gpuPlugin, computeproto.GPUEntry{UUID: d.UUID, Name: d.Name, Extra: m})
			}
		}
	}
	st.gpuInfo = []computeproto.GPUEntry{}
	if len(st.gpuPlugin) == 0 {
		st.gpuInfo = inv.nvidiaSMI(ctx)
	}
	inv.mu.Lock()
	inv.static, inv.staticAt = st, time.Now()
	inv.mu.Unlock()
	return st
}

// SystemInfo is the heartbeat's system_info: the machine's load as last
// sampled (at most sampleTTL ago), the slow parts as last read.
func (inv *Inventory) SystemInfo(ctx context.Context) computeproto.SystemInfo {
	inv.mu.Lock()
	fresh := !inv.sampledAt.IsZero() && time.Since(inv.sampledAt) < sampleTTL
	si := inv.sample
	inv.mu.Unlock()
	if !fresh {
		si = inv.Sample()
	}
	st := inv.staticParts(ctx)
	if st.publicIP != "" {
		ip := st.publicIP
		si.PublicIP = &ip
	}
	si.OSInfo = st.osInfo
	si.GPUPlugin, si.GPUInfo = st.gpuPlugin, st.gpuInfo
	return si
}

// sampleTTL bounds how often the load is read from /proc: heartbeats come
// every 30 s, but a burst of them must not cost a burst of reads.
const sampleTTL = time.Second

// Sample reads the machine's load now: CPUs, memory, the root filesystem,
// uptime.
func (inv *Inventory) Sample() computeproto.SystemInfo {
	si := computeproto.SystemInfo{CPUCount: int64(runtime.NumCPU()), GPUInfo: []computeproto.GPUEntry{}, GPUPlugin: []computeproto.GPUEntry{}}
	si.CPUUsage = computeproto.PyFloat(inv.cpuUsage())
	if total, avail, ok := meminfo(); ok {
		si.MemoryTotal, si.MemoryAvailable = total/1024, avail/1024
		if total > 0 {
			si.MemoryUsage = computeproto.PyFloat(round1(100 * float64(total-avail) / float64(total)))
		}
	}
	si.DiskTotal, si.DiskFree = diskGiB("/")
	if up, ok := uptime(); ok {
		v := computeproto.PyFloat(up)
		si.UptimeSeconds = &v
	}
	inv.mu.Lock()
	inv.sample, inv.sampledAt = si, time.Now()
	inv.mu.Unlock()
	return si
}

func round1(x float64) float64 { return float64(int64(x*10+0.5)) / 10 }

// cpuUsage is the busy share of all CPUs since the previous call, from
// /proc/stat, in percent (0 on the first call).
func (inv *Inventory) cpuUsage() float64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 5 || f[0] != "cpu" {
		return 0
	}
	var all, idle uint64
	for i, s := range f[1:] {
		v, _ := strconv.ParseUint(s, 10, 64)
		all += v
		if i == 3 || i == 4 { // idle, iowait
			idle += v
		}
	}
	inv.mu.Lock()
	defer inv.mu.Unlock()
	dAll, dIdle := all-inv.lastAll, idle-inv.lastIdle
	first := inv.lastAll == 0
	inv.lastAll, inv.lastIdle = all, idle
	if first || dAll == 0 {
		return 0
	}
	return round1(100 * float64(dAll-dIdle) / float64(dAll))
}

// meminfo is MemTotal and MemAvailable in KiB.
func meminfo() (total, avail int64, ok bool) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, 0, false
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		k, v, _ := strings.Cut(s.Text(), ":")
		n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "MemTotal":
			total = n
		case "MemAvailable":
			avail = n
		}
	}
	return total, avail, total > 0
}

func uptime() (float64, bool) {
	b, err := os.ReadFile("/proc/uptime")
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0, false
	}
	v, err := strconv.ParseFloat(f[0], 64)
	return v, err == nil
}

// publicIP is the configured address, or the local address routed towards
// the probe when it is publicly routable (no packet is sent: a UDP
// "connection" only asks the kernel for the route).
func (inv *Inventory) publicIP() string {
	if inv.PublicIP != "" {
		return inv.PublicIP
	}
	if inv.Probe == "" {
		return ""
	}
	c, err := net.Dial("udp", inv.Probe)
	if err != nil {
		return ""
	}
	defer c.Close()
	ua, ok := c.LocalAddr().(*net.UDPAddr)
	if !ok || !ua.IP.IsGlobalUnicast() || ua.IP.IsPrivate() {
		return ""
	}
	return ua.IP.String()
}

// nvidiaSMI lists the GPUs nvidia-smi reports, as NVML-style gpu_info
// entries; none when it is absent or fails.
func (inv *Inventory) nvidiaSMI(ctx context.Context) []computeproto.GPUEntry {
	bin := inv.NvidiaSMI
	if bin == "" {
		p, err := exec.LookPath("nvidia-smi")
		if err != nil {
			return []computeproto.GPUEntry{}
		}
		bin = p
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "--query-gpu=index,name,uuid,memory.total,memory.used,memory.free,utilization.gpu,temperature.gpu",
		"--format=csv,noheader,nounits").Output()
	if err != nil {
		return []computeproto.GPUEntry{}
	}
	rows, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
	if err != nil {
		return []computeproto.GPUEntry{}
	}
	gpus := []computeproto.GPUEntry{}
	for _, r := range rows {
		if len(r) != 8 || len(gpus) >= compute.MaxDevices {
			continue
		}
		num := func(s string) json.RawMessage {
			s = strings.TrimSpace(s)
			if _, err := strconv.ParseFloat(s, 64); err != nil {
				return json.RawMessage("null")
			}
			return json.RawMessage(s)
		}
		gpus = append(gpus, computeproto.GPUEntry{UUID: strings.TrimSpace(r[2]), Name: strings.TrimSpace(r[1]), Extra: map[string]json.RawMessage{
			"id": num(r[0]), "memory_total": num(r[3]), "memory_used": num(r[4]), "memory_free": num(r[5]),
			"gpu_util": num(r[6]), "temperature": num(r[7]), "vendor": json.RawMessage(`"NVIDIA"`), "type": json.RawMessage(`"discrete"`)}})
	}
	return gpus
}

func runtimeSystem() string {
	s := runtime.GOOS
	if s == "" {
		return ""
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func machine() string {
	switch runtime.GOARCH {
	case "amd64":
		return "x86_64"
	case "arm64":
		return "aarch64"
	}
	return runtime.GOARCH
}

func kernelRelease() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
