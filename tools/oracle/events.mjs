// events.mjs encodes and decodes System.Events values with @polkadot/types,
// loaded with a chain's metadata, so that vigil's Go event decoder can be
// held against polkadot-js.
//
// Input (stdin): {"metadata": "<path to a metadata hex file>", "requests": [...]}.
// Output (stdout): a JSON array with one answer per request, or
// {"error": "..."} where polkadot-js rejected it. Binary values are 0x hex.
//
//   {"op":"events","records":[R...]} -> {"encoded","type","records":[D...]}
//   {"op":"decode","encoded":H}      -> {"type","records":[D...]}
//
// R: {"phase": {"ApplyExtrinsic": n} | "Finalization" | "Initialization",
//     "section": pallet name, "method": event name,
//     "args": the event's fields as polkadot-js takes them for the pallet's
//             event enum (a tuple array or a struct object),
//     "topics": ["0x<32 bytes>", ...]}
// The records are encoded as the value type of storage System.Events
// (polkadot-js names it from the metadata, e.g. Vec<FrameSystemEventRecord>),
// then decoded again by polkadot-js. The decode op decodes a value given as
// hex. D describes each decoded record:
//   {"phase": {"kind": "ApplyExtrinsic"|"Finalization"|"Initialization",
//              "index": n for ApplyExtrinsic},
//    "section": the pallet name as in the metadata, "method",
//    "palletIndex", "eventIndex",
//    "data": the event's encoded fields, "topics",
//    "dispatchError": for System.ExtrinsicFailed, {"kind", "section", "name",
//                     "docs", "palletIndex", "errorIndex"} (section, docs and
//                     the indices for Module errors only; name is the inner
//                     variant for other kinds, when there is one)}
import fs from 'node:fs';
import { Metadata, TypeRegistry } from '@polkadot/types';
import { u8aConcat, u8aToHex } from '@polkadot/util';
import { answerAll, readInput } from './io.mjs';

function eventsType(registry) {
  const sys = registry.metadata.pallets.find((p) => p.name.toString() === 'System');
  const item = sys.storage.unwrap().items.find((i) => i.name.toString() === 'Events');
  return registry.lookup.getTypeDef(item.type.asPlain).type;
}

// eventBytes is pallet index ‖ the pallet's event enum encoded by polkadot-js.
function eventBytes(registry, rec) {
  const p = registry.metadata.pallets.find((x) => x.name.toString() === rec.section);
  if (!p || p.events.isNone) throw new Error(`no events for pallet ${rec.section}`);
  const id = p.events.unwrap().type;
  const def = registry.lookup.getTypeDef(id);
  const enc = registry.createType(def.lookupName || `Lookup${id.toNumber()}`, { [rec.method]: rec.args ?? null });
  if (enc.type !== rec.method) throw new Error(`polkadot-js built ${enc.type}, not ${rec.method}`);
  return u8aConcat(Uint8Array.of(p.index.toNumber()), enc.toU8a());
}

function palletName(registry, index) {
  const p = registry.metadata.pallets.find((x) => x.index.toNumber() === index);
  return p ? p.name.toString() : '';
}

function dispatchError(registry, de) {
  if (de.isModule) {
    const mod = de.asModule;
    let meta = { name: '', docs: [] };
    try {
      meta = registry.findMetaError(mod);
    } catch {
      // an index the metadata does not name
    }
    return {
      kind: 'Module',
      section: palletName(registry, mod.index.toNumber()),
      name: meta.name,
      docs: meta.docs,
      palletIndex: mod.index.toNumber(),
      errorIndex: mod.error.toU8a()[0],
    };
  }
  // Token, Arithmetic, Transactional and Trie carry an inner enum.
  const inner = de.value;
  return { kind: de.type, name: inner && typeof inner.type === 'string' && 'isBasic' in inner ? inner.type : '' };
}

function describe(registry, rec) {
  const ev = rec.event;
  const idx = ev.index.toU8a();
  const phase = { kind: rec.phase.type };
  if (rec.phase.isApplyExtrinsic) phase.index = rec.phase.asApplyExtrinsic.toNumber();
  const out = {
    phase,
    section: palletName(registry, idx[0]),
    method: ev.method,
    palletIndex: idx[0],
    eventIndex: idx[1],
    data: u8aToHex(ev.data.toU8a()),
    topics: rec.topics.map((t) => t.toHex()),
  };
  if (out.section === 'System' && ev.method === 'ExtrinsicFailed') out.dispatchError = dispatchError(registry, ev.data[0]);
  return out;
}

function answer(registry, req) {
  switch (req.op) {
    case 'events': {
      const type = eventsType(registry);
      const value = req.records.map((r) => ({ phase: r.phase, event: eventBytes(registry, r), topics: r.topics ?? [] }));
      const encoded = registry.createType(type, value).toU8a();
      const decoded = registry.createType(type, encoded);
      return { encoded: u8aToHex(encoded), type, records: decoded.map((r) => describe(registry, r)) };
    }
    case 'decode': {
      const type = eventsType(registry);
      const value = registry.createType(type, req.encoded);
      if (value.encodedLength !== (req.encoded.length - 2) / 2) {
        throw new Error(`polkadot-js decoded ${value.encodedLength} of ${(req.encoded.length - 2) / 2} bytes`);
      }
      return { type, records: value.map((r) => describe(registry, r)) };
    }
    default:
      throw new Error(`unknown op ${JSON.stringify(req.op)}`);
  }
}

const input = await readInput();
const registry = new TypeRegistry();
// polkadot-js warns on stderr about subtensor's own transaction extensions;
// that is expected and does not affect types.
registry.setMetadata(new Metadata(registry, fs.readFileSync(input.metadata, 'utf8').trim()));
answerAll(input.requests, (req) => answer(registry, req));
