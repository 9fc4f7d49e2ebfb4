// io.mjs is the stdin/stdout protocol the oracle scripts share.

// readText returns stdin, read to its end, as UTF-8 text.
export async function readText() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

// readInput parses stdin as JSON.
export async function readInput() {
  return JSON.parse(await readText());
}

// optionsOf returns a getter of m's entries (m a Map, as synapse-wire's
// parseJSON reads objects) that gives dflt for a missing or null entry.
export function optionsOf(m) {
  return (k, dflt) => (m.has(k) && m.get(k) !== null ? m.get(k) : dflt);
}

// answerAll writes one answer per request as a JSON array; a request that
// throws is answered {"error": message}.
export function answerAll(requests, answer) {
  if (!Array.isArray(requests)) throw new Error('requests must be a JSON array');
  const out = requests.map((req) => {
    try {
      return answer(req);
    } catch (err) {
      return { error: String(err && err.message ? err.message : err) };
    }
  });
  process.stdout.write(JSON.stringify(out));
}
