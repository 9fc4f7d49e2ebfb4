package kaspasim

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Profile is how a simulated worker behaves on the bridge.
type Profile string

// The profiles. Each maps to one thing the rating rewards or penalises
// (the reference's rating, HashTensor_Subnet src/rating.py, and the share
// checks the bridge does and does not make).
const (
	// Honest stays connected and submits 22–30 shares/min at a pow2 vardiff
	// difficulty below the rating's cap, so work-seconds grow without gaps.
	Honest Profile = "honest"
	// Idle is connected (uptime gauge set, counters at 0) but never submits
	// a share, so it earns neither shares nor work-seconds.
	Idle Profile = "idle"
	// Intermittent mines honestly for 4–12 minutes, disconnects for 2–6,
	// and reconnects: its uptime gauge is deleted and set again with the new
	// connect time, and its work-seconds stop while it is away.
	Intermittent Profile = "intermittent"
	// Inflated submits at an honest rate on a fixed difficulty far above the
	// rating's 16384 hashValue cap, the target of its difficulty penalty.
	Inflated Profile = "inflated"
	// Flooding submits 240–360 shares/min on a fixed low difficulty, far
	// above the rating's 20/min, the target of its share-rate penalty.
	Flooding Profile = "flooding"
	// Invalid mines like Honest, but a quarter of its submissions are
	// rejected as stale, duplicate, weak or invalid.
	Invalid Profile = "invalid"
)

// Profiles lists every profile, in the order the default mix uses.
func Profiles() []Profile {
	return []Profile{Honest, Idle, Intermittent, Inflated, Flooding, Invalid}
}

// ParseProfile returns the profile called name.
func ParseProfile(name string) (Profile, error) {
	for _, p := range Profiles() {
		if string(p) == name {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: %q (want one of %s)", ErrBadProfile, name, profileNames())
}

func profileNames() string {
	names := make([]string, 0, len(Profiles()))
	for _, p := range Profiles() {
		names = append(names, string(p))
	}
	return strings.Join(names, ", ")
}

// ErrBadProfile is wrapped by profile and mix errors.
var ErrBadProfile = errors.New("bad profile")

// ProfileCount is one "profile:count" term of a mix.
type ProfileCount struct {
	Profile Profile
	Count   int
}

// Mix is how many workers follow each profile, in order.
type Mix []ProfileCount

// DefaultMix is one worker of each misbehaving profile beside three honest
// ones, so every rating path is exercised.
func DefaultMix() Mix {
	return Mix{{Honest, 3}, {Idle, 1}, {Intermittent, 1}, {Inflated, 1}, {Flooding, 1}, {Invalid, 1}}
}

// ParseMix parses "honest:4,idle:1,..."; a bare name counts one. A profile
// may appear once.
func ParseMix(spec string) (Mix, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, fmt.Errorf("%w: empty profile list", ErrBadProfile)
	}
	var m Mix
	seen := map[Profile]bool{}
	for term := range strings.SplitSeq(spec, ",") {
		term = strings.TrimSpace(term)
		name, count, hasCount := strings.Cut(term, ":")
		p, err := ParseProfile(strings.TrimSpace(name))
		if err != nil {
			return nil, err
		}
		if seen[p] {
			return nil, fmt.Errorf("%w: %q appears twice", ErrBadProfile, p)
		}
		seen[p] = true
		n := 1
		if hasCount {
			n, err = strconv.Atoi(strings.TrimSpace(count))
			if err != nil || n < 0 {
				return nil, fmt.Errorf("%w: %q: count %q is not a non-negative integer", ErrBadProfile, term, count)
			}
		}
		m = append(m, ProfileCount{p, n})
	}
	if m.Total() == 0 {
		return nil, fmt.Errorf("%w: %q has no workers", ErrBadProfile, spec)
	}
	return m, nil
}

// Total is the number of workers the mix describes.
func (m Mix) Total() int {
	n := 0
	for _, pc := range m {
		n += pc.Count
	}
	return n
}

// String is the mix in ParseMix's syntax.
func (m Mix) String() string {
	terms := make([]string, len(m))
	for i, pc := range m {
		terms[i] = fmt.Sprintf("%s:%d", pc.Profile, pc.Count)
	}
	return strings.Join(terms, ",")
}

// Expand returns one profile per worker for n workers: the mix in order,
// then Honest for any workers beyond it. n == 0 means the mix's total; n
// below the total is an error.
func (m Mix) Expand(n int) ([]Profile, error) {
	total := m.Total()
	if n == 0 {
		n = total
	}
	if n < total {
		return nil, fmt.Errorf("%w: the profiles describe %d workers but there are only %d", ErrBadProfile, total, n)
	}
	out := make([]Profile, 0, n)
	for _, pc := range m {
		for range pc.Count {
			out = append(out, pc.Profile)
		}
	}
	for len(out) < n {
		out = append(out, Honest)
	}
	return out, nil
}

// behaviour is the parameters a profile gives a worker.
type behaviour struct {
	intermittent bool       // cycles between connected and away
	submits      bool       // submits shares at all
	vardiff      bool       // difficulty follows the bridge's vardiff; otherwise fixed
	rate         [2]float64 // submissions per minute, drawn uniformly
	diffAbove    int        // for a fixed difficulty: log2 above the deployment's honest range
	invalid      float64    // fraction of submissions rejected
	invalidMix   [4]float64 // weights of stale, duplicate, weak, invalid
}

// invalidTypes are the bridge's invalid-share types, in the order of
// behaviour.invalidMix.
var invalidTypes = [4]string{"stale", "duplicate", "weak", "invalid"}

const typeInvalid = 3 // the type the hashrate sanity check books

func (p Profile) behaviour() behaviour {
	// 22–30/min rather than the full 20–40 band: vardiff doubles the
	// difficulty of a worker that shows 40 shares in its first minute,
	// which a true rate in the thirties often does. A stale share now and
	// then is normal at Kaspa's block rate.
	honest := behaviour{submits: true, vardiff: true, rate: [2]float64{22, 30},
		invalid: 0.005, invalidMix: [4]float64{1, 0, 0, 0}}
	switch p {
	case Idle:
		return behaviour{vardiff: true}
	case Intermittent:
		b := honest
		b.intermittent = true
		return b
	case Inflated:
		// Its share rate is in vardiff's band, so vardiff would leave the
		// difficulty where it is; pinning it keeps the claim exact.
		b := honest
		b.vardiff = false
		b.rate = [2]float64{20, 30}
		b.diffAbove = 6
		return b
	case Flooding:
		// A fixed low difficulty that vardiff does not raise, as on a bridge
		// run without -vardiff; some replayed nonces are caught as
		// duplicates.
		b := honest
		b.vardiff = false
		b.rate = [2]float64{240, 360}
		b.invalid = 0.03
		b.invalidMix = [4]float64{1, 2, 0, 0}
		return b
	case Invalid:
		// More submissions, so that the valid ones still sit in vardiff's
		// 20–40/min band.
		b := honest
		b.rate = [2]float64{30, 40}
		b.invalid = 0.25
		b.invalidMix = [4]float64{4, 3, 2, 1}
		return b
	}
	return honest
}
