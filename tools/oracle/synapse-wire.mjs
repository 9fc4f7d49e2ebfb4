// synapse-wire.mjs holds what axon-peer.mjs and dendrite-peer.mjs share: the
// bittensor SDK's synapse wire rules (JSON values as Python sees them, the
// body hash, the bt_header_* headers and the signed message), written here
// without vigil's Go code so that each side can check the other.
//
// Values. JSON.parse cannot tell 12 from 12.0, but Python (and so the body
// hash) can: str(12) is "12", str(12.0) is "12.0". parseJSON below is a small
// parser of its own that keeps numbers tagged: PyInt (a BigInt, exact) for
// literals without '.', 'e' or 'E', PyFloat (a Number) for the others.
// Objects become Maps so that key order (a Python dict's order) is kept,
// integer-like keys included. dumpJSON writes such values back (floats in
// Python's repr, so 12.0 stays 12.0); it also takes plain JS values, BigInt
// as an int and a Number as an int when it is integral.
//
// Run directly, it answers questions the same way as oracle.mjs:
// stdin a JSON array of requests, stdout a JSON array of answers.
//   {"op":"str","json":S}                      -> {"str"}   Python str(json.loads(S))
//   {"op":"bodyHash","json":S,"hash_fields":[...]} -> {"hash"} body hash of the object S
//   {"op":"selfCheck"}                         -> {"ok": true}
import { createHash, randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { u8aWrapBytes } from '@polkadot/util';
import { decodeAddress, sr25519Verify } from '@polkadot/util-crypto';

// bittensor 9.10.0 as an int, the dendrite version our peers announce.
export const VERSION = 9010000;
// Since this version an axon bounds the first nonce of an endpoint key.
export const NONCE_WINDOW_VERSION = 7002000;
// The slack an axon allows on a first nonce, beyond the synapse timeout.
export const ALLOWED_DELTA_NS = 4_000_000_000n;
export const EMPTY_BODY_HASH = 'a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a';

// TerminalInfo's fields in the SDK's declaration order, with their types.
export const TERMINAL_FIELDS = [
  ['status_code', 'int'],
  ['status_message', 'str'],
  ['process_time', 'float'],
  ['ip', 'str'],
  ['port', 'int'],
  ['version', 'int'],
  ['nonce', 'int'],
  ['uuid', 'str'],
  ['hotkey', 'str'],
  ['signature', 'str'],
];

export class PyInt {
  constructor(value) {
    this.value = BigInt(value);
  }
}

export class PyFloat {
  constructor(value) {
    this.value = Number(value);
  }
}

export const int = (v) => new PyInt(v);
export const float = (v) => new PyFloat(v);

// ---- JSON with tagged numbers ----

// parseJSON parses text the way Python's json.loads does (NaN, Infinity and
// -Infinity included), keeping int/float apart and object order.
export function parseJSON(text) {
  let i = 0;
  const fail = (what) => {
    throw new SyntaxError(`JSON: ${what} at offset ${i}`);
  };
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const lit = (word, value) => {
    if (text.startsWith(word, i)) {
      i += word.length;
      return value;
    }
    return fail('unexpected character');
  };
  const string = () => {
    i++; // opening quote
    let out = '';
    for (;;) {
      if (i >= text.length) fail('unterminated string');
      const c = text[i];
      if (c === '"') {
        i++;
        return out;
      }
      if (c < ' ') fail('control character in string');
      if (c !== '\\') {
        out += c;
        i++;
        continue;
      }
      const e = text[i + 1];
      i += 2;
      const simple = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
      if (e in simple) {
        out += simple[e];
      } else if (e === 'u') {
        const hex = text.slice(i, i + 4);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('bad \\u escape');
        out += String.fromCharCode(parseInt(hex, 16));
        i += 4;
      } else {
        fail('bad escape');
      }
    }
  };
  const number = () => {
    const m = /^-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?/.exec(text.slice(i));
    if (!m) fail('bad number');
    i += m[0].length;
    if (m[1] === undefined && m[2] === undefined) return new PyInt(m[0]);
    return new PyFloat(Number(m[0]));
  };
  const value = () => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const obj = new Map();
      ws();
      if (text[i] === '}') {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('want a key');
        const k = string();
        ws();
        if (text[i] !== ':') fail("want ':'");
        i++;
        obj.set(k, value()); // a repeated key keeps its first place, last value
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return obj;
        }
        fail("want ',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      const arr = [];
      ws();
      if (text[i] === ']') {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value());
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return arr;
        }
        fail("want ',' or ']'");
      }
    }
    if (c === '"') return string();
    if (c === 't') return lit('true', true);
    if (c === 'f') return lit('false', false);
    if (c === 'n') return lit('null', null);
    if (c === 'N') return lit('NaN', new PyFloat(NaN));
    if (c === 'I') return lit('Infinity', new PyFloat(Infinity));
    if (c === '-' && text.startsWith('-Infinity', i)) return lit('-Infinity', new PyFloat(-Infinity));
    if (c === '-' || (c >= '0' && c <= '9')) return number();
    return fail(i >= text.length ? 'unexpected end' : 'unexpected character');
  };
  const v = value();
  ws();
  if (i !== text.length) fail('trailing data');
  return v;
}

