// localnet-metadata.mjs loads the metadata vigil's localnet generates into
// @polkadot/types and answers with what polkadot-js makes of it, so that
// vigil's Go tests can check that clients written for finney work against
// the localnet unchanged.
//
// Input (stdin): {"metadata": "<path to a metadata hex file>", "requests": [...]}.
// Output (stdout): a JSON array with one answer per request, or
// {"error": "..."} where polkadot-js rejected it. Binary values are 0x hex.
//
//   {"op":"calls"}  -> {"calls": [{"section","method","pallet","index"}...],
//                       "extensions": [identifier...], "warnings": [...]}
//        every call polkadot-js decorates (api.tx.<section>.<method>) with its
//        call index (pallet: the metadata's pallet name), the signed
//        extensions it will use, and what it warned about while loading.
//   {"op":"sign","uri":S,"section":S,"method":S,"args":[...],"tx":TX}
//        -> {"call","extrinsic","signer"}  the call built by polkadot-js from
//        the decorated method and signed with the key of uri.
//        TX: {era: {current, period} | "immortal", nonce, tip, specVersion,
//        transactionVersion, genesisHash, blockHash}.
//   {"op":"events","encoded":H} -> {"type","records":[D...]}
//        H decoded as the value type of System.Events. D: {"phase": {"kind",
//        "index"}, "section", "method", "palletIndex", "eventIndex", "data",
//        "topics", "dispatchError": {"kind","section","name","palletIndex",
//        "errorIndex"} for System.ExtrinsicFailed}.
//   {"op":"storageKey","section":S,"method":S,"args":[...]} -> {"key"}
//        the key polkadot-js builds for api.query.<section>.<method>(...args).
import fs from 'node:fs';
import { Keyring } from '@polkadot/keyring';
import { expandMetadata, Metadata, TypeRegistry } from '@polkadot/types';
import { compactStripLength, stringCamelCase, u8aToHex } from '@polkadot/util';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { answerAll, readInput } from './io.mjs';
import { signed } from './tx.mjs';

function palletName(registry, index) {
  const p = registry.metadata.pallets.find((x) => x.index.toNumber() === index);
  return p ? p.name.toString() : '';
}

function dispatchError(registry, de) {
  if (!de.isModule) return { kind: de.type };
  const mod = de.asModule;
  const meta = registry.findMetaError(mod);
  return {
    kind: 'Module',
    section: palletName(registry, mod.index.toNumber()),
    name: meta.name,
    palletIndex: mod.index.toNumber(),
    errorIndex: mod.error.toU8a()[0],
  };
}

function eventsType(registry) {
  const sys = registry.metadata.pallets.find((p) => p.name.toString() === 'System');
  const item = sys.storage.unwrap().items.find((i) => i.name.toString() === 'Events');
  return registry.lookup.getTypeDef(item.type.asPlain).type;
}

function answer(ctx, req) {
  const { registry, decorated, keyring, warnings } = ctx;
  switch (req.op) {
    case 'calls': {
      const calls = [];
      for (const p of registry.metadata.pallets) {
        const section = stringCamelCase(p.name.toString());
        for (const [method, fn] of Object.entries(decorated.tx[section] ?? {})) {
          calls.push({ section, method, pallet: p.name.toString(), index: Array.from(fn.callIndex) });
        }
      }
      return { calls, extensions: registry.signedExtensions, warnings };
    }
    case 'sign': {
      const fn = decorated.tx[req.section]?.[req.method];
      if (!fn) throw new Error(`no call ${req.section}.${req.method}`);
      const call = fn(...req.args);
      const pair = keyring.addFromUri(req.uri);
      const ext = signed(registry, pair, call, req.tx);
      return { call: call.toHex(), extrinsic: ext.toHex(), signer: u8aToHex(pair.publicKey) };
    }
    case 'events': {
      const type = eventsType(registry);
      const value = registry.createType(type, req.encoded);
      if (value.encodedLength !== (req.encoded.length - 2) / 2) {
        throw new Error(`polkadot-js decoded ${value.encodedLength} of ${(req.encoded.length - 2) / 2} bytes`);
      }
      const records = value.map((rec) => {
        const idx = rec.event.index.toU8a();
        const phase = { kind: rec.phase.type };
        if (rec.phase.isApplyExtrinsic) phase.index = rec.phase.asApplyExtrinsic.toNumber();
        const out = {
          phase,
          section: palletName(registry, idx[0]),
          method: rec.event.method,
          palletIndex: idx[0],
          eventIndex: idx[1],
          data: u8aToHex(rec.event.data.toU8a()),
          topics: rec.topics.map((t) => t.toHex()),
        };
        if (out.section === 'System' && rec.event.method === 'ExtrinsicFailed') {
          out.dispatchError = dispatchError(registry, rec.event.data[0]);
        }
        return out;
      });
      return { type, records };
    }
    case 'storageKey': {
      const item = decorated.query[req.section]?.[req.method];
      if (!item) throw new Error(`no storage item ${req.section}.${req.method}`);
      // The decorated function returns the key with a compact length
      // prefix (the form state_getStorage takes as a Bytes parameter).
      const [, key] = compactStripLength(item(...req.args));
      return { key: u8aToHex(key) };
    }
    default:
      throw new Error(`unknown op ${JSON.stringify(req.op)}`);
  }
}

await cryptoWaitReady();
const input = await readInput();
// polkadot-js reports what it makes of the metadata (unknown extensions,
// types it cannot place) through console.warn; collect it for the tests
// instead of letting it reach stdout or stderr.
const warnings = [];
console.warn = (...args) => warnings.push(args.map(String).join(' '));
const registry = new TypeRegistry();
const metadata = new Metadata(registry, fs.readFileSync(input.metadata, 'utf8').trim());
registry.setMetadata(metadata);
const ctx = {
  registry,
  decorated: expandMetadata(registry, metadata),
  keyring: new Keyring({ type: 'sr25519', ss58Format: 42 }),
  warnings,
};
answerAll(input.requests, (req) => answer(ctx, req));
