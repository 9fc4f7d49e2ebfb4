package deploy

import (
	"bufio"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/vigil-validator/vigil/internal/config"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct{ cmd, args string }

func parseDockerfile(t *testing.T, path string) [][]instruction {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var stages [][]instruction
	var pending string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if pending == "" && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if strings.HasSuffix(line, "\\") {
			pending += strings.TrimSuffix(line, "\\") + " "
			continue
		}
		line, pending = pending+line, ""
		cmd, args, _ := strings.Cut(line, " ")
		in := instruction{strings.ToUpper(cmd), strings.TrimSpace(args)}
		switch in.cmd {
		case "FROM":
			stages = append(stages, []instruction{in})
		case "ARG", "COPY", "RUN", "WORKDIR", "USER", "VOLUME", "EXPOSE", "HEALTHCHECK", "ENTRYPOINT", "CMD", "ENV", "LABEL":
			if len(stages) == 0 {
				if in.cmd == "ARG" {
					continue
				}
				t.Fatalf("%s before FROM", in.cmd)
			}
			stages[len(stages)-1] = append(stages[len(stages)-1], in)
		default:
			t.Fatalf("unknown Dockerfile instruction %q", in.cmd)
		}
	}
	return stages
}

// TestDockerfile: a build stage that runs scripts/release.sh, and a final
// stage, not the build image, that copies the binary that script names,
// runs as a non-root user and checks /health with 'vigil health'. Then the
// script runs here: the binary it writes is static, answers 'version' and
// is listed in SHA256SUMS with its hash.
func TestDockerfile(t *testing.T) {
	stages := parseDockerfile(t, filepath.Join("..", "Dockerfile"))
	if len(stages) < 2 {
		t.Fatalf("%d stages, want a build stage and a final one", len(stages))
	}
	build, final := stages[0], stages[len(stages)-1]
	if !strings.Contains(build[0].args, " AS build") {
		t.Errorf("first stage %q is not named build", build[0].args)
	}
	release := false
	for _, in := range build {
		release = release || (in.cmd == "RUN" && strings.Contains(in.args, "DIST=/out scripts/release.sh"))
	}
	if !release {
		t.Error("the build stage does not run scripts/release.sh into /out")
	}
	if strings.Contains(final[0].args, "golang") {
		t.Errorf("the final stage is the build image: %s", final[0].args)
	}
	var copied, user, health bool
	for _, in := range final {
		switch in.cmd {
		case "COPY":
			copied = copied || in.args == "--from=build /out/vigil-${TARGETOS}-${TARGETARCH} /usr/local/bin/vigil"
		case "USER":
			u, _, _ := strings.Cut(in.args, ":")
			user = u != "" && u != "0" && u != "root"
		case "HEALTHCHECK":
			health = strings.Contains(in.args, `CMD ["/usr/local/bin/vigil", "health"]`)
		}
	}
	if !copied || !user || !health {
		t.Errorf("final stage: copies the release binary %v, non-root user %v, health check %v", copied, user, health)
	}

	dist := t.TempDir()
	cmd := exec.Command("bash", "scripts/release.sh", runtime.GOOS+"/"+runtime.GOARCH)
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "DIST="+dist, "VERSION=v0.0.0-test", "COMMIT=abc")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("release.sh: %v\n%s", err, out)
	}
	bin := filepath.Join(dist, "vigil-"+runtime.GOOS+"-"+runtime.GOARCH)
	if runtime.GOOS == "linux" {
		f, err := elf.Open(bin)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
				t.Errorf("the release binary is dynamically linked")
			}
		}
		f.Close()
	}
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "v0.0.0-test") {
		t.Errorf("%s version: %v %s", bin, err, out)
	}
	raw, _ := os.ReadFile(bin)
	sum := sha256.Sum256(raw)
	sums, _ := os.ReadFile(filepath.Join(dist, "SHA256SUMS"))
	if !strings.Contains(string(sums), hex.EncodeToString(sum[:])+"  "+filepath.Base(bin)) {
		t.Errorf("SHA256SUMS does not list %s with its hash:\n%s", filepath.Base(bin), sums)
	}
}

// TestSystemdUnit: the unit passes systemd-analyze verify (where systemd
// is installed), runs as its own user and keeps its hardening.
func TestSystemdUnit(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("systemd", "vigil-validator.service"))
	if err != nil {
		t.Fatal(err)
	}
	unit := string(raw)
	for _, want := range []string{"User=vigil", "NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "CapabilityBoundingSet=\n",
		"SystemCallFilter=@system-service", "MemoryDenyWriteExecute=yes", "StateDirectory=vigil"} {
		if !strings.Contains(unit, want) {
			t.Errorf("the unit lacks %q", strings.TrimSpace(want))
		}
	}
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed")
	}
	// verify wants ExecStart to exist: point it at an executable that does.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "vigil-validator.service")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(unit, "/usr/local/bin/vigil", self)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(analyze, "verify", path).CombinedOutput(); err != nil {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestCompose: every file compose.yaml mounts exists, the validator's
// configuration loads, and Prometheus's passes promtool check config with
// the rules it names.
func TestCompose(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Services map[string]struct {
			Image   string   `yaml:"image"`
			Volumes []string `yaml:"volumes"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"localnet", "validator", "prometheus", "grafana"} {
		if _, ok := c.Services[s]; !ok {
			t.Errorf("no %s service", s)
		}
	}
	for name, s := range c.Services {
		for _, v := range s.Volumes {
			host, _, _ := strings.Cut(v, ":")
			if strings.HasPrefix(host, "./") {
				if _, err := os.Stat(filepath.Join("..", host)); err != nil {
					t.Errorf("%s mounts %s: %v", name, host, err)
				}
			}
		}
	}
	if _, err := config.LoadRole(config.DefaultValidator(), config.Source{File: filepath.Join("compose", "vigil.yaml")}); err != nil {
		t.Errorf("deploy/compose/vigil.yaml: %v", err)
	}
	tool := promtool(t)
	prom, err := os.ReadFile(filepath.Join("compose", "prometheus.yml"))
	if err != nil {
		t.Fatal(err)
	}
	rules, _ := filepath.Abs(filepath.Join("prometheus", "vigil-rules.yml"))
	dir := t.TempDir()
	local := strings.ReplaceAll(string(prom), "/etc/prometheus/vigil-rules.yml", rules)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(local), 0o644); err != nil {
		t.Fatal(err)
	}
	runTool(t, dir, tool, "check", "config", "prometheus.yml")
}
