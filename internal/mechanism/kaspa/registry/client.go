package registry

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/vigil-validator/vigil/bittensor/keys"
)

// Client is a miner's side of a validator's registry API: it signs
// /register and /unbind requests with the miner's hotkey, as the
// reference's miner script does.
type Client struct {
	// BaseURL is the validator's public API, e.g. http://host:8000.
	BaseURL string
	// HTTP defaults to a client with a 10 s timeout.
	HTTP *http.Client
	// Now defaults to time.Now; it stamps registrations.
	Now func() time.Time
}

// APIError is a non-2xx answer: its status and the server's detail.
type APIError struct {
	Status int
	Detail string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("HTTP %d: %s", e.Status, e.Detail)
}

// maxAnswer bounds what is read of an answer.
const maxAnswer = 64 << 10

var defaultHTTP = &http.Client{Timeout: 10 * time.Second}

// Register binds worker to kp's hotkey.
func (c *Client) Register(ctx context.Context, kp *keys.KeyPair, worker string) error {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	// Seconds with microseconds, as Python's time.time() gives them.
	ts := float64(now().UnixMicro()) / 1e6
	hotkey := kp.SS58()
	body, err := json.Marshal(map[string]any{"hotkey": hotkey, "worker": worker, "registration_time": ts})
	if err != nil {
		return err
	}
	return c.post(ctx, "/register", kp, RegistrationMessage(hotkey, worker, ts), body)
}

// Unbind releases worker from kp's hotkey.
func (c *Client) Unbind(ctx context.Context, kp *keys.KeyPair, worker string) error {
	hotkey := kp.SS58()
	body, err := json.Marshal(map[string]any{"hotkey": hotkey, "worker": worker})
	if err != nil {
		return err
	}
	return c.post(ctx, "/unbind", kp, UnbindMessage(hotkey, worker), body)
}

// maxRatings bounds a /ratings answer (a rating per hotkey).
const maxRatings = 4 << 20

// Ratings reads the validator's current ratings, hotkey → rating, from
// GET /ratings.
func (c *Client) Ratings(ctx context.Context) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(c.BaseURL, "/")+"/ratings", nil)
	if err != nil {
		return nil, err
	}
	answer, err := c.do(req, maxRatings)
	if err != nil {
		return nil, err
	}
	var out map[string]float64
	if err := json.Unmarshal(answer, &out); err != nil {
		return nil, fmt.Errorf("/ratings: %w", err)
	}
	return out, nil
}

func (c *Client) post(ctx context.Context, path string, kp *keys.KeyPair, msg, body []byte) error {
	sig, err := kp.Sign(msg)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(c.BaseURL, "/")+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Signature", hex.EncodeToString(sig[:]))
	_, err = c.do(req, maxAnswer)
	return err
}

// do sends req and returns the body of a 2xx answer (at most limit bytes),
// else an APIError.
func (c *Client) do(req *http.Request, limit int64) ([]byte, error) {
	hc := c.HTTP
	if hc == nil {
		hc = defaultHTTP
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 == 2 {
		return answer, nil
	}
	return nil, &APIError{Status: resp.StatusCode, Detail: answerDetail(answer)}
}

// answerDetail is the "detail" of a FastAPI-style error answer when it is a
// string, else the answer itself.
func answerDetail(answer []byte) string {
	var d struct {
		Detail json.RawMessage `json:"detail"`
	}
	if json.Unmarshal(answer, &d) == nil && len(d.Detail) > 0 {
		var s string
		if json.Unmarshal(d.Detail, &s) == nil {
			return s
		}
		return string(d.Detail)
	}
	return strings.TrimSpace(string(answer))
}

// IsAlreadyRegistered reports whether err is the registry's answer that
// the worker is bound already (to this hotkey or another).
func IsAlreadyRegistered(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == http.StatusBadRequest && ae.Detail == MsgAlreadyRegistered
}

// IsStatus reports whether err is an APIError with the given status.
func IsStatus(err error, status int) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == status
}
