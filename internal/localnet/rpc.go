package localnet

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/crypto/blake2b"

	"github.com/vigil-validator/vigil/bittensor/keys"
	"github.com/vigil-validator/vigil/bittensor/substrate"
)

// JSON-RPC error codes a substrate node uses.
const (
	codeMethodNotFound = -32601
	codeInvalidParams  = -32602
	codeParseError     = -32700
	codeUnknownBlock   = 4003
)

// Server serves a Chain over WebSocket JSON-RPC, the methods of a
// subtensor node that clients use.
type Server struct {
	chain *Chain
	subID atomic.Uint64
	// ReadLimit caps one request (default 16 MiB: a 5 MiB extrinsic in hex).
	ReadLimit int64
}

// NewServer serves c.
func NewServer(c *Chain) *Server { return &Server{chain: c, ReadLimit: 16 << 20} }

type rpcRequest struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
}

type rpcConn struct {
	ws   *websocket.Conn
	wmu  sync.Mutex
	mu   sync.Mutex
	subs map[string]func() // subscription id → cancel
	ctx  context.Context
}

func (c *rpcConn) write(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		return
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
	defer cancel()
	_ = c.ws.Write(ctx, websocket.MessageText, b)
}

func (c *rpcConn) reply(id json.RawMessage, result any) {
	c.write(map[string]any{"jsonrpc": "2.0", "id": id, "result": result})
}

func (c *rpcConn) fail(id json.RawMessage, e *substrate.RPCError) {
	m := map[string]any{"code": e.Code, "message": e.Message}
	if len(e.Data) > 0 {
		m["data"] = e.Data
	}
	c.write(map[string]any{"jsonrpc": "2.0", "id": id, "error": m})
}

func (c *rpcConn) notify(method, sub string, result any) {
	c.write(map[string]any{"jsonrpc": "2.0", "method": method, "params": map[string]any{"subscription": sub, "result": result}})
}

// ServeHTTP upgrades to WebSocket and serves requests until the client
// leaves.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return
	}
	ws.SetReadLimit(s.ReadLimit)
	ctx, cancel := context.WithCancel(r.Context())
	c := &rpcConn{ws: ws, subs: make(map[string]func()), ctx: ctx}
	defer func() {
		cancel()
		c.mu.Lock()
		for _, stop := range c.subs {
			stop()
		}
		c.mu.Unlock()
		ws.CloseNow()
	}()
	for {
		_, data, err := ws.Read(ctx)
		if err != nil {
			return
		}
		var req rpcRequest
		if err := json.Unmarshal(data, &req); err != nil || req.Method == "" {
			c.fail(req.ID, &substrate.RPCError{Code: codeParseError, Message: "Parse error"})
			continue
		}
		s.handle(c, req)
	}
}

func (s *Server) params(req rpcRequest) []json.RawMessage {
	var p []json.RawMessage
	if len(req.Params) > 0 && string(req.Params) != "null" {
		_ = json.Unmarshal(req.Params, &p)
	}
	return p
}

func invalidParams(msg string) *substrate.RPCError {
	return &substrate.RPCError{Code: codeInvalidParams, Message: "Invalid params", Data: mustJSON(msg)}
}

