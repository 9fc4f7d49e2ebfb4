// tx.mjs builds and signs extrinsics with @polkadot/types for the oracle
// scripts that do so.
//
// Transaction fields (tx): {era: {current, period} | "immortal", nonce, tip,
// specVersion, transactionVersion, genesisHash, blockHash}.

// era is tx's mortality as polkadot-js encodes it.
export function era(registry, tx) {
  if (tx.era === 'immortal') return registry.createType('ExtrinsicEra', '0x00');
  return registry.createType('ExtrinsicEra', { current: tx.era.current, period: tx.era.period });
}

// signed is a v4 extrinsic of method (a Call) signed by pair under tx.
export function signed(registry, pair, method, tx) {
  const ext = registry.createType('Extrinsic', { method }, { version: 4 });
  ext.sign(pair, {
    blockHash: tx.blockHash,
    era: era(registry, tx),
    genesisHash: tx.genesisHash,
    nonce: tx.nonce,
    tip: tx.tip,
    mode: 0,
    runtimeVersion: { specVersion: tx.specVersion, transactionVersion: tx.transactionVersion },
    signedExtensions: registry.signedExtensions,
  });
  return ext;
}
