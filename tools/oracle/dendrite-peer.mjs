// dendrite-peer.mjs is a bittensor SDK-style dendrite: it sends synapse
// requests to an axon the way the Python SDK (9.10.0) does, correct ones and
// deliberately broken ones, so that vigil's Go tests can see how their axon
// answers a peer they did not write.
//
// Input (stdin): one JSON object
//   {"url": "http://127.0.0.1:PORT", "uri": "//Bob", "axon_hotkey": SS58,
//    "synapse": "Ping", "fields": {...}, "hash_fields": [...],
//    "required": {"field": <empty value of its type>}, "timeout": 12.0,
//    "version": 9010000 (optional), "cases": ["ok", ...]}
// fields are the synapse subclass's own fields; numbers keep Python's
// int/float distinction as written (12 vs 12.0; Go's json.Marshal writes a
// float64 12.0 as 12, so pass such values as json.RawMessage). hash_fields
// are hashed in the order given. Optional: "ip" (the dendrite ip sent,
// default 127.0.0.1) and "version" (default 9010000).
//
// Cases:
//   ok                a correct POST
//   get               the same with GET
//   unsigned          no signature header (nor signature in the body)
//   bad_signature     signed by //Mallory, claiming the uri's hotkey
//   wrapped_signature signed over <Bytes>message</Bytes> (axons accept it)
//   tamper_body       signed, then the first hash field changed in the body
//                     (skipped without hash fields)
//   replay            a correct request, then the same bytes again
//   stale_nonce       a fresh uuid with a nonce 60 s + timeout in the past
//   lower_nonce       a correct request, then one with a lower nonce
//   wrong_axon        signed for another axon hotkey
//   missing_input_obj no bt_header_input_obj_ headers (skipped without required fields)
//   unknown_synapse   a correct request to /<synapse>Unknown
//
// Output (stdout): a JSON array, one entry per case:
//   {"case", "status", "body" (JSON, or text when not JSON), "headers"
//    (lower-cased names), "request": {"nonce" (decimal string), "uuid",
//    "hotkey", "body_hash"}}; replay and lower_nonce report the second
//   request and add "first_status"; a skipped case is {"case", "skipped":
//   true, "status": 0}; a transport failure is {"case", "error"}.
import http from 'node:http';
import { Keyring } from '@polkadot/keyring';
import { u8aToHex, u8aWrapBytes } from '@polkadot/util';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import {
  PyFloat,
  PyInt,
  VERSION,
  bodyHash,
  dumpJSON,
  fieldOf,
  nowNs,
  parseJSON,
  signedMessage,
  toHeaders,
  uuid1Like,
} from './synapse-wire.mjs';
import { optionsOf, readText } from './io.mjs';

const ALL_CASES = new Set([
  'ok', 'get', 'unsigned', 'bad_signature', 'wrapped_signature', 'tamper_body', 'replay',
  'stale_nonce', 'lower_nonce', 'wrong_axon', 'missing_input_obj', 'unknown_synapse',
]);

const num = (v) => (v instanceof PyInt ? Number(v.value) : v instanceof PyFloat ? v.value : Number(v));

const input = parseJSON(await readText());
if (!(input instanceof Map)) throw new Error('input must be a JSON object');
const opt = optionsOf(input);
const need = (k) => {
  if (!input.has(k)) throw new Error(`input: missing ${k}`);
  return input.get(k);
};

const url = new URL(need('url'));
const axonIp = url.hostname.replace(/^\[|\]$/g, '');
const axonPort = Number(url.port || 80);
const synapse = need('synapse');
const axonHotkey = need('axon_hotkey');
const fields = opt('fields', new Map());
const hashFields = opt('hash_fields', []);
const required = opt('required', new Map());
const timeout = num(opt('timeout', new PyFloat(12)));
const version = BigInt(num(opt('version', new PyInt(VERSION))));
const dendriteIp = opt('ip', '127.0.0.1');
const cases = opt('cases', ['ok']);
for (const c of cases) if (!ALL_CASES.has(c)) throw new Error(`unknown case ${JSON.stringify(c)}`);

await cryptoWaitReady();
const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
const me = keyring.addFromUri(opt('uri', '//Bob'));
const mallory = keyring.addFromUri('//Mallory');
const otherAxon = mallory.address !== axonHotkey ? mallory.address : keyring.addFromUri('//Dave').address;

const uuid = uuid1Like();
const lastNonce = new Map();

// nextNonce is the current time in ns, kept strictly increasing per uuid.
function nextNonce(id) {
  const last = lastNonce.get(id) ?? 0n;
  let n = nowNs();
  if (n <= last) n = last + 1n;
  lastNonce.set(id, n);
  return n;
}

// tampered returns a value whose Python str differs from v's.
const tampered = (v) => (typeof v === 'string' ? v + '-tampered' : 'tampered');