// entries lists an object's pairs, for Maps and plain objects alike.
function entries(obj) {
  return obj instanceof Map ? [...obj.entries()] : Object.entries(obj);
}

function isObject(v) {
  return v instanceof Map || (v !== null && typeof v === 'object' && !Array.isArray(v) &&
    !(v instanceof PyInt) && !(v instanceof PyFloat));
}

// dumpJSON writes v as JSON, with Python json.dumps' separators.
export function dumpJSON(v) {
  if (v === null || v === undefined) return 'null';
  if (v === true) return 'true';
  if (v === false) return 'false';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof PyInt) return v.value.toString();
  if (v instanceof PyFloat) return floatJSON(v.value);
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v).toString() : floatJSON(v);
  if (Array.isArray(v)) return '[' + v.map(dumpJSON).join(', ') + ']';
  if (isObject(v)) return '{' + entries(v).map(([k, x]) => JSON.stringify(k) + ': ' + dumpJSON(x)).join(', ') + '}';
  throw new TypeError(`cannot write ${typeof v} as JSON`);
}

function floatJSON(x) {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  return floatRepr(x);
}

// toPlain turns tagged values into plain JS ones (ints as Numbers when
// exact, else as decimal strings), for objects built inside the scripts.
export function toPlain(v) {
  if (v instanceof PyInt) {
    const n = Number(v.value);
    return Number.isSafeInteger(n) ? n : v.value.toString();
  }
  if (v instanceof PyFloat) return v.value;
  if (Array.isArray(v)) return v.map(toPlain);
  if (isObject(v)) return Object.fromEntries(entries(v).map(([k, x]) => [k, toPlain(x)]));
  return v;
}

// ---- Python str() and repr() ----

