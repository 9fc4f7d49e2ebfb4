// extrinsic.mjs answers extrinsic questions with @polkadot/types, loaded
// with a chain's metadata, so that vigil's Go tests can compare their
// signing payloads, extrinsics and call encodings with polkadot-js.
//
// Input (stdin): {"metadata": "<path to a metadata hex file>", "requests": [...]}.
// Output (stdout): a JSON array with one answer per request, or
// {"error": "..."} where polkadot-js rejected it. Binary values are 0x hex.
//
// Transaction fields (tx): {era: {current, period} | "immortal", nonce, tip,
// specVersion, transactionVersion, genesisHash, blockHash}.
//
//   {"op":"payload","call":H,"tx":TX}      -> {"payload"}  (call ‖ extra ‖ implicit, unhashed)
//   {"op":"decode","extrinsic":H,"tx":TX}  -> {"signer","signature","era","nonce","tip",
//                                              "section","method","args","call","hash","valid"}
//        valid: the signature verifies over the payload polkadot-js builds from the
//        decoded fields and tx's versions and hashes (hashed with blake2b-256 when
//        longer than 256 bytes).
//   {"op":"sign","uri":S,"call":H,"tx":TX} -> {"extrinsic"}  (signed by polkadot-js)
//   {"op":"call","section":S,"method":S,"args":{...}} -> {"call"}
//   {"op":"encode","type":T,"value":V}     -> {"encoded","blake2_256"}  (any polkadot-js type
//        definition, e.g. "(AccountId, u16, Vec<u16>)" or a JSON struct definition)
import fs from 'node:fs';
import { Keyring } from '@polkadot/keyring';
import { Metadata, TypeRegistry } from '@polkadot/types';
import { u8aToHex } from '@polkadot/util';
import { blake2AsU8a, cryptoWaitReady, decodeAddress, sr25519Verify } from '@polkadot/util-crypto';
import { answerAll, readInput } from './io.mjs';
import { era, signed } from './tx.mjs';

function payload(registry, callHex, tx, eraValue) {
  return registry.createType(
    'ExtrinsicPayload',
    {
      method: callHex,
      era: eraValue,
      nonce: tx.nonce,
      tip: tx.tip,
      specVersion: tx.specVersion,
      transactionVersion: tx.transactionVersion,
      genesisHash: tx.genesisHash,
      blockHash: tx.blockHash,
      mode: 0,
    },
    { version: 4 },
  );
}

function answer(registry, keyring, req) {
  switch (req.op) {
    case 'payload': {
      const p = payload(registry, req.call, req.tx, era(registry, req.tx));
      return { payload: u8aToHex(p.toU8a({ method: true })) };
    }
    case 'decode': {
      const ext = registry.createType('Extrinsic', req.extrinsic);
      if (!ext.isSigned) throw new Error('not signed');
      const callHex = ext.method.toHex();
      const p = payload(registry, callHex, { ...req.tx, nonce: ext.nonce, tip: ext.tip }, ext.era);
      let msg = p.toU8a({ method: true });
      if (msg.length > 256) msg = blake2AsU8a(msg, 256);
      const sig = ext.signature.toU8a();
      return {
        signer: ext.signer.toString(),
        signature: u8aToHex(sig),
        era: ext.era.toHex(),
        nonce: ext.nonce.toNumber(),
        tip: ext.tip.toString(),
        section: ext.method.section,
        method: ext.method.method,
        args: ext.method.toJSON().args,
        call: callHex,
        hash: ext.hash.toHex(),
        valid: sig.length === 64 && sr25519Verify(msg, sig, decodeAddress(ext.signer.toString())),
      };
    }
    case 'sign': {
      const pair = keyring.addFromUri(req.uri);
      const ext = signed(registry, pair, registry.createType('Call', req.call), req.tx);
      return { extrinsic: ext.toHex() };
    }
    case 'encode': {
      const v = registry.createType(req.type, req.value).toU8a();
      return { encoded: u8aToHex(v), blake2_256: u8aToHex(blake2AsU8a(v, 256)) };
    }
    case 'call':
      return { call: registry.createType('Call', { callIndex: callIndex(registry, req), args: req.args }).toHex() };
    default:
      throw new Error(`unknown op ${JSON.stringify(req.op)}`);
  }
}

function callIndex(registry, req) {
  const pallets = registry.metadata.pallets;
  for (const p of pallets) {
    if (p.name.toString() !== req.section || p.calls.isNone) continue;
    const calls = registry.lookup.getSiType(p.calls.unwrap().type).def.asVariant.variants;
    for (const v of calls) {
      if (v.name.toString() === req.method) return [p.index.toNumber(), v.index.toNumber()];
    }
  }
  throw new Error(`no call ${req.section}.${req.method}`);
}

await cryptoWaitReady();
const input = await readInput();
const registry = new TypeRegistry();
// polkadot-js warns on stderr about extensions it treats as no-effect
// (subtensor's own, which carry no data); that is expected.
registry.setMetadata(new Metadata(registry, fs.readFileSync(input.metadata, 'utf8').trim()));
const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
answerAll(input.requests, (req) => answer(registry, keyring, req));
