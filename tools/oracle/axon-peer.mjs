// axon-peer.mjs is a bittensor SDK-style axon: it answers synapse requests
// with the SDK's (9.10.0) processing order and checks, so that vigil's Go
// tests can see how their dendrite fares with a peer they did not write.
//
// Input (stdin): first one JSON line
//   {"uri": "//Alice", "timeout_ms": 30000,
//    "synapses": {"Ping": {"hash_fields": ["text", "n"], "required": ["text"],
//                          "reply": {"echo": "pong"}}},
//    "allow_unsigned": false, "blacklist": [SS58, ...]}
// hash_fields are hashed in the order given (a hash field missing from the
// body counts as None); required names the fields whose
// bt_header_input_obj_ header (and body entry) must be present; reply
// fields are set on the synapse before answering. allow_unsigned true reproduces 9.10.0, which
// skips the signature check when none is sent; by default a request without
// a signature is refused (401). Requests from blacklist hotkeys get 403.
//
// Output (stdout): one line {"port": N, "hotkey": SS58} once listening on
// 127.0.0.1; then, when stdin reaches EOF or timeout_ms has passed, one line
//   {"log": [{"path", "method", "status", "reason", "hotkey", "uuid",
//             "nonce" (decimal string), "body" (the request body, 200 only)}]}
// and exit 0.
//
// Per request, in the SDK's order: route by the first path segment (unknown:
// 404); headers into the synapse (bad value, missing input object: 400);
// blacklist (403); verify nonce and signature (401); the JSON body and its
// hash against the computed_body_hash header (500 "Internal Server Error
// #<uuid>"); then 200 with the whole synapse as JSON and its bt_header_*
// headers. Errors answer {"message": ...} with bt_header_axon_status_code
// and bt_header_axon_status_message headers.
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { Keyring } from '@polkadot/keyring';
import { u8aToHex } from '@polkadot/util';
import { cryptoWaitReady, decodeAddress } from '@polkadot/util-crypto';
import {
  ALLOWED_DELTA_NS,
  HeaderError,
  NONCE_WINDOW_VERSION,
  PyFloat,
  PyInt,
  TERMINAL_FIELDS,
  VERSION,
  bodyHash,
  dumpJSON,
  emptyLike,
  fieldOf,
  nowNs,
  parseHeaders,
  parseJSON,
  pyStr,
  signedMessage,
  toHeaders,
  uuid1Like,
  verifySignature,
} from './synapse-wire.mjs';
import { optionsOf } from './io.mjs';

// readConfig resolves with the first stdin line and calls onEnd at EOF.
function readConfig(onEnd) {
  return new Promise((resolve, reject) => {
    let buf = '';
    let done = false;
    const finish = (text) => {
      done = true;
      try {
        resolve(parseJSON(text));
      } catch (err) {
        reject(err);
      }
    };
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (chunk) => {
      if (done) return;
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl >= 0) finish(buf.slice(0, nl));
    });
    process.stdin.on('end', () => {
      if (!done) finish(buf);
      onEnd();
    });
  });
}

let shutdown = () => {};
let ended = false;
const config = await readConfig(() => {
  ended = true;
  shutdown();
});
if (!(config instanceof Map)) throw new Error('config must be a JSON object');
const opt = optionsOf(config);

const synapses = new Map();
for (const [name, spec] of opt('synapses', new Map())) {
  synapses.set(name, {
    hashFields: fieldOf(spec, 'hash_fields') ?? [],
    required: fieldOf(spec, 'required') ?? [],
    reply: fieldOf(spec, 'reply') ?? new Map(),
  });
}
const allowUnsigned = opt('allow_unsigned', false) === true;
const blacklist = new Set(opt('blacklist', []));
const timeoutMs = Number(opt('timeout_ms', new PyInt(30000)).value ?? 30000);