// build makes one request as the SDK's dendrite would, with the given
// deviations.
function build(o = {}) {
  const id = o.uuid ?? uuid;
  const nonce = o.nonce ?? nextNonce(id);
  const target = o.axonHotkey ?? axonHotkey;
  const name = o.route ?? synapse;
  const hash = bodyHash(fields, hashFields);
  const msg = signedMessage({ nonce, dendriteHotkey: me.address, axonHotkey: target, uuid: id, bodyHash: hash });
  let signature = null;
  if (!o.unsigned) {
    const bytes = new TextEncoder().encode(msg);
    signature = u8aToHex((o.signer ?? me).sign(o.wrapped ? u8aWrapBytes(bytes) : bytes));
  }
  const dendrite = new Map([
    ['status_code', null], ['status_message', null], ['process_time', null],
    ['ip', dendriteIp], ['port', null], ['version', new PyInt(version)], ['nonce', new PyInt(nonce)],
    ['uuid', id], ['hotkey', me.address], ['signature', signature],
  ]);
  const axon = new Map([
    ['status_code', null], ['status_message', null], ['process_time', null],
    ['ip', axonIp], ['port', new PyInt(axonPort)], ['version', null], ['nonce', null],
    ['uuid', null], ['hotkey', target], ['signature', null],
  ]);
  const body = new Map([
    ['name', name], ['timeout', new PyFloat(timeout)], ['total_size', new PyInt(0)],
    ['header_size', new PyInt(0)], ['dendrite', dendrite], ['axon', axon], ['computed_body_hash', ''],
  ]);
  for (const [k, v] of fields) body.set(k, v);
  if (o.tamper !== undefined) body.set(o.tamper, tampered(fieldOf(fields, o.tamper)));
  const bodyText = dumpJSON(body);
  const headers = toHeaders({
    name, timeout: new PyFloat(timeout), axon, dendrite,
    required: o.omitInputs ? new Map() : required, bodyHash: hash, bodyLength: Buffer.byteLength(bodyText),
  });
  headers['content-type'] = 'application/json';
  return {
    method: o.method ?? 'POST', path: '/' + name, headers, bodyText,
    info: { nonce: nonce.toString(), uuid: id, hotkey: me.address, body_hash: hash },
  };
}

function send(r) {
  return new Promise((resolve) => {
    const data = Buffer.from(r.bodyText, 'utf8');
    const req = http.request({
      host: axonIp, port: axonPort, path: r.path, method: r.method, agent: false,
      headers: { ...r.headers, 'content-length': String(data.length) },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body = text;
        try {
          body = parseJSON(text);
        } catch {
          // not JSON: report the text
        }
        resolve({ status: res.statusCode, body, headers: res.headers });
      });
      res.on('error', (err) => resolve({ error: String(err.message ?? err) }));
    });
    req.setTimeout((timeout + 5) * 1000, () => req.destroy(new Error(`timed out after ${timeout + 5} s`)));
    req.on('error', (err) => resolve({ error: String(err.message ?? err) }));
    req.end(data);
  });
}

async function once(name, r) {
  return { case: name, ...(await send(r)), request: r.info };
}

async function twice(name, first, secondOf) {
  const a = await send(first);
  if (a.error) return { case: name, error: 'first request: ' + a.error, request: first.info };
  const second = secondOf(first);
  return { case: name, ...(await send(second)), first_status: a.status, request: second.info };
}

async function run(c) {
  switch (c) {
    case 'ok':
      return once(c, build());
    case 'get':
      return once(c, build({ method: 'GET' }));
    case 'unsigned':
      return once(c, build({ unsigned: true }));
    case 'bad_signature':
      return once(c, build({ signer: mallory }));
    case 'wrapped_signature':
      return once(c, build({ wrapped: true }));
    case 'tamper_body':
      if (hashFields.length === 0) return { case: c, skipped: true, status: 0 };
      return once(c, build({ tamper: hashFields[0] }));
    case 'replay':
      return twice(c, build(), (first) => first);
    case 'stale_nonce': {
      const past = BigInt(Math.round((60 + timeout) * 1e9));
      return once(c, build({ uuid: uuid1Like(), nonce: nowNs() - past }));
    }
    case 'lower_nonce':
      return twice(c, build(), (first) => build({ nonce: BigInt(first.info.nonce) - 1_000_000n }));
    case 'wrong_axon':
      return once(c, build({ axonHotkey: otherAxon }));
    case 'missing_input_obj':
      if (required.size === 0) return { case: c, skipped: true, status: 0 };
      return once(c, build({ omitInputs: true }));
    case 'unknown_synapse':
      return once(c, build({ route: synapse + 'Unknown' }));
    default:
      throw new Error(`unknown case ${c}`);
  }
}

const out = [];
for (const c of cases) out.push(await run(c));
process.stdout.write(dumpJSON(out));
