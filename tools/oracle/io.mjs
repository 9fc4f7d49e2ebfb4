// io.mjs is the stdin/stdout protocol the oracle scripts share.

// readInput parses stdin as JSON.
export async function readInput() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
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