await cryptoWaitReady();
const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
const me = keyring.addFromUri(opt('uri', '//Alice'));
const axonUuid = uuid1Like();
const nonces = new Map(); // endpoint key -> last accepted nonce
const log = [];

class Refusal extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// verify applies the SDK's default checks; a failure is a Refusal (401).
function verify(h) {
  const d = h.dendrite;
  try {
    decodeAddress(d.hotkey);
  } catch {
    throw new Refusal(401, `Not Verified: bad dendrite hotkey ${pyStr(d.hotkey)}`);
  }
  if (d.nonce === null) throw new Refusal(401, 'Not Verified: Missing Nonce');
  const key = `${d.hotkey}:${pyStr(d.uuid)}`;
  const last = nonces.get(key);
  if (d.version !== null && d.version >= BigInt(NONCE_WINDOW_VERSION)) {
    const timeout = h.timeout || 0;
    if (!Number.isFinite(timeout)) throw new Refusal(401, 'Not Verified: timeout is not finite');
    const window = nowNs() - ALLOWED_DELTA_NS - BigInt(Math.round(timeout * 1e9));
    if (last === undefined && d.nonce <= window) {
      throw new Refusal(401, `Not Verified: Nonce is too old: ${Number(window - d.nonce) / 1e9} s beyond the window`);
    }
    if (last !== undefined && d.nonce <= last) {
      throw new Refusal(401, 'Not Verified: Nonce is too old, a newer one was last processed');
    }
  } else if (last !== undefined && d.nonce <= last) {
    throw new Refusal(401, 'Not Verified: Nonce is too small');
  }
  if (!d.signature) {
    if (!allowUnsigned) throw new Refusal(401, 'Not Verified: no signature');
  } else {
    const msg = signedMessage({
      nonce: d.nonce, dendriteHotkey: d.hotkey, axonHotkey: me.address, uuid: d.uuid, bodyHash: h.computedBodyHash,
    });
    if (!verifySignature(msg, d.signature, d.hotkey)) {
      throw new Refusal(401, `Not Verified: Signature mismatch with ${msg}`);
    }
  }
  nonces.set(key, d.nonce);
}

const infoMap = (info) => new Map(TERMINAL_FIELDS.map(([k]) => [k, info[k] ?? null]));

// answer writes one response and logs it.
function answer(res, entry, status, content, headers, reason) {
  const text = dumpJSON(content);
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
  log.push({ ...entry, status, reason });
}

function errorHeaders(status, message, h) {
  const headers = h
    ? toHeaders({ name: h.name, timeout: h.timeout === null ? null : new PyFloat(h.timeout), axon: h.axonOut, dendrite: h.dendriteOut, required: {}, bodyHash: h.computedBodyHash ?? '' })
    : {};
  headers.bt_header_axon_status_code = String(status);
  headers.bt_header_axon_status_message = message.replace(/[^\t\x20-\x7e]/g, '?');
  return headers;
}

