package compute

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vigil-validator/vigil/internal/challenge"
	"github.com/vigil-validator/vigil/internal/computeproto"
)

func TestCPUChallengeEndToEnd(t *testing.T) {
	seed := []byte{0xab, 0xcd, 0x01, 0x02, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	const n, iters = 211, 2
	res, err := ComputeCPU(seed, n, iters)
	if err != nil {
		t.Fatal(err)
	}
	rows := challenge.DefaultSampling().CPURowsToCheck(n)
	p, err := res.Prove(rows)
	if err != nil {
		t.Fatal(err)
	}
	if v := challenge.VerifyCPU(seed, n, iters, rows, res.Root(), p); !v.Passed {
		t.Fatalf("the worker's own proof: %+v", v)
	}
	p.RowHashes[len(rows)/2] = strings.Repeat("0", 16)
	if v := challenge.VerifyCPU(seed, n, iters, rows, res.Root(), p); v.Passed || v.Rule != challenge.RuleMerkle {
		t.Fatalf("a tampered hash: %+v", v)
	}
	if _, err := res.Prove([]int{n}); !errors.Is(err, challenge.ErrBadChallenge) {
		t.Fatalf("a row out of range: %v", err)
	}
}

func newBackend(t *testing.T, devices, maxSize int) *CPUBackend {
	t.Helper()
	key, err := GenerateSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewCPUBackend(key, devices, maxSize)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCPUBackendCells: every cell the CPU backend keeps is the exact cell
// (GPUCell, held to NumPy) rounded once to binary16.
func TestCPUBackendCells(t *testing.T) {
	b := newBackend(t, 1, 64)
	ctx := context.Background()
	const seed, n, iters = "0123456789abcdef", 37, 3
	res, err := b.Submit(ctx, Task{SeedHex: seed, Size: n, Iterations: iters})
	if err != nil {
		t.Fatal(err)
	}
	uuid := res[0].UUID
	sh := challenge.SeedHash(seed, uuid)
	all := make([]int, n)
	for i := range all {
		all[i] = i
	}
	rows, err := b.Rows(ctx, uuid, all)
	if err != nil {
		t.Fatal(err)
	}
	for r := range n {
		for c := range n {
			want, _ := challenge.GPUCell(sh, n, r, c, iters)
			bits, err := challenge.FP16Bits(want)
			if err != nil {
				t.Fatal(err)
			}
			if got := rows[r][c]; got != challenge.FP16Value(bits) {
				t.Fatalf("C[%d][%d] = %v, want %v rounded from %v", r, c, got, challenge.FP16Value(bits), want)
			}
		}
		if h, _ := challenge.FP16RowHash(rows[r]); h != res[0].RowHashes[r] {
			t.Fatalf("row %d hashes to %s, the result says %s", r, h, res[0].RowHashes[r])
		}
	}
	if _, err := b.Submit(ctx, Task{SeedHex: seed, Size: 65, Iterations: 1}); !errors.Is(err, ErrBackend) {
		t.Fatalf("a size beyond the backend's: %v", err)
	}
}

// TestGPUChallengeThroughTheBinaryProtocol: a worker drives a GPU binary
// (a CPU backend behind the reference's socket protocol) through a whole
// challenge, and the validator's checks pass: the signature under the
// backend's key (and not under the reference binary's), the cells, the
// secret columns, the FP16 hashes and the proofs.
func TestGPUChallengeThroughTheBinaryProtocol(t *testing.T) {
	backend := newBackend(t, 2, 128)
	fake := startFake(t, backend)
	client := NewBinary(fake.path)
	ctx := context.Background()
	if err := client.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	devices, err := client.Devices(ctx)
	if err != nil || len(devices) != 2 || devices[0].UUID != backend.devices[0].UUID {
		t.Fatalf("devices %+v, %v", devices, err)
	}
	// A binary may write the compute capability as a number.
	fake.mu.Lock()
	fake.misbehave = func(cmd string) []byte {
		return frame(`{"success":true,"gpu_count":1,"gpus":[{"uuid":"GPU-1","name":"NVIDIA H100","compute_capability":8.9,"memory_total":85520809984}]}`)
	}
	fake.mu.Unlock()
	if ds, err := client.Devices(ctx); err != nil || len(ds) != 1 || ds[0].ComputeCapability != "8.9" || ds[0].MemoryTotal != 85520809984 {
		t.Fatalf("numeric compute capability: %+v, %v", ds, err)
	}
	fake.mu.Lock()
	fake.misbehave = nil
	fake.mu.Unlock()
	const seed, n, iters = "00ff00ff00ff00ff00ff00ff00ff00ff", 96, 2
	results, err := client.Submit(ctx, Task{SeedHex: seed, Size: n, Iterations: iters})
	if err != nil || len(results) != 2 {
		t.Fatalf("submit: %d results, %v", len(results), err)
	}
	trusted := challenge.TrustedKeys{&backend.key.PublicKey}
	reference, err := challenge.ParseTrustedKeys(challenge.ReferenceGPUKey)
	if err != nil {
		t.Fatal(err)
	}
	cells, rows := challenge.DefaultSampling().GPUTargets(n)
	for _, res := range results {
		if err := challenge.VerifyCommitment(trusted, res.SigVer, seed, res.UUID, res.MerkleRoot, res.SigVal); err != nil {
			t.Fatalf("%s: signature: %v", res.UUID, err)
		}
		if err := challenge.VerifyCommitment(reference, res.SigVer, seed, res.UUID, res.MerkleRoot, res.SigVal); !errors.Is(err, challenge.ErrSignatureInvalid) {
			t.Fatalf("%s: under the reference key alone: %v", res.UUID, err)
		}
		committed, err := Commit(res)
		if err != nil {
			t.Fatal(err)
		}
		proof, err := committed.Prove(ctx, client, cells, rows)
		if err != nil {
			t.Fatal(err)
		}
		check := challenge.GPUCheck{SeedHex: seed, UUID: res.UUID, Size: n, Iterations: iters, Root: res.MerkleRoot,
			Cells: cells, Rows: rows, Columns: challenge.SecretColumns(n, 0.05)}
		if v := challenge.VerifyGPU(check, challenge.DefaultTolerance(), proof); !v.Passed {
			t.Fatalf("%s: %+v", res.UUID, v)
		}
		// Each device computed its own matrices.
		other := check
		other.UUID = results[0].UUID
		if res.UUID != other.UUID {
			if v := challenge.VerifyGPU(other, challenge.DefaultTolerance(), proof); v.Passed {
				t.Fatalf("%s's proof passed as %s's", res.UUID, other.UUID)
			}
		}
	}
	if n, err := client.Clear(ctx, results[0].UUID); err != nil || n != 1 {
		t.Fatalf("clear: %d, %v", n, err)
	}
	if _, err := client.Cells(ctx, results[0].UUID, cells); !errors.Is(err, ErrBackend) || !strings.Contains(err.Error(), "no result kept") {
		t.Fatalf("cells of a cleared result: %v", err)
	}
	if n, err := client.Clear(ctx, ""); err != nil || n != 1 {
		t.Fatalf("clear all: %d, %v", n, err)
	}
	bad := results[1]
	bad.MerkleRoot = results[0].MerkleRoot
	if _, err := Commit(bad); !errors.Is(err, ErrBackend) {
		t.Fatalf("a root the row hashes do not build: %v", err)
	}
}

// TestBinaryRefusesBadAnswers: oversized, truncated, malformed and
// misshapen answers, and a binary that never answers, each end the call
// with an error, in bounded time.
func TestBinaryRefusesBadAnswers(t *testing.T) {
	backend := newBackend(t, 1, 32)
	fake := startFake(t, backend)
	client := NewBinary(fake.path)
	client.Timeout, client.SubmitTimeout = 300*time.Millisecond, 300*time.Millisecond
	ctx := context.Background()
	task := Task{SeedHex: "0011223344556677", Size: 16, Iterations: 1}
	stall := make(chan struct{})
	defer close(stall)
	cases := []struct {
		name   string
		answer []byte
		call   func() error
		want   string
	}{
		{"oversized", rawFrame(MaxFrame+1, ""), func() error { return client.Ping(ctx) }, "announced"},
		{"truncated", rawFrame(100, `{"pong":tr`), func() error { return client.Ping(ctx) }, "body of 100 bytes"},
		{"empty", rawFrame(0, ""), func() error { return client.Ping(ctx) }, "empty body"},
		{"not JSON", rawFrame(5, "hello"), func() error { return client.Ping(ctx) }, "not a JSON object"},
		{"no pong", frame(`{"pong":false}`), func() error { return client.Ping(ctx) }, "without pong"},
		{"failure", frame(`{"success":false,"error":"CUDA out of memory\n\u001b[31m"}`), func() error { _, err := client.Devices(ctx); return err }, "CUDA out of memory"},
		{"wrong types", frame(`{"success":true,"gpus":[{"uuid":7}]}`), func() error { _, err := client.Devices(ctx); return err }, "get_gpu_info"},
		{"no results", frame(`{"success":true,"results":[]}`), func() error { _, err := client.Submit(ctx, task); return err }, "0 results"},
		{"short row hashes", frame(`{"success":true,"results":[{"gpu_uuid":"g","merkle_root":"ab","row_hashes":["0123456789abcdef"]}]}`),
			func() error { _, err := client.Submit(ctx, task); return err }, "1 row hashes for 16 rows"},
		{"values short", frame(`{"success":true,"values":[1.5]}`),
			func() error {
				_, err := client.Cells(ctx, "g", []challenge.Cell{{Row: 0, Col: 0}, {Row: 1, Col: 1}})
				return err
			}, "1 values for 2 cells"},
		{"row missing", frame(`{"success":true,"matrix_size":2,"rows":{"0":[1,2]}}`),
			func() error { _, err := client.Rows(ctx, "g", []int{0, 1}); return err }, "row 1 missing"},
		{"row short", frame(`{"success":true,"matrix_size":2,"rows":{"0":[1]}}`),
			func() error { _, err := client.Rows(ctx, "g", []int{0}); return err }, "1 values for size 2"},
		{"stalled", nil, func() error { return client.Ping(ctx) }, "no answer within 300ms"},
	}
	for _, c := range cases {
		fake.mu.Lock()
		fake.misbehave = func(string) []byte {
			if c.answer == nil {
				<-stall
			}
			return c.answer
		}
		fake.mu.Unlock()
		start := time.Now()
		err := c.call()
		if err == nil || !errors.Is(err, ErrBackend) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error saying %q", c.name, err, c.want)
		}
		if err != nil && strings.ContainsAny(err.Error(), "\n\x1b") {
			t.Errorf("%s: control characters reach the error: %q", c.name, err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s: took %v", c.name, d)
		}
	}
	fake.mu.Lock()
	fake.misbehave = nil
	fake.mu.Unlock()
	if _, err := client.Submit(ctx, Task{SeedHex: "zz112233", Size: 4, Iterations: 1}); !errors.Is(err, challenge.ErrBadChallenge) {
		t.Fatalf("a bad task reached the binary: %v", err)
	}
	if err := client.Ping(ctx); err != nil {
		t.Fatalf("after the bad answers: %v", err)
	}
	missing := NewBinary(fake.path + ".absent")
	if err := missing.Ping(ctx); !errors.Is(err, ErrBackend) {
		t.Fatalf("no socket: %v", err)
	}
}

func frame(body string) []byte {
	var b bytes.Buffer
	_ = WriteFrame(&b, []byte(body))
	return b.Bytes()
}

func FuzzReadFrame(f *testing.F) {
	f.Add(frame(`{"pong":true}`))
	f.Add(rawFrame(MaxFrame+1, ""))
	f.Add(rawFrame(3, "ab"))
	f.Add([]byte{1, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		body, err := ReadFrame(bytes.NewReader(b), 1<<10)
		if err != nil {
			if !errors.Is(err, ErrFrame) {
				t.Fatalf("an error that is not ErrFrame: %v", err)
			}
			return
		}
		if len(body) == 0 || len(body) > 1<<10 || !bytes.Equal(body, b[4:4+len(body)]) {
			t.Fatalf("read %d bytes from %d", len(body), len(b))
		}
		var out bytes.Buffer
		if err := WriteFrame(&out, body); err != nil || !bytes.Equal(out.Bytes(), b[:4+len(body)]) {
			t.Fatalf("the frame does not round-trip: %v", err)
		}
	})
}

func TestWorkFrom(t *testing.T) {
	good := `{"challenge_id":"c1","challenge_type":"cpu_matrix","data":{"challenge_type":"cpu_matrix","matrix_size":2000,"seed":"00112233445566778899aabbccddeeff","iterations":1}}`
	c, err := computeproto.DecodeComputeChallenge([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	w, err := WorkFrom(c.ChallengeType, c.Data)
	if err != nil || w.Size != 2000 || len(w.Seed) != 16 || w.Type != computeproto.ChallengeCPUMatrix {
		t.Fatalf("%+v, %v", w, err)
	}
	for name, doc := range map[string]string{
		"CPU too large":  `{"challenge_id":"c","challenge_type":"cpu_matrix","data":{"matrix_size":20000,"seed":"0011223344556677"}}`,
		"types disagree": `{"challenge_id":"c","challenge_type":"gpu_matrix","data":{"challenge_type":"cpu_matrix","matrix_size":20,"seed":"0011223344556677"}}`,
		"upper-case":     `{"challenge_id":"c","challenge_type":"cpu_matrix","data":{"matrix_size":20,"seed":"00112233445566AA"}}`,
		"one GPU":        `{"challenge_id":"c","challenge_type":"gpu_matrix","data":{"matrix_size":20,"seed":"0011223344556677","target_gpu_id":0}}`,
	} {
		c, err := computeproto.DecodeComputeChallenge([]byte(doc))
		if err == nil {
			_, err = WorkFrom(c.ChallengeType, c.Data)
		}
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// FuzzWorkFrom: any challenge document either fails to decode or gives
// work within the bounds of its kind, never a panic.
func FuzzWorkFrom(f *testing.F) {
	f.Add([]byte(`{"challenge_id":"c","challenge_type":"gpu_matrix","data":{"matrix_size":32768,"seed":"00112233445566778899aabbccddeeff","iterations":1,"mode":0,"target_gpu_id":-1}}`))
	f.Add([]byte(`{"challenge_id":"c","challenge_type":"cpu_matrix","data":{"matrix_size":1,"seed":"00000000"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := computeproto.DecodeComputeChallenge(b)
		if err != nil {
			return
		}
		w, err := WorkFrom(c.ChallengeType, c.Data)
		if err != nil {
			return
		}
		limit := challenge.MaxSize
		if w.Type == computeproto.ChallengeGPUMatrix {
			limit = challenge.MaxGPUSize
		}
		if w.Size < 1 || w.Size > limit || w.Iterations < 1 || w.Iterations > challenge.MaxIterations || len(w.Seed) < 4 {
			t.Fatalf("out of bounds: %+v", w)
		}
	})
}
