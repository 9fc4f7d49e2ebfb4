// localnet-client.mjs is an independent client of a running chain: it
// connects with @polkadot/api (ApiPromise over a WebSocket), reads the
// chain's metadata, signs and submits set_weights (or, given a mecid,
// set_mechanism_weights, as the current Python SDK sends) itself, waits for
// it to be in a block, and reads the weights back from storage (at the
// storage index netuid + mecid * 4096 for a mechanism).
//
// Input (stdin): {"url": "ws://…", "uri": "//Alice", "netuid": N,
//                 "uids": [...], "weights": [...], "versionKey": K,
//                 "mecid": M (optional)}.
// Output (stdout): {"chain", "specName", "specVersion", "setWeightsIndex",
//                   "mechanismCount", "extensions": [...], "status",
//                   "blockHash", "events": ["section.method", …], "uid",
//                   "stored": [[uid, value], …]} or {"error"}.
import { ApiPromise, WsProvider } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import { u8aToHex } from '@polkadot/util';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { readInput } from './io.mjs';

async function main() {
  const req = await readInput();
  await cryptoWaitReady();
  const provider = new WsProvider(req.url, false);
  await provider.connect();
  const api = await ApiPromise.create({ provider, throwOnConnect: true, noInitWarn: true });
  try {
    const signer = new Keyring({ type: 'sr25519', ss58Format: 42 }).addFromUri(req.uri);
    const mech = req.mecid !== undefined && req.mecid !== null;
    const tx = mech
      ? api.tx.subtensorModule.setMechanismWeights(req.netuid, req.mecid, req.uids, req.weights, req.versionKey)
      : api.tx.subtensorModule.setWeights(req.netuid, req.uids, req.weights, req.versionKey);
    const out = {
      chain: (await api.rpc.system.chain()).toString(),
      specName: api.runtimeVersion.specName.toString(),
      specVersion: api.runtimeVersion.specVersion.toNumber(),
      setWeightsIndex: u8aToHex(tx.callIndex),
      mechanismCount: (await api.query.subtensorModule.mechanismCountCurrent(req.netuid)).toNumber(),
      extensions: api.registry.signedExtensions,
    };
    const result = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('not in a block after 60 s')), 60000);
      tx.signAndSend(signer, (res) => {
        if (res.isError) {
          clearTimeout(timer);
          reject(new Error(`transaction ${res.status.type}`));
        } else if (res.status.isInBlock) {
          clearTimeout(timer);
          resolve(res);
        }
      }).catch((err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    out.status = result.status.type;
    out.blockHash = result.status.asInBlock.toHex();
    out.events = result.events.map(({ event }) => `${event.section}.${event.method}`);
    const uid = await api.query.subtensorModule.uids(req.netuid, signer.address);
    out.uid = uid.isSome ? uid.unwrap().toNumber() : uid.toJSON();
    const index = mech ? req.netuid + req.mecid * 4096 : req.netuid;
    const stored = await api.query.subtensorModule.weights(index, out.uid);
    out.stored = stored.map(([u, v]) => [u.toNumber(), v.toNumber()]);
    process.stdout.write(JSON.stringify(out));
  } finally {
    await api.disconnect();
  }
}

main().catch((err) => {
  process.stdout.write(JSON.stringify({ error: String(err && err.message ? err.message : err) }));
});
