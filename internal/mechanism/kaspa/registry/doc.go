// Package registry is the Kaspa mechanism's hotkey↔worker registry, wire
// compatible with HashTensor (SN16) validators and miners' scripts: signed
// registrations and unbinds (POST /register, POST /unbind), the read routes
// peers and miners use (GET /mappings, /hotkey_workers,
// /validator_sync_offsets, /openapi.json), and a Syncer that copies signed
// registrations and unbinds from peer validators.
//
// # Rules
//
// A worker name is bound to at most one hotkey, ever; the hotkey's SS58
// string must appear in the name (case-sensitive); a hotkey holds at most
// 30 active workers (configurable). A binding is signed by the hotkey over
// RegistrationMessage, an unbind over UnbindMessage: Python's
// json.dumps(sort_keys=True, separators=(",", ":")) bytes, verified as
// sr25519 with context "substrate", raw or <Bytes>-wrapped.
//
// # Tombstones
//
// An unbind keeps the row, with the hotkey's unbind signature: the
// tombstone. Its signed message carries no time, so it stays valid and
// anyone can check it; it applies to the one binding the name can ever have.
// Peers receive tombstones through the change feed,
// GET /hotkey_workers?since_seq=N&page_size=M, which serves every row changed
// after the serving validator's change number N, in change order, with
// "seq" and, for unbound rows, "unbind_signature" and "unbind_time". A vigil
// validator advertises the feed in /openapi.json (info.x-vigil-registry-feed
// and info.x-vigil-registry-instance, which names its database so a
// replaced database restarts the cursor).
//
// # Deviations from the reference (HashTensor v1.4.2)
//
//   - Unbinds propagate between validators as signed tombstones; the
//     reference never sends them, so a validator that missed an unbind keeps
//     the binding forever.
//   - The reference's GET /hotkey_workers (since_timestamp, page_size,
//     page_number) leaves unbound rows out instead of serving them as bound,
//     so a Python peer joining later does not import them as active. Python
//     peers still read it unchanged and still only learn bindings from it.
//   - Peers serving the feed are synced by change number, not by the
//     miner-chosen registration time, so late rows are not lost; reference
//     peers are paged by time, every page up to a cap, re-reading a margin
//     before the cursor, and a signed time in the future does not move the
//     cursor past now.
//   - Peers are accepted on equal major.minor versions, not only an
//     identical version string. This validator still serves the reference's
//     version (1.4.2 by default), which Python peers require.
//   - Every stored signature has been verified: there is no VERIFY_SIGNATURE
//     switch. So a vigil peer serving a bad signature in its feed is broken
//     or hostile, and its page is refused whole; a reference peer (which can
//     run unverified) has its bad rows skipped, as the reference does.
//   - An unparsable hotkey in /unbind is a 422 "Invalid ss58 address", not
//     the reference's 500; a failing pool or metagraph lookup is a 503, not a
//     500. The hotkey must be an SS58 address of a 32-byte account.
//   - Requests are strict JSON: one object, valid UTF-8, no trailing data,
//     no NaN; registration_time must be a JSON number (pydantic would also
//     take a numeric string). Unknown fields are ignored, as in the
//     reference. Worker names are limited to 256 bytes without control
//     characters; bodies to 16 KiB (413 beyond); page_size to 1000 (422
//     beyond; the reference has no limit).
//   - X-Signature may be upper-case hex, as Python's bytes.fromhex allows;
//     it is stored lower-case. A 0x prefix is refused, as in the reference.
package registry
