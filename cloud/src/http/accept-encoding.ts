/** One coding of an Accept-Encoding header: its name and weight (RFC 9110 §12.5.3). */
function codings(header: string): Map<string, number> {
  const weights = new Map<string, number>();
  for (const part of header.toLowerCase().split(',')) {
    const [coding, ...params] = part.split(';').map((token) => token.trim());
    if (!coding) continue;
    const q = params.find((param) => param.startsWith('q='));
    const weight = q === undefined ? 1 : Number(q.slice(2));
    weights.set(coding, Number.isFinite(weight) ? weight : 0);
  }
  return weights;
}

/** Whether a client's Accept-Encoding allows gzip: named with a weight above 0, or else `*` with one. */
export function acceptsGzip(header: string | undefined): boolean {
  const weights = codings(header ?? '');
  const weight = weights.get('gzip') ?? weights.get('x-gzip') ?? weights.get('*') ?? 0;
  return weight > 0;
}
