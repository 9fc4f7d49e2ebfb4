package computerpc_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-validator/vigil/bittensor/axon"
	"github.com/vigil-validator/vigil/bittensor/dendrite"
	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/internal/computeproto"
	"github.com/vigil-validator/vigil/internal/computerpc"
	"github.com/vigil-validator/vigil/internal/securesession"
)

// BenchmarkEncryptedHeartbeat measures miners' heartbeats (a two-worker
// payload, 2.6 KB of plaintext) through the whole validator path over
// loopback HTTP: the dendrite signs, the axon verifies the signature and
// the nonce and checks the body hash, the session layer opens the record,
// the payload is decoded and validated, and the answer is encrypted back
// and opened by the miner. Each parallel client is its own miner hotkey
// with its own session.
func BenchmarkEncryptedHeartbeat(b *testing.B) {
	target := validator(b, computerpc.ServerConfig{RateLimit: -1}, computerpc.Handlers{
		Heartbeat: answerHeartbeat,
	}, func(c *axon.Config) { c.RateLimit = -1 })
	hb := heartbeat(b)
	var miners atomic.Int64
	b.SetParallelism(4)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		c, err := computerpc.NewClient(key(b, fmt.Sprintf("//Miner%d", miners.Add(1))))
		if err != nil {
			b.Error(err)
			return
		}
		for pb.Next() {
			if r, err := c.Heartbeat(context.Background(), target, hb); err != nil || r.WorkersProcessed != int64(len(hb.Workers)) {
				b.Errorf("heartbeat: %+v %v", r, err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkAxonEncryptedServer measures what the validator side alone
// sustains: heartbeats signed and sealed by miners beforehand (eight
// miners, each with a real session) are replayed in order over keep-alive
// connections, as a load generator would, and the validator verifies each
// signature, nonce and body hash, opens and validates the record, and
// seals its answer. The generator only reads the responses; the last
// answer on each connection is opened and checked.
func BenchmarkAxonEncryptedServer(b *testing.B) {
	target := validator(b, computerpc.ServerConfig{RateLimit: -1}, computerpc.Handlers{
		Heartbeat: answerHeartbeat,
	}, func(c *axon.Config) { c.RateLimit = -1 })
	hb := heartbeat(b)
	plain, err := computeproto.Marshal(hb)
	if err != nil {
		b.Fatal(err)
	}
	const conns = 8
	miners := make([]*presigned, conns)
	for i := range miners {
		miners[i] = newPresigned(b, key(b, fmt.Sprintf("//Load%d", i)), target)
	}
	for i := range b.N {
		miners[i%conns].add(b, plain)
	}
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	for _, m := range miners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.replay(b)
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	for _, m := range miners {
		if m.last != nil {
			m.check(b, m.last, len(hb.Workers))
		}
	}
}

// presigned is one miner of the load generator: a session opened with a
// real handshake, and wire-ready requests signed by its dendrite.
type presigned struct {
	d      *dendrite.Dendrite
	target dendrite.Target
	miner  string
	sid    string
	keys   securesession.Keys
	seq    uint64
	reqs   [][]byte
	last   []byte // the last response body
}

func newPresigned(b *testing.B, kp *keys.KeyPair, target dendrite.Target) *presigned {
	d, err := dendrite.New(kp)
	if err != nil {
		b.Fatal(err)
	}
	priv, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	nonce := make([]byte, securesession.NonceSize)
	_, _ = rand.Read(nonce)
	pub := base64.StdEncoding.EncodeToString(priv.PublicKey().Bytes())
	req, _ := json.Marshal(map[string]any{"miner_eph_pub32": pub, "client_nonce16": base64.StdEncoding.EncodeToString(nonce), "created_at": float64(time.Now().Unix())})
	init := &computeproto.SessionInitSynapse{Request: ptr(string(req))}
	if err := d.Call(context.Background(), target, init); err != nil || !dendrite.Success(init) {
		b.Fatalf("handshake: %v", err)
	}
	resp, validatorPub, serverNonce, err := securesession.ParseSessionInitResponse(*init.Response)
	if err != nil {
		b.Fatal(err)
	}
	shared, err := securesession.SharedSecret(priv, validatorPub)
	if err != nil {
		b.Fatal(err)
	}
	k, err := securesession.DeriveKeys(shared, nonce, serverNonce, kp.SS58(), target.Hotkey, pub, resp.ValidatorEphPub32)
	if err != nil {
		b.Fatal(err)
	}
	p := &presigned{target: target, miner: kp.SS58(), sid: resp.SessionID, keys: k}
	// From here the dendrite only signs: its requests are captured, not
	// sent.
	d.HTTP = &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		var buf bytes.Buffer
		if err := r.Write(&buf); err != nil {
			return nil, err
		}
		p.reqs = append(p.reqs, buf.Bytes())
		return nil, errCaptured
	})}
	p.d = d
	return p
}

var errCaptured = errors.New("captured")

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func (p *presigned) add(b *testing.B, plain []byte) {
	p.seq++
	pkg, err := securesession.SealRecord(p.keys.ClientToServer[:], p.sid, p.seq, p.miner, p.target.Hotkey, computeproto.ProtocolHeartbeat, plain)
	if err != nil {
		b.Fatal(err)
	}
	s := computeproto.NewHeartbeatSynapse()
	s.Request = &pkg
	timeout := 60.0 // the nonces must stay fresh until they are replayed
	s.Timeout = &timeout
	n := len(p.reqs)
	_ = p.d.Call(context.Background(), p.target, s)
	if len(p.reqs) != n+1 {
		b.Fatal("the dendrite sent no request")
	}
}

// replay writes the requests in order on one connection, reading each
// answer before the next request.
func (p *presigned) replay(b *testing.B) {
	if len(p.reqs) == 0 {
		return
	}
	conn, err := net.Dial("tcp", net.JoinHostPort(p.target.IP, strconv.Itoa(p.target.Port)))
	if err != nil {
		b.Error(err)
		return
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	for i, req := range p.reqs {
		if _, err := conn.Write(req); err != nil {
			b.Error(err)
			return
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			b.Error(err)
			return
		}
		if resp.StatusCode != http.StatusOK {
			b.Errorf("request %d: HTTP %d %s", i, resp.StatusCode, resp.Header.Get("bt_header_axon_status_message"))
			return
		}
		if i == len(p.reqs)-1 {
			p.last, err = io.ReadAll(resp.Body)
		} else {
			_, err = io.Copy(io.Discard, resp.Body)
		}
		resp.Body.Close()
		if err != nil {
			b.Error(err)
			return
		}
	}
}

// check opens the validator's sealed answer.
func (p *presigned) check(b *testing.B, body []byte, workers int) {
	var s computeproto.HeartbeatSynapse
	if err := json.Unmarshal(body, &s); err != nil || s.Response == nil {
		b.Fatalf("answer %s: %v", body, err)
	}
	out, _, err := securesession.OpenRecord(p.keys.ServerToClient[:], p.target.Hotkey, p.miner, computeproto.ProtocolHeartbeat, *s.Response)
	if err != nil {
		b.Fatalf("answer does not open: %v (%s)", err, *s.Response)
	}
	r, err := computeproto.DecodeHeartbeatResponse(out)
	if err != nil || r.WorkersProcessed != int64(workers) {
		b.Fatalf("answer %+v %v", r, err)
	}
}

func ptr(s string) *string { return &s }
