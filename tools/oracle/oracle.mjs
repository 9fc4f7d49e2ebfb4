// oracle.mjs answers key questions with @polkadot's implementation, so that
// vigil's Go tests can compare their own answers with one they did not write.
//
// Input (stdin): a JSON array of requests, each {"op": ..., ...}.
// Output (stdout): a JSON array of the same length; each element is the
// answer object, or {"error": "..."} when @polkadot rejected the request.
// All binary values are 0x-prefixed hex.
//
//   {"op":"uri","uri":S}                 -> {"publicKey","address"}   (sr25519, SS58 prefix 42)
//   {"op":"miniSecret","mnemonic":S,"password":S} -> {"miniSecret"}
//   {"op":"validateMnemonic","mnemonic":S}       -> {"valid": bool}
//   {"op":"seed","seed":H}               -> {"publicKey"}
//   {"op":"ss58encode","publicKey":H,"prefix":N} -> {"address"}
//   {"op":"ss58decode","address":S}      -> {"publicKey"}
//   {"op":"sign","uri":S,"message":H}    -> {"signature"}             (signs the bytes as given)
//   {"op":"verify","publicKey":H,"message":H,"signature":H}
//                                        -> {"raw": bool, "wrapped": bool}
//        raw: sr25519Verify over exactly the message bytes;
//        wrapped: signatureVerify, which also accepts a signature over <Bytes>message</Bytes>.
import { Keyring } from '@polkadot/keyring';
import { hexToU8a, u8aToHex } from '@polkadot/util';
import {
  cryptoWaitReady,
  decodeAddress,
  encodeAddress,
  mnemonicToMiniSecret,
  mnemonicValidate,
  signatureVerify,
  sr25519PairFromSeed,
  sr25519Verify,
} from '@polkadot/util-crypto';
import { answerAll, readInput } from './io.mjs';

const PREFIX = 42;

// verifies turns a throw on a malformed signature into a plain rejection.
function verifies(fn) {
  try {
    return fn() === true;
  } catch {
    return false;
  }
}

function answer(keyring, req) {
  switch (req.op) {
    case 'uri': {
      const pair = keyring.addFromUri(req.uri);
      return { publicKey: u8aToHex(pair.publicKey), address: pair.address };
    }
    case 'miniSecret':
      return { miniSecret: u8aToHex(mnemonicToMiniSecret(req.mnemonic, req.password ?? '')) };
    case 'validateMnemonic':
      return { valid: mnemonicValidate(req.mnemonic) };
    case 'seed':
      return { publicKey: u8aToHex(sr25519PairFromSeed(hexToU8a(req.seed)).publicKey) };
    case 'ss58encode':
      return { address: encodeAddress(hexToU8a(req.publicKey), req.prefix ?? PREFIX) };
    case 'ss58decode':
      return { publicKey: u8aToHex(decodeAddress(req.address)) };
    case 'sign': {
      const pair = keyring.addFromUri(req.uri);
      return { signature: u8aToHex(pair.sign(hexToU8a(req.message))) };
    }
    case 'verify': {
      const msg = hexToU8a(req.message);
      const sig = hexToU8a(req.signature);
      const pub = hexToU8a(req.publicKey);
      return {
        raw: verifies(() => sr25519Verify(msg, sig, pub)),
        wrapped: verifies(() => signatureVerify(msg, sig, pub).isValid),
      };
    }
    default:
      throw new Error(`unknown op ${JSON.stringify(req.op)}`);
  }
}

await cryptoWaitReady();
const keyring = new Keyring({ type: 'sr25519', ss58Format: PREFIX });
answerAll(await readInput(), (req) => answer(keyring, req));
