package subtensor

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/vigil-validator/vigil/bittensor/substrate"
)

// Subtensor's custom transaction-validity codes
// (common/src/transaction_error.rs): the pool refuses with "Invalid
// Transaction: Custom error: N".
const (
	CustomColdkeyInSwapSchedule            = 0
	CustomStakeAmountTooLow                = 1
	CustomBalanceTooLow                    = 2
	CustomSubnetNotExists                  = 3
	CustomHotkeyAccountDoesntExist         = 4
	CustomNotEnoughStakeToWithdraw         = 5
	CustomRateLimitExceeded                = 6
	CustomInsufficientLiquidity            = 7
	CustomSlippageTooHigh                  = 8
	CustomTransferDisallowed               = 9
	CustomHotKeyNotRegisteredInNetwork     = 10
	CustomInvalidIpAddress                 = 11
	CustomServingRateLimitExceeded         = 12
	CustomInvalidPort                      = 13
	CustomZeroMaxAmount                    = 14
	CustomInvalidRevealRound               = 15
	CustomCommitNotFound                   = 16
	CustomCommitBlockNotInRevealRange      = 17
	CustomInputLengthsUnequal              = 18
	CustomUidNotFound                      = 19
	CustomEvmKeyAssociateRateLimitExceeded = 20
	CustomColdkeySwapDisputed              = 21
	CustomInvalidRealAccount               = 22
	CustomFailedShieldedTxParsing          = 23
	CustomInvalidShieldedTxPubKeyHash      = 24
	CustomNonAssociatedColdKey             = 25
	CustomDelegateTakeTooLow               = 26
	CustomDelegateTakeTooHigh              = 27
	CustomBadRequest                       = 255
)

// customErrors names the custom codes.
var customErrors = map[int]string{
	CustomColdkeyInSwapSchedule:            "ColdkeyInSwapSchedule",
	CustomStakeAmountTooLow:                "StakeAmountTooLow",
	CustomBalanceTooLow:                    "BalanceTooLow",
	CustomSubnetNotExists:                  "SubnetNotExists",
	CustomHotkeyAccountDoesntExist:         "HotkeyAccountDoesntExist",
	CustomNotEnoughStakeToWithdraw:         "NotEnoughStakeToWithdraw",
	CustomRateLimitExceeded:                "RateLimitExceeded",
	CustomInsufficientLiquidity:            "InsufficientLiquidity",
	CustomSlippageTooHigh:                  "SlippageTooHigh",
	CustomTransferDisallowed:               "TransferDisallowed",
	CustomHotKeyNotRegisteredInNetwork:     "HotKeyNotRegisteredInNetwork",
	CustomInvalidIpAddress:                 "InvalidIpAddress",
	CustomServingRateLimitExceeded:         "ServingRateLimitExceeded",
	CustomInvalidPort:                      "InvalidPort",
	CustomZeroMaxAmount:                    "ZeroMaxAmount",
	CustomInvalidRevealRound:               "InvalidRevealRound",
	CustomCommitNotFound:                   "CommitNotFound",
	CustomCommitBlockNotInRevealRange:      "CommitBlockNotInRevealRange",
	CustomInputLengthsUnequal:              "InputLengthsUnequal",
	CustomUidNotFound:                      "UidNotFound",
	CustomEvmKeyAssociateRateLimitExceeded: "EvmKeyAssociateRateLimitExceeded",
	CustomColdkeySwapDisputed:              "ColdkeySwapDisputed",
	CustomInvalidRealAccount:               "InvalidRealAccount",
	CustomFailedShieldedTxParsing:          "FailedShieldedTxParsing",
	CustomInvalidShieldedTxPubKeyHash:      "InvalidShieldedTxPubKeyHash",
	CustomNonAssociatedColdKey:             "NonAssociatedColdKey",
	CustomDelegateTakeTooLow:               "DelegateTakeTooLow",
	CustomDelegateTakeTooHigh:              "DelegateTakeTooHigh",
	CustomBadRequest:                       "BadRequest",
}

// PoolError is a transaction the node refused before inclusion.
type PoolError struct {
	Code   int    // JSON-RPC code: 1010 invalid, 1012 banned, 1013 already imported, 1014 priority too low
	Reason string // the node's message and data
	Custom int    // subtensor's custom code, -1 when none
	Name   string // subtensor's name for Custom, or "" when unknown
	Hint   string // a likely cause, for the pool's generic rejections
	err    *substrate.RPCError
}

func (e *PoolError) Error() string {
	if e.Name != "" {
		return fmt.Sprintf("transaction refused by the pool: %s (custom error %d)", e.Name, e.Custom)
	}
	if e.Hint != "" {
		return "transaction refused by the pool: " + e.Reason + " (" + e.Hint + ")"
	}
	return "transaction refused by the pool: " + e.Reason
}

// poolHints explain the standard pool rejections a validator meets. A
// mortal transaction whose era has passed fails the signature check (its
// birth block is no longer the one the era names) or, once the birth block
// is pruned, as an ancient birth block.
var poolHints = []struct{ match, hint string }{
	{"bad signature", "signed for another chain or runtime, or its mortal era has expired"},
	{"ancient birth block", "its mortal era has expired"},
	{"outdated", "the nonce was already used; another transaction from this key landed first"},
	{"will be valid in the future", "the nonce is ahead of the account's; an earlier transaction is missing"},
}

func (e *PoolError) Unwrap() error { return e.err }

var customRe = regexp.MustCompile(`Custom error: (\d+)`)

// ExplainTxError turns a pool rejection from SubmitAndWatch into a
// *PoolError naming subtensor's custom code; other errors come back as
// they are.
func ExplainTxError(err error) error {
	var rpcErr *substrate.RPCError
	if !errors.As(err, &rpcErr) || rpcErr.Code < 1010 || rpcErr.Code > 1019 {
		return err
	}
	pe := &PoolError{Code: rpcErr.Code, Reason: rpcErr.Message, Custom: -1, err: rpcErr}
	var data string
	if json.Unmarshal(rpcErr.Data, &data) != nil {
		data = string(rpcErr.Data)
	}
	if data != "" && data != "null" {
		pe.Reason += ": " + data
	}
	for _, h := range poolHints {
		if strings.Contains(strings.ToLower(data), h.match) {
			pe.Hint = h.hint
			break
		}
	}
	if m := customRe.FindStringSubmatch(data); m != nil {
		if n, err := strconv.Atoi(m[1]); err == nil {
			pe.Custom = n
			pe.Name = customErrors[n]
		}
	}
	return pe
}
