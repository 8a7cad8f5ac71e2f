/**
 * Stable JSON: object keys sorted by code point, so equal values always give equal text (and hashes).
 * Bigints print as decimal strings; Uint8Arrays as lowercase hex.
 */
export function stableStringify(value: unknown, indent?: number): string {
  return JSON.stringify(normalise(value), null, indent);
}

function normalise(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  if (Array.isArray(value)) return value.map(normalise);
  if (value instanceof Map) return normalise(Object.fromEntries(value));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = normalise(v);
    }
    return out;
  }
  return value;
}