func mustJSON(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

func parseHex(s string) ([]byte, error) {
	return hex.DecodeString(strings.TrimPrefix(s, "0x"))
}

// block resolves an optional block-hash parameter; absent or null means
// the best block.
func (s *Server) block(p []json.RawMessage, i int) (*Block, *substrate.RPCError) {
	if i >= len(p) || string(p[i]) == "null" {
		return s.chain.Head(), nil
	}
	var h string
	if json.Unmarshal(p[i], &h) != nil {
		return nil, invalidParams("block hash must be a hex string")
	}
	b, err := parseHex(h)
	if err != nil || len(b) != 32 {
		return nil, invalidParams("block hash must be 32 bytes of hex")
	}
	blk, ok := s.chain.BlockByHash([32]byte(b))
	if !ok {
		return nil, &substrate.RPCError{Code: codeUnknownBlock, Message: "Client error: UnknownBlock: State already discarded for " + h}
	}
	return blk, nil
}

func (b *Block) headerJSON() map[string]any {
	return map[string]any{
		"parentHash": substrate.HexKey(b.Parent[:]), "number": "0x" + strconv.FormatUint(b.Number, 16),
		"stateRoot": substrate.HexKey(b.StateRoot[:]), "extrinsicsRoot": substrate.HexKey(b.ExtRoot[:]),
		"digest": map[string]any{"logs": []string{}},
	}
}

// runtimeAPIs are the runtime APIs the chain reports in its runtime
// version, as (blake2-64 of the trait name, version).
var runtimeAPIs = func() [][2]any {
	var out [][2]any
	for _, a := range []struct {
		name    string
		version int
	}{
		{"Core", 5}, {"Metadata", 1}, {"BlockBuilder", 6}, {"TaggedTransactionQueue", 3},
		{"AccountNonceApi", 1}, {"TransactionPaymentApi", 4},
		{"NeuronInfoRuntimeApi", 1}, {"SubnetInfoRuntimeApi", 1},
	} {
		h, _ := blake2b.New(8, nil)
		h.Write([]byte(a.name))
		out = append(out, [2]any{substrate.HexKey(h.Sum(nil)), a.version})
	}
	return out
}()

func runtimeVersion() map[string]any {
	return map[string]any{
		"specName": SpecName, "implName": SpecName, "authoringVersion": 1, "specVersion": SpecVersion,
		"implVersion": 1, "apis": runtimeAPIs, "transactionVersion": TransactionVersion, "stateVersion": 1,
	}
}

// rpcMethod answers one request; p are its parameters.
type rpcMethod func(s *Server, c *rpcConn, req rpcRequest, p []json.RawMessage)

func (s *Server) handle(c *rpcConn, req rpcRequest) {
	m, ok := methods[req.Method]
	if !ok {
		s.chain.cfg.Log.Debug("method not found", "method", req.Method)
		c.fail(req.ID, &substrate.RPCError{Code: codeMethodNotFound, Message: "Method not found"})
		return
	}
	m(s, c, req, s.params(req))
}

// stringParam reads parameter i as a string.
func stringParam(p []json.RawMessage) func(i int) (string, bool) {
	return func(i int) (string, bool) {
		var v string
		if i >= len(p) || json.Unmarshal(p[i], &v) != nil {
			return "", false
		}
		return v, true
	}
}

// methods is the JSON-RPC method table, by namespace; rpc_methods and
// Methods list its names. Anything else is "method not found".
var methods = map[string]rpcMethod{}

// Methods are the JSON-RPC methods served, sorted.
var Methods []string

func init() {
	for _, ns := range []map[string]rpcMethod{
		rpcMethods,
		systemMethods,
		chainMethods,
		stateMethods,
		authorMethods,
		localnetMethods,
	} {
		for name, m := range ns {
			methods[name] = m
			Methods = append(Methods, name)
		}
	}
	sort.Strings(Methods)
}

var rpcMethods = map[string]rpcMethod{
	"rpc_methods": rpcRpcMethods,
}

var systemMethods = map[string]rpcMethod{
	"system_chain":            rpcSystemChain,
	"system_name":             rpcSystemName,
	"system_version":          rpcSystemVersion,
	"system_health":           rpcSystemHealth,
	"system_properties":       rpcSystemProperties,
	"system_accountNextIndex": rpcSystemAccountNextIndex,
}

var chainMethods = map[string]rpcMethod{
	"chain_getBlockHash":              rpcChainGetBlockHash,
	"chain_getHead":                   rpcChainGetHead,
	"chain_getFinalizedHead":          rpcChainGetFinalizedHead,
	"chain_getFinalisedHead":          rpcChainGetFinalizedHead,
	"chain_getHeader":                 rpcChainGetHeader,
	"chain_getBlock":                  rpcChainGetHeader,
	"chain_subscribeNewHeads":         rpcChainSubscribeNewHeads,
	"chain_subscribeNewHead":          rpcChainSubscribeNewHeads,
	"chain_subscribeAllHeads":         rpcChainSubscribeNewHeads,
	"chain_subscribeFinalizedHeads":   rpcChainSubscribeNewHeads,
	"chain_subscribeFinalisedHeads":   rpcChainSubscribeNewHeads,
	"chain_unsubscribeNewHeads":       rpcUnsubscribe,
	"chain_unsubscribeNewHead":        rpcUnsubscribe,
	"chain_unsubscribeAllHeads":       rpcUnsubscribe,
	"chain_unsubscribeFinalizedHeads": rpcUnsubscribe,
	"chain_unsubscribeFinalisedHeads": rpcUnsubscribe,
}

var stateMethods = map[string]rpcMethod{
	"state_unsubscribeRuntimeVersion": rpcUnsubscribe,
	"state_unsubscribeStorage":        rpcUnsubscribe,
	"state_getRuntimeVersion":         rpcStateGetRuntimeVersion,
	"state_subscribeRuntimeVersion":   rpcStateSubscribeRuntimeVersion,
	"state_getMetadata":               rpcStateGetMetadata,
	"state_getStorage":                rpcStateGetStorage,
	"state_getStorageAt":              rpcStateGetStorage,
	"state_subscribeStorage":          rpcStateSubscribeStorage,
	"state_getKeysPaged":              rpcStateGetKeysPaged,
	"state_queryStorageAt":            rpcStateQueryStorageAt,
	"state_call":                      rpcStateCall,
}

var authorMethods = map[string]rpcMethod{
	"author_unwatchExtrinsic":        rpcUnsubscribe,
	"author_pendingExtrinsics":       rpcAuthorPendingExtrinsics,
	"author_submitExtrinsic":         rpcAuthorSubmitExtrinsic,
	"author_submitAndWatchExtrinsic": rpcAuthorSubmitExtrinsic,
}

var localnetMethods = map[string]rpcMethod{
	"localnet_beacon":            rpcLocalnetBeacon,
	"localnet_setHyperparameter": rpcLocalnetSetHyperparameter,
}

// rpcRpcMethods answers rpc_methods.
func rpcRpcMethods(s *Server, c *rpcConn, req rpcRequest, p []json.RawMessage) {
	c.reply(req.ID, map[string]any{"version": 1, "methods": Methods})
}

// rpcSystemChain answers system_chain.
func rpcSystemChain(s *Server, c *rpcConn, req rpcRequest, p []json.RawMessage) {
	c.reply(req.ID, "Vigil Localnet")
}

// rpcSystemName answers system_name.
func rpcSystemName(s *Server, c *rpcConn, req rpcRequest, p []json.RawMessage) {
	c.reply(req.ID, "vigil-localnet")
}

// rpcSystemVersion answers system_version.
func rpcSystemVersion(s *Server, c *rpcConn, req rpcRequest, p []json.RawMessage) {
	c.reply(req.ID, "1.0.0")
}

// rpcSystemHealth answers system_health.
func rpcSystemHealth(s *Server, c *rpcConn, req rpcRequest, p []json.RawMessage) {
	c.reply(req.ID, map[string]any{"peers": 0, "isSyncing": false, "shouldHavePeers": false})
}

// rpcSystemProperties answers system_properties.
func rpcSystemProperties(s *Server, c *rpcConn, req rpcRequest, p []json.RawMessage) {
	c.reply(req.ID, map[string]any{"ss58Format": 42, "tokenDecimals": 9, "tokenSymbol": "TAO"})
}

// rpcChainGetBlockHash answers chain_getBlockHash.
func rpcChainGetBlockHash(s *Server, c *rpcConn, req rpcRequest, p []json.RawMessage) {
	str := stringParam(p)
	ch := s.chain
	if len(p) == 0 || string(p[0]) == "null" {
		h := ch.Head().Hash
		c.reply(req.ID, substrate.HexKey(h[:]))
		return
	}
	var n uint64
	if err := json.Unmarshal(p[0], &n); err != nil {
		sv, ok := str(0)
		if !ok {
			c.fail(req.ID, invalidParams("block number expected"))
			return
		}
		if n, err = substrate.HexNumber(sv); err != nil {
			c.fail(req.ID, invalidParams("block number expected"))
			return
		}
	}
	if h, ok := ch.BlockHash(n); ok {
		c.reply(req.ID, substrate.HexKey(h[:]))
	} else {
		c.reply(req.ID, nil)
	}
}

// rpcChainGetHead answers chain_getHead.
func rpcChainGetHead(s *Server, c *rpcConn, req rpcRequest, p []json.RawMessage) {
	ch := s.chain
	h := ch.Head().Hash
	c.reply(req.ID, substrate.HexKey(h[:]))
}

// rpcChainGetFinalizedHead answers chain_getFinalizedHead, chain_getFinalisedHead.
func rpcChainGetFinalizedHead(s *Server, c *rpcConn, req rpcRequest, p []json.RawMessage) {
	ch := s.chain
	h := ch.Finalized().Hash
	c.reply(req.ID, substrate.HexKey(h[:]))
}

// rpcChainGetHeader answers chain_getHeader, chain_getBlock.
func rpcChainGetHeader(s *Server, c *rpcConn, req rpcRequest, p []json.RawMessage) {
	b, err := s.block(p, 0)
	if err != nil {
		if err.Code == codeUnknownBlock {
			c.reply(req.ID, nil)
		} else {
			c.fail(req.ID, err)
		}
		return
	}
	if req.Method == "chain_getHeader" {
		c.reply(req.ID, b.headerJSON())
		return
	}
	exts := make([]string, len(b.Extrinsics))
	for i, x := range b.Extrinsics {
		exts[i] = substrate.HexKey(x)
	}
	c.reply(req.ID, map[string]any{"block": map[string]any{"header": b.headerJSON(), "extrinsics": exts}, "justifications": nil})
}

// rpcChainSubscribeNewHeads answers the chain_subscribe* methods: new, all or finalized heads.
func rpcChainSubscribeNewHeads(s *Server, c *rpcConn, req rpcRequest, p []json.RawMessage) {
	ch := s.chain
	finalized := strings.Contains(req.Method, "Finali")
	note := map[bool]string{false: "chain_newHead", true: "chain_finalizedHead"}[finalized]
	if req.Method == "chain_subscribeAllHeads" {
		note = "chain_allHead"
	}
	heads, stop := ch.SubscribeHeads(finalized)
	id := s.subscribe(c, req.ID, stop)
	first := ch.Head()
	if finalized {
		first = ch.Finalized()
	}
	go func() {
		c.notify(note, id, first.headerJSON())
		for b := range recvUntil(c.ctx, heads) {
			c.notify(note, id, b.headerJSON())
		}
	}()
}

// rpcUnsubscribe ends a subscription of any namespace (chain_unsubscribe*,
// state_unsubscribe*, author_unwatchExtrinsic).
func rpcUnsubscribe(s *Server, c *rpcConn, req rpcRequest, p []json.RawMessage) {
	str := stringParam(p)
	id, _ := str(0)
	c.reply(req.ID, s.unsubscribe(c, id))
}

// rpcStateGetRuntimeVersion answers state_getRuntimeVersion.
func rpcStateGetRuntimeVersion(s *Server, c *rpcConn, req rpcRequest, p []json.RawMessage) {
	if _, err := s.block(p, 0); err != nil {
		c.fail(req.ID, err)
		return
	}
	c.reply(req.ID, runtimeVersion())
}

// rpcStateSubscribeRuntimeVersion answers state_subscribeRuntimeVersion.
func rpcStateSubscribeRuntimeVersion(s *Server, c *rpcConn, req rpcRequest, p []json.RawMessage) {
	id := s.subscribe(c, req.ID, func() {})
	go c.notify("state_runtimeVersion", id, runtimeVersion())
}

// rpcStateGetMetadata answers state_getMetadata.
func rpcStateGetMetadata(s *Server, c *rpcConn, req rpcRequest, p []json.RawMessage) {
	ch := s.chain
	if _, err := s.block(p, 0); err != nil {
		c.fail(req.ID, err)
		return
	}
	c.reply(req.ID, substrate.HexKey(ch.Metadata()))
}

// rpcStateGetStorage answers state_getStorage, state_getStorageAt.
func rpcStateGetStorage(s *Server, c *rpcConn, req rpcRequest, p []json.RawMessage) {
	str := stringParam(p)
	key, ok := str(0)
	kb, err := parseHex(key)
	if !ok || err != nil {
		c.fail(req.ID, invalidParams("storage key must be hex"))
		return
	}
	b, rerr := s.block(p, 1)
	if rerr != nil {
		c.fail(req.ID, rerr)
		return
	}
	if v, ok := b.Storage[string(kb)]; ok {
		c.reply(req.ID, substrate.HexKey(v))
	} else {
		c.reply(req.ID, nil)
	}
}

// rpcStateSubscribeStorage answers state_subscribeStorage.
func rpcStateSubscribeStorage(s *Server, c *rpcConn, req rpcRequest, p []json.RawMessage) {
	ch := s.chain
	keys, kerr := storageKeys(p)
	if kerr != nil {
		c.fail(req.ID, kerr)
		return
	}
	heads, stop := ch.SubscribeHeads(false)
	id := s.subscribe(c, req.ID, stop)
	go func() {
		// The first notification holds every key; later ones what changed.
		last := make(map[string]*string, len(keys))
		send := func(b *Block, all bool) {
			var changes [][2]any
			for _, k := range keys {
				var v *string
				if val, ok := b.Storage[k]; ok {
					h := substrate.HexKey(val)
					v = &h
				}
				prev, seen := last[k]
				if all || !seen || (prev == nil) != (v == nil) || (prev != nil && *prev != *v) {
					changes = append(changes, [2]any{substrate.HexKey([]byte(k)), v})
				}
				last[k] = v
			}
			if len(changes) > 0 {
				c.notify("state_storage", id, map[string]any{"block": substrate.HexKey(b.Hash[:]), "changes": changes})
			}
		}
		send(ch.Head(), true)
		for b := range recvUntil(c.ctx, heads) {
			send(b, false)
		}
	}()
}

// rpcStateGetKeysPaged answers state_getKeysPaged.
func rpcStateGetKeysPaged(s *Server, c *rpcConn, req rpcRequest, p []json.RawMessage) {
	s.keysPaged(c, req, p)
}

// rpcStateQueryStorageAt answers state_queryStorageAt.
func rpcStateQueryStorageAt(s *Server, c *rpcConn, req rpcRequest, p []json.RawMessage) {
	keys, kerr := storageKeys(p)
	if kerr != nil {
		c.fail(req.ID, kerr)
		return
	}
	b, rerr := s.block(p, 1)
	if rerr != nil {
		c.fail(req.ID, rerr)
		return
	}
	changes := make([][2]any, 0, len(keys))
	for _, k := range keys {
		var v any
		if val, ok := b.Storage[k]; ok {
			v = substrate.HexKey(val)
		}
		changes = append(changes, [2]any{substrate.HexKey([]byte(k)), v})
	}
	c.reply(req.ID, []any{map[string]any{"block": substrate.HexKey(b.Hash[:]), "changes": changes}})
}

// rpcStateCall answers state_call.
func rpcStateCall(s *Server, c *rpcConn, req rpcRequest, p []json.RawMessage) {
	str := stringParam(p)
	method, ok1 := str(0)
	data, ok2 := str(1)
	args, err := parseHex(data)
	if !ok1 || !ok2 || err != nil {
		c.fail(req.ID, invalidParams("state_call(method, hex data[, block])"))
		return
	}
	b, rerr := s.block(p, 2)
	if rerr != nil {
		c.fail(req.ID, rerr)
		return
	}
	out, rerr := s.chain.runtimeCall(b, method, args)
	if rerr != nil {
		c.fail(req.ID, rerr)
		return
	}
	c.reply(req.ID, substrate.HexKey(out))
}

// rpcSystemAccountNextIndex answers system_accountNextIndex.
func rpcSystemAccountNextIndex(s *Server, c *rpcConn, req rpcRequest, p []json.RawMessage) {
	str := stringParam(p)
	ch := s.chain
	addr, ok := str(0)
	pub, _, err := keys.SS58Decode(addr)
	if !ok || err != nil {
		c.fail(req.ID, invalidParams("an SS58 account expected"))
		return
	}
	c.reply(req.ID, ch.NextIndex(AccountID(pub)))
}

// rpcAuthorPendingExtrinsics answers author_pendingExtrinsics.
func rpcAuthorPendingExtrinsics(s *Server, c *rpcConn, req rpcRequest, p []json.RawMessage) {
	ch := s.chain
	c.reply(req.ID, ch.pending())
}

// rpcAuthorSubmitExtrinsic answers author_submitExtrinsic, author_submitAndWatchExtrinsic.
func rpcAuthorSubmitExtrinsic(s *Server, c *rpcConn, req rpcRequest, p []json.RawMessage) {
	str := stringParam(p)
	ch := s.chain
	x, ok := str(0)
	raw, err := parseHex(x)
	if !ok || err != nil {
		c.fail(req.ID, invalidParams("extrinsic must be hex"))
		return
	}
	watch := req.Method == "author_submitAndWatchExtrinsic"
	h, updates, serr := ch.Submit(raw, watch)
	var rerr *substrate.RPCError
	if errors.As(serr, &rerr) {
		c.fail(req.ID, rerr)
		return
	}
	if !watch {
		c.reply(req.ID, substrate.HexKey(h[:]))
		return
	}
	id := s.subscribe(c, req.ID, func() {})
	go func() {
		for u := range recvUntil(c.ctx, updates) {
			switch u.Kind {
			case "inBlock", "finalized":
				c.notify("author_extrinsicUpdate", id, map[string]string{u.Kind: substrate.HexKey(u.Block[:])})
			default:
				c.notify("author_extrinsicUpdate", id, u.Kind)
			}
		}
	}()
}

// rpcLocalnetBeacon answers localnet_beacon.
func rpcLocalnetBeacon(s *Server, c *rpcConn, req rpcRequest, p []json.RawMessage) {
	ch := s.chain
	c.reply(req.ID, ch.Beacon().String())
}

// rpcLocalnetSetHyperparameter answers localnet_setHyperparameter.
func rpcLocalnetSetHyperparameter(s *Server, c *rpcConn, req rpcRequest, p []json.RawMessage) {
	ch := s.chain
	var netuid uint16
	var name string
	var value json.RawMessage
	if len(p) != 3 || json.Unmarshal(p[0], &netuid) != nil || json.Unmarshal(p[1], &name) != nil {
		c.fail(req.ID, invalidParams("localnet_setHyperparameter(netuid, name, value)"))
		return
	}
	value = p[2]
	if err := ch.SetHyperparameter(netuid, name, value); err != nil {
		c.fail(req.ID, invalidParams(err.Error()))
		return
	}
	c.reply(req.ID, true)
}

// storageKeys reads the first parameter, a list of 1 to 1000 hex storage
// keys, as raw keys.
func storageKeys(p []json.RawMessage) ([]string, *substrate.RPCError) {
	var keysHex []string
	if len(p) == 0 || json.Unmarshal(p[0], &keysHex) != nil || len(keysHex) == 0 || len(keysHex) > 1000 {
		return nil, invalidParams("a list of 1 to 1000 hex storage keys expected")
	}
	keys := make([]string, len(keysHex))
	for i, k := range keysHex {
		kb, err := parseHex(k)
		if err != nil {
			return nil, invalidParams("storage key must be hex")
		}
		keys[i] = string(kb)
	}
	return keys, nil
}

// recvUntil forwards from ch until it closes or ctx ends.
func recvUntil[T any](ctx context.Context, ch <-chan T) <-chan T {
	out := make(chan T)
	go func() {
		defer close(out)
		for {
			select {
			case <-ctx.Done():
				return
			case v, ok := <-ch:
				if !ok {
					return
				}
				select {
				case out <- v:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out
}

func (s *Server) subscribe(c *rpcConn, reqID json.RawMessage, stop func()) string {
	id := strconv.FormatUint(s.subID.Add(1), 10)
	c.mu.Lock()
	c.subs[id] = stop
	c.mu.Unlock()
	c.reply(reqID, id)
	return id
}

func (s *Server) unsubscribe(c *rpcConn, id string) bool {
	c.mu.Lock()
	stop, ok := c.subs[id]
	delete(c.subs, id)
	c.mu.Unlock()
	if ok {
		stop()
	}
	return ok
}

func (s *Server) keysPaged(c *rpcConn, req rpcRequest, p []json.RawMessage) {
	var prefix, start string
	var count int
	if len(p) < 2 || json.Unmarshal(p[0], &prefix) != nil || json.Unmarshal(p[1], &count) != nil || count < 0 || count > 1000 {
		c.fail(req.ID, invalidParams("state_getKeysPaged(prefix, count ≤ 1000[, start key][, block])"))
		return
	}
	if len(p) > 2 && string(p[2]) != "null" {
		_ = json.Unmarshal(p[2], &start)
	}
	pb, err1 := parseHex(prefix)
	sb, err2 := parseHex(start)
	if err1 != nil || err2 != nil {
		c.fail(req.ID, invalidParams("keys must be hex"))
		return
	}
	b, rerr := s.block(p, 3)
	if rerr != nil {
		c.fail(req.ID, rerr)
		return
	}
	var keys []string
	for k := range b.Storage {
		if strings.HasPrefix(k, string(pb)) && k > string(sb) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	if len(keys) > count {
		keys = keys[:count]
	}
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = substrate.HexKey([]byte(k))
	}
	c.reply(req.ID, out)
}

// NextIndex is the account's next nonce, counting queued transactions.
func (c *Chain) NextIndex(who AccountID) uint32 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	n := uint32(0)
	if a, ok := c.blocks[len(c.blocks)-1].State.Accounts[who]; ok {
		n = a.Nonce
	}
	for _, tx := range c.pool {
		if AccountID(tx.ext.Signer) == who {
			n++
		}
	}
	return n
}

func (c *Chain) pending() []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]string, len(c.pool))
	for i, tx := range c.pool {
		out[i] = substrate.HexKey(tx.raw)
	}
	return out
}
