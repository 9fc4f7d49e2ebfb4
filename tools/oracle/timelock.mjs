// timelock.mjs answers timelock questions with @ideallabs/timelock_wasm_wrapper,
// the tle crate (ideal-lab5/timelock) compiled to wasm, so that vigil's Go
// tests can check bittensor/timelock against an implementation they did not
// write.
//
// Input (stdin): a JSON array of requests, each {"op": ..., ...}.
// Output (stdout): a JSON array of the same length; each element is the
// answer object, or {"error": "..."} when the wasm rejected the request.
// All binary values are 0x-prefixed hex.
//
//   {"op":"encrypt","round":N,"message":H,"publicKey":H,"key":H}
//        -> {"ciphertext"}   tle for identity sha256(round as u64 big-endian),
//                            under the 96-byte G2 beacon key, with the 32-byte
//                            AES key given (the wasm draws the IBE randomness
//                            and the nonce itself)
//   {"op":"decrypt","ciphertext":H,"signature":H}
//        -> {"plaintext"}    tld with the round's 48-byte G1 signature
//   {"op":"decryptWithKey","ciphertext":H,"key":H}
//        -> {"plaintext"}    opens only the AES-GCM body with the 32-byte key
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { initSync, tle, tld, decrypt } from '@ideallabs/timelock_wasm_wrapper';
import { answerAll, readInput } from './io.mjs';

const CURVE = 'bls12_381'; // drand quicknet: signatures on G1, keys on G2

// The package's default loader fetches the wasm by URL; read it from disk.
const require = createRequire(import.meta.url);
const pkgDir = dirname(require.resolve('@ideallabs/timelock_wasm_wrapper/package.json'));
initSync({ module: readFileSync(join(pkgDir, 'timelock_wasm_wrapper_bg.wasm')) });

function bytes(hex, what) {
  if (typeof hex !== 'string' || !/^0x([0-9a-fA-F]{2})*$/.test(hex)) {
    throw new Error(`${what}: want 0x-prefixed hex`);
  }
  return Array.from(Buffer.from(hex.slice(2), 'hex'));
}

const toHex = (arr) => '0x' + Buffer.from(arr).toString('hex');

// roundIdentity is the message drand signs for a round.
function roundIdentity(round) {
  const be = Buffer.alloc(8);
  be.writeBigUInt64BE(BigInt(round));
  return Array.from(createHash('sha256').update(be).digest());
}

function answer(req) {
  switch (req.op) {
    case 'encrypt':
      return {
        ciphertext: toHex(
          tle(roundIdentity(req.round), bytes(req.message, 'message'), bytes(req.key, 'key'),
            bytes(req.publicKey, 'publicKey'), CURVE),
        ),
      };
    case 'decrypt':
      return { plaintext: toHex(tld(bytes(req.ciphertext, 'ciphertext'), bytes(req.signature, 'signature'), CURVE)) };
    case 'decryptWithKey':
      return { plaintext: toHex(decrypt(bytes(req.ciphertext, 'ciphertext'), bytes(req.key, 'key'), CURVE)) };
    default:
      throw new Error(`unknown op ${JSON.stringify(req.op)}`);
  }
}

answerAll(await readInput(), answer);
