/**
 * UTF-8 (RFC 3629) without `TextEncoder`/`TextDecoder`, which a Hardened JavaScript compartment does not
 * have: code that runs inside partitions encodes text with these. Malformed input decodes to U+FFFD.
 */
export function encodeUtf8(text: string): Uint8Array {
  const out: number[] = [];
  for (const ch of text) {
    const c = ch.codePointAt(0) ?? 0xfffd;
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return Uint8Array.from(out);
}

export function decodeUtf8(bytes: Uint8Array): string {
  let s = '';
  let i = 0;
  const cont = (): number => {
    const b = bytes[i];
    if (b === undefined || (b & 0xc0) !== 0x80) return -1;
    i++;
    return b & 63;
  };
  while (i < bytes.length) {
    const b = bytes[i++] as number;
    let c = -1;
    if (b < 0x80) c = b;
    else if (b >= 0xc2 && b < 0xe0) {
      const x = cont();
      c = x < 0 ? -1 : ((b & 31) << 6) | x;
    } else if (b >= 0xe0 && b < 0xf0) {
      const x = cont();
      const y = x < 0 ? -1 : cont();
      c = y < 0 ? -1 : ((b & 15) << 12) | (x << 6) | y;
      if (c >= 0 && (c < 0x800 || (c >= 0xd800 && c < 0xe000))) c = -1;
    } else if (b >= 0xf0 && b < 0xf5) {
      const x = cont();
      const y = x < 0 ? -1 : cont();
      const z = y < 0 ? -1 : cont();
      c = z < 0 ? -1 : ((b & 7) << 18) | (x << 12) | (y << 6) | z;
      if (c >= 0 && (c < 0x10000 || c > 0x10ffff)) c = -1;
    }
    s += c < 0 ? '\ufffd' : String.fromCodePoint(c);
  }
  return s;
}