async function handle(req, res) {
  const started = nowNs();
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const raw = Buffer.concat(chunks).toString('utf8');
  const path = (req.url ?? '/').split('?')[0];
  const entry = { path, method: req.method };
  const fail = (status, message, h) => answer(res, entry, status, { message }, errorHeaders(status, message, h), message);

  const route = path.split('/')[1] ?? '';
  const spec = synapses.get(route);
  if (!spec) return fail(404, `UnknownSynapseError: synapse name '${route}' not found; have ${[...synapses.keys()].join(', ')}`);

  let h;
  try {
    h = parseHeaders(req.headers, spec.required);
  } catch (err) {
    if (!(err instanceof HeaderError)) throw err;
    return fail(400, `SynapseParsingError: ${err.message}`);
  }
  entry.hotkey = h.dendrite.hotkey;
  entry.uuid = h.dendrite.uuid;
  entry.nonce = h.dendrite.nonce === null ? null : h.dendrite.nonce.toString();
  h.name = route;
  const axonNonce = nowNs();
  h.axonOut = { ...h.axon, version: BigInt(VERSION), uuid: axonUuid, nonce: axonNonce, status_code: 100n };
  h.axonOut.signature = u8aToHex(me.sign(new TextEncoder().encode(
    `${axonNonce}.${pyStr(h.dendrite.hotkey)}.${me.address}.${axonUuid}`)));
  h.dendriteOut = { ...h.dendrite, ip: req.socket.remoteAddress ?? null, port: BigInt(req.socket.remotePort ?? 0) };

  if (h.dendrite.hotkey !== null && blacklist.has(h.dendrite.hotkey)) {
    return fail(403, `Forbidden. Key is blacklisted: ${h.dendrite.hotkey}`, h);
  }
  try {
    verify(h);
  } catch (err) {
    if (!(err instanceof Refusal)) return fail(401, `Not Verified: ${err.message}`, h);
    return fail(err.status, err.message, h);
  }
  if (path !== '/' + route) return answer(res, entry, 404, { detail: 'Not Found' }, {}, 'no such route');
  if (req.method !== 'GET' && req.method !== 'POST') {
    return answer(res, entry, 405, { detail: 'Method Not Allowed' }, {}, 'method not allowed');
  }

  const internal = (why) => {
    const message = `Internal Server Error #${randomUUID()}`;
    answer(res, entry, 500, { message }, errorHeaders(500, message, h), `${message}: ${why}`);
  };
  let body;
  try {
    body = parseJSON(raw);
  } catch (err) {
    return internal(`body is not JSON: ${err.message}`);
  }
  if (!(body instanceof Map)) return internal('body is not a JSON object');
  for (const f of spec.required) if (!body.has(f)) return internal(`body lacks required field ${f}`);
  const got = bodyHash(body, spec.hashFields);
  if (got !== h.computedBodyHash) {
    return internal(`body hash ${got} does not match computed_body_hash ${pyStr(h.computedBodyHash)}`);
  }

  const out = new Map(body);
  out.set('name', route);
  if (h.timeout !== null) out.set('timeout', new PyFloat(h.timeout));
  for (const [k, v] of spec.reply) out.set(k, v);
  const processTime = Number(nowNs() - started) / 1e9;
  const axonOut = { ...h.axonOut, status_code: 200n, status_message: 'Success', process_time: new PyFloat(processTime) };
  out.set('dendrite', infoMap(h.dendriteOut));
  out.set('axon', infoMap(axonOut));
  const required = new Map(spec.required.map((f) => [f, emptyLike(out.get(f))]));
  const headers = toHeaders({
    name: route, timeout: out.get('timeout'), axon: axonOut, dendrite: h.dendriteOut, required,
    bodyHash: bodyHash(out, spec.hashFields),
  });
  entry.body = body;
  answer(res, entry, 200, out, headers, 'Success');
}

let inflight = 0;
const server = http.createServer((req, res) => {
  inflight++;
  handle(req, res)
    .catch((err) => {
      const message = `Internal Server Error #${randomUUID()}`;
      if (!res.headersSent) {
        answer(res, { path: req.url, method: req.method }, 500, { message }, errorHeaders(500, message), String(err.stack ?? err));
      }
    })
    .finally(() => {
      inflight--;
    });
});

await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
process.stdout.write(JSON.stringify({ port: server.address().port, hotkey: me.address }) + '\n');

let stopping = false;
shutdown = () => {
  if (stopping) return;
  stopping = true;
  server.close();
  server.closeIdleConnections();
  const started = Date.now();
  const finish = () => {
    if (inflight > 0 && Date.now() - started < 5000) return setTimeout(finish, 20);
    server.closeAllConnections();
    process.stdout.write(dumpJSON({ log }) + '\n', () => process.exit(0));
  };
  finish();
};
setTimeout(shutdown, timeoutMs).unref();
if (ended) shutdown();