// floatRepr is Python's repr of a float: the shortest digits that read back
// to x (the same digits as JS's Number-to-string), written in exponent form
// when the decimal exponent is below -4 or at least 16.
export function floatRepr(x) {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  const [mant, expPart] = String(Math.abs(x)).split('e');
  const [ip, fp = ''] = mant.split('.');
  const all = ip + fp;
  const lead = all.length - all.replace(/^0+/, '').length;
  const digits = all.slice(lead).replace(/0+$/, '');
  const exp = ip.length - lead - 1 + Number(expPart ?? 0);
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? digits[0] + '.' + digits.slice(1) : digits;
    const e = String(Math.abs(exp)).padStart(2, '0');
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${e}`;
  }
  if (exp < 0) return sign + '0.' + '0'.repeat(-exp - 1) + digits;
  if (digits.length <= exp + 1) return sign + digits + '0'.repeat(exp + 1 - digits.length) + '.0';
  return sign + digits.slice(0, exp + 1) + '.' + digits.slice(exp + 1);
}

// Python escapes characters that are not printable: Unicode "Other" and
// "Separator" categories, except the ASCII space.
const UNPRINTABLE = /^[\p{C}\p{Z}]$/u;

// strRepr is Python's repr of a str.
export function strRepr(s) {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = q;
  for (const ch of s) {
    const cp = ch.codePointAt(0);
    if (ch === q || ch === '\\') out += '\\' + ch;
    else if (ch === '\t') out += '\\t';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (cp === 0x20 || !UNPRINTABLE.test(ch)) out += ch;
    else if (cp < 0x100) out += '\\x' + cp.toString(16).padStart(2, '0');
    else if (cp < 0x10000) out += '\\u' + cp.toString(16).padStart(4, '0');
    else out += '\\U' + cp.toString(16).padStart(8, '0');
  }
  return out + q;
}

// pyRepr is Python's repr of a JSON value (how containers show members).
export function pyRepr(v) {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'string') return strRepr(v);
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof PyInt) return v.value.toString();
  if (v instanceof PyFloat) return floatRepr(v.value);
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v).toString() : floatRepr(v);
  if (Array.isArray(v)) return '[' + v.map(pyRepr).join(', ') + ']';
  if (isObject(v)) return '{' + entries(v).map(([k, x]) => strRepr(k) + ': ' + pyRepr(x)).join(', ') + '}';
  throw new TypeError(`no Python repr for ${typeof v}`);
}

// pyStr is Python's str: a string as it is, anything else as its repr.
export function pyStr(v) {
  return typeof v === 'string' ? v : pyRepr(v);
}

// ---- hashes and signatures ----

export function sha3Hex(s) {
  return createHash('sha3-256').update(Buffer.from(s, 'utf8')).digest('hex');
}

// fieldOf reads a field of a Map or plain object; a missing one is None.
export function fieldOf(obj, name) {
  if (obj instanceof Map) return obj.has(name) ? obj.get(name) : null;
  return Object.prototype.hasOwnProperty.call(obj, name) ? obj[name] : null;
}

// bodyHash is the SDK's body hash over the hash fields, taken in the order
// given (the order of the class's required_hash_fields).
export function bodyHash(fields, hashFields) {
  return sha3Hex((hashFields ?? []).map((f) => sha3Hex(pyStr(fieldOf(fields, f)))).join(''));
}

// signedMessage is the text a dendrite signs and an axon verifies.
export function signedMessage({ nonce, dendriteHotkey, axonHotkey, uuid, bodyHash: hash }) {
  return `${pyStr(nonce)}.${pyStr(dendriteHotkey)}.${pyStr(axonHotkey)}.${pyStr(uuid)}.${pyStr(hash)}`;
}

// verifySignature checks a 0x-hex sr25519 signature by the SS58 hotkey over
// message, first over the raw bytes and then <Bytes>-wrapped.
export function verifySignature(message, signature, hotkey) {
  try {
    if (typeof signature !== 'string' || !/^0x([0-9a-fA-F]{2})*$/.test(signature)) return false;
    const sig = Uint8Array.from(Buffer.from(signature.slice(2), 'hex'));
    const pub = decodeAddress(hotkey);
    const msg = new TextEncoder().encode(message);
    return sr25519Verify(msg, sig, pub) || sr25519Verify(u8aWrapBytes(msg), sig, pub);
  } catch {
    return false;
  }
}

// ---- time, ids ----

const clockBase = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();

// nowNs is Unix time in nanoseconds, as Python's time.time_ns().
export function nowNs() {
  return clockBase + process.hrtime.bigint();
}

// uuid1Like returns a time-based uuid string in uuid1's layout.
export function uuid1Like() {
  const t = nowNs() / 100n + 0x01b21dd213814000n; // 100 ns ticks since 1582
  const hex = t.toString(16).padStart(15, '0');
  const rnd = randomBytes(8);
  rnd[0] = (rnd[0] & 0x3f) | 0x80;
  const r = rnd.toString('hex');
  return `${hex.slice(7, 15)}-${hex.slice(3, 7)}-1${hex.slice(0, 3)}-${r.slice(0, 4)}-${r.slice(4)}`;
}

// ---- headers ----

// emptyLike is the empty value of v's type, what a dendrite sends in a
// bt_header_input_obj_ header.
export function emptyLike(v) {
  if (typeof v === 'string') return '';
  if (v === true || v === false) return false;
  if (v instanceof PyInt || typeof v === 'bigint') return new PyInt(0);
  if (v instanceof PyFloat) return new PyFloat(0);
  if (typeof v === 'number') return Number.isInteger(v) ? new PyInt(0) : new PyFloat(0);
  if (Array.isArray(v)) return [];
  if (isObject(v)) return new Map();
  return null;
}

export function inputObjHeader(empty) {
  return Buffer.from(dumpJSON(empty), 'utf8').toString('base64');
}

// Header values must be latin-1 without control characters.
const headerSafe = (s) => s.replace(/[^\t\x20-\x7e]/g, '?');

// toHeaders builds the SDK's headers of a synapse: name, timeout, the
// non-None axon and dendrite fields, an input_obj header per required field
// (with its empty value), sizes, and the body hash.
export function toHeaders({ name, timeout, axon, dendrite, required, bodyHash: hash, bodyLength }) {
  const h = { name: String(name ?? ''), timeout: pyStr(timeout) };
  for (const [side, info] of [['axon', axon], ['dendrite', dendrite]]) {
    for (const [k, v] of entries(info ?? {})) {
      if (v !== null && v !== undefined) h[`bt_header_${side}_${k}`] = headerSafe(pyStr(v));
    }
  }
  for (const [k, empty] of entries(required ?? {})) h[`bt_header_input_obj_${k}`] = inputObjHeader(empty);
  h.header_size = String(JSON.stringify(h).length);
  h.total_size = String((bodyLength ?? 0) + Number(h.header_size));
  h.computed_body_hash = hash;
  return h;
}

export class HeaderError extends Error {}

function typed(kind, raw, what) {
  if (kind === 'str') return raw;
  if (kind === 'int') {
    if (!/^\s*[-+]?[0-9]+\s*$/.test(raw)) throw new HeaderError(`${what}: not an int: ${JSON.stringify(raw)}`);
    return BigInt(raw.trim());
  }
  const t = raw.trim().toLowerCase().replace(/^\+/, '');
  const special = { nan: NaN, inf: Infinity, infinity: Infinity, '-inf': -Infinity, '-infinity': -Infinity };
  if (t in special) return special[t];
  const n = Number(t);
  if (t === '' || Number.isNaN(n) || /^-?0[xob]/.test(t)) {
    throw new HeaderError(`${what}: not a float: ${JSON.stringify(raw)}`);
  }
  return n;
}

// parseHeaders reads request headers (names lower-cased, as Node gives
// them) the way an SDK axon does: axon and dendrite TerminalInfo from the
// bt_header_axon_/bt_header_dendrite_ headers, input objects from
// bt_header_input_obj_ headers, and the plain name, timeout and
// computed_body_hash. A value of the wrong type, or a required field without
// its input object, throws HeaderError (the SDK answers 400).
export function parseHeaders(headers, requiredNames) {
  const axon = {};
  const dendrite = {};
  const inputs = {};
  for (const [rawKey, rawValue] of Object.entries(headers)) {
    const key = rawKey.toLowerCase();
    const value = Array.isArray(rawValue) ? rawValue.join(', ') : String(rawValue);
    let side = null;
    let field = null;
    for (const [prefix, target] of [['bt_header_axon_', axon], ['bt_header_dendrite_', dendrite]]) {
      const at = key.indexOf(prefix);
      if (at >= 0 && side === null) {
        side = target;
        field = key.slice(at + prefix.length);
      }
    }
    if (side) {
      side[field] = value;
      continue;
    }
    const at = key.indexOf('bt_header_input_obj_');
    if (at >= 0) {
      const name = key.slice(at + 'bt_header_input_obj_'.length);
      try {
        inputs[name] = parseJSON(Buffer.from(value, 'base64').toString('utf8'));
      } catch {
        // an undecodable input object counts as absent
      }
    }
  }
  const info = (raw, side) => {
    const out = {};
    for (const [k, kind] of TERMINAL_FIELDS) {
      const v = k in raw ? typed(kind, raw[k], `bt_header_${side}_${k}`) : null;
      out[k] = kind === 'float' && v !== null ? new PyFloat(v) : v;
    }
    return out;
  };
  for (const name of requiredNames ?? []) {
    if (!(name in inputs)) throw new HeaderError(`missing required field ${name} (header bt_header_input_obj_${name})`);
  }
  const get = (k) => (headers[k] === undefined ? null : String(headers[k]));
  const timeout = get('timeout');
  return {
    name: get('name'),
    timeout: timeout === null ? null : typed('float', timeout, 'timeout'),
    computedBodyHash: get('computed_body_hash'),
    axon: info(axon, 'axon'),
    dendrite: info(dendrite, 'dendrite'),
    inputs,
  };
}

// ---- self-check and oracle mode ----

export function selfCheck() {
  const want = [
    [sha3Hex(''), EMPTY_BODY_HASH],
    [bodyHash({}, []), EMPTY_BODY_HASH],
    [pyStr(parseJSON('12.0')), '12.0'],
    [pyStr(parseJSON('1e-05')), '1e-05'],
    [pyStr(parseJSON('1e16')), '1e+16'],
    [pyStr(parseJSON('[0.1, "a", true, null]')), "[0.1, 'a', True, None]"],
  ];
  for (const [got, exp] of want) {
    if (got !== exp) throw new Error(`synapse-wire self-check: got ${got}, want ${exp}`);
  }
}

selfCheck();

function answer(req) {
  switch (req.op) {
    case 'str':
      return { str: pyStr(parseJSON(req.json)) };
    case 'bodyHash':
      return { hash: bodyHash(parseJSON(req.json), req.hash_fields) };
    case 'selfCheck':
      selfCheck();
      return { ok: true };
    default:
      throw new Error(`unknown op ${JSON.stringify(req.op)}`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { answerAll, readInput } = await import('./io.mjs');
  answerAll(await readInput(), answer);
}
