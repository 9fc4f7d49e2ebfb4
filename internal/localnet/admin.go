package localnet

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/vigil-validator/vigil/bittensor/subtensor"
)

// extraParams are the subnet settings outside subtensor.Hyperparameters
// that SetHyperparameter also changes.
var extraParams = map[string]func(s *Subnet, v json.RawMessage) error{
	"burn":               func(s *Subnet, v json.RawMessage) error { return json.Unmarshal(v, &s.Burn) },
	"max_allowed_uids":   func(s *Subnet, v json.RawMessage) error { return json.Unmarshal(v, &s.MaxAllowedUids) },
	"stake_threshold":    func(s *Subnet, v json.RawMessage) error { return json.Unmarshal(v, &s.StakeThreshold) },
	"emission_per_block": func(s *Subnet, v json.RawMessage) error { return json.Unmarshal(v, &s.EmissionPerBlock) },
	"bonds_penalty":      func(s *Subnet, v json.RawMessage) error { return json.Unmarshal(v, &s.BondsPenalty) },
	// mechanism_count is MechanismCountCurrent; the emission is split
	// evenly between mechanisms, and fewer mechanisms drop the state of
	// those removed, as subtensor's do_set_mechanism_count does.
	"mechanism_count": func(s *Subnet, v json.RawMessage) error {
		var n uint8
		if err := json.Unmarshal(v, &n); err != nil || n == 0 || n > subtensor.MaxMechanisms {
			return fmt.Errorf("want 1-%d mechanisms (%v)", subtensor.MaxMechanisms, err)
		}
		s.MechanismCount = n
		for _, nr := range s.Neurons {
			if len(nr.Mechanisms) > int(n)-1 {
				nr.Mechanisms = nr.Mechanisms[:n-1]
			}
		}
		for who, cs := range s.HashCommits {
			s.HashCommits[who] = slices.DeleteFunc(cs, func(hc HashCommit) bool { return hc.Mech >= n })
		}
		for e, cs := range s.Timelocked {
			s.Timelocked[e] = slices.DeleteFunc(cs, func(tc TimelockCommit) bool { return tc.Mech >= n })
		}
		return nil
	},
}

// setParam sets one named parameter of a subnet from its JSON value,
// refusing unknown names and values of the wrong type.
func setParam(s *Subnet, name string, value json.RawMessage) error {
	if f, ok := extraParams[name]; ok {
		if err := f(s, value); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}
	var fields map[string]json.RawMessage
	b, err := json.Marshal(s.Params)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, &fields); err != nil {
		return err
	}
	if _, ok := fields[name]; !ok || name == "Version" {
		return fmt.Errorf("unknown hyperparameter %q", name)
	}
	fields[name] = value
	b, _ = json.Marshal(fields)
	p := s.Params
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	s.Params = p
	return nil
}

// SetHyperparameter changes a subnet's parameter from the next block on, as
// the subnet owner or sudo would on subtensor.
func (c *Chain) SetHyperparameter(netuid uint16, name string, value json.RawMessage) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	head := c.blocks[len(c.blocks)-1]
	s, ok := head.State.Subnets[netuid]
	if !ok {
		return fmt.Errorf("no subnet %d", netuid)
	}
	// Validate on a copy now, so the caller hears of a bad value.
	if err := setParam(s.clone(), name, value); err != nil {
		return err
	}
	c.admin = append(c.admin, func(st *State) {
		if s, ok := st.Subnets[netuid]; ok {
			_ = setParam(s, name, value)
			if name == "stake_threshold" {
				// One value for the chain, as on subtensor.
				st.StakeThreshold, s.StakeThreshold = s.StakeThreshold, 0
			}
			if name == "tempo" && s.stateful {
				// set_tempo resets the cycle: the next epoch is tempo
				// blocks from now (apply_tempo_with_cycle_reset).
				s.LastEpochBlock = st.Number
			}
		}
	})
	return nil
}
