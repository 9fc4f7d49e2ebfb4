package oracletest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// StartTimeout bounds how long Start waits for a script's first line and
// Close for its exit.
const StartTimeout = 60 * time.Second

// Process is a long-running oracle script (such as axon-peer.mjs): it reads
// one JSON input line, answers with a first JSON line, runs until its stdin
// is closed and ends with a last JSON line.
type Process struct {
	t      testing.TB
	name   string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr *syncBuffer

	first chan string // the first stdout line, once
	done  chan struct{}

	mu      sync.Mutex
	lines   []string
	waitErr error
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Start runs tools/oracle/<script> (which needs npm package module; see
// Script for when the test is skipped), writes input to its stdin as one JSON
// line, leaves stdin open, and waits for the script's first stdout line. The
// process is killed at test cleanup if it is still running.
func Start(t testing.TB, script, module string, input any) *Process {
	t.Helper()
	path := Script(t, script, module)
	line, err := json.Marshal(input)
	if err != nil {
		t.Fatal(err)
	}
	p := &Process{
		t:      t,
		name:   filepath.Base(path),
		stderr: &syncBuffer{},
		first:  make(chan string, 1),
		done:   make(chan struct{}),
	}
	p.cmd = exec.Command("node", p.name)
	p.cmd.Dir = filepath.Dir(path)
	p.cmd.Stderr = p.stderr
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("oracle %s: %v", p.name, err)
	}
	t.Cleanup(p.kill)
	go p.read(stdout)
	if _, err := p.stdin.Write(append(line, '\n')); err != nil {
		p.kill()
		t.Fatalf("oracle %s: writing input: %v\n%s", p.name, err, p.stderr.String())
	}
	select {
	case <-p.first:
	case <-p.done:
		t.Fatalf("oracle %s exited before its first line: %v\n%s", p.name, p.waitErr, p.stderr.String())
	case <-time.After(StartTimeout):
		p.kill()
		t.Fatalf("oracle %s: no first line within %v\n%s", p.name, StartTimeout, p.stderr.String())
	}
	return p
}

// read collects stdout lines until EOF, then waits for the process.
func (p *Process) read(stdout io.Reader) {
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 0, 64*1024), 64*1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		p.mu.Lock()
		p.lines = append(p.lines, line)
		n := len(p.lines)
		p.mu.Unlock()
		if n == 1 {
			p.first <- line
		}
	}
	err := p.cmd.Wait()
	p.mu.Lock()
	p.waitErr = err
	p.mu.Unlock()
	close(p.done)
}

// First decodes the script's first stdout line into v.
func (p *Process) First(v any) {
	p.t.Helper()
	p.mu.Lock()
	line := p.lines[0]
	p.mu.Unlock()
	if err := json.Unmarshal([]byte(line), v); err != nil {
		p.t.Fatalf("oracle %s first line: %v\n%.2000s", p.name, err, line)
	}
}

// Stderr returns what the script has written to stderr so far.
func (p *Process) Stderr() string { return p.stderr.String() }

// Close closes the script's stdin, waits for it to exit (killing it after
// StartTimeout) and decodes its last stdout line into final, unless final is
// nil. A non-zero exit fails the test.
func (p *Process) Close(final any) {
	p.t.Helper()
	p.stdin.Close()
	select {
	case <-p.done:
	case <-time.After(StartTimeout):
		p.kill()
		<-p.done
		p.t.Fatalf("oracle %s did not exit within %v after stdin was closed\n%s", p.name, StartTimeout, p.stderr.String())
	}
	p.mu.Lock()
	err, lines := p.waitErr, p.lines
	p.mu.Unlock()
	if err != nil {
		p.t.Fatalf("oracle %s: %v\n%s", p.name, err, p.stderr.String())
	}
	if final == nil {
		return
	}
	if len(lines) < 2 {
		p.t.Fatalf("oracle %s wrote no final line\n%s", p.name, p.stderr.String())
	}
	last := lines[len(lines)-1]
	if err := json.Unmarshal([]byte(last), final); err != nil {
		p.t.Fatalf("oracle %s last line: %v\n%.2000s", p.name, err, last)
	}
}

// kill ends the process if it is still running.
func (p *Process) kill() {
	select {
	case <-p.done:
	default:
		if p.cmd.Process != nil {
			_ = p.cmd.Process.Kill()
		}
		p.stdin.Close()
		<-p.done
	}
}
