/**
 * A partition's log line as the console shows it: C0 controls (ESC among them), DEL and C1 controls
 * become `\xNN` and a backslash becomes `\\`, so no partition can move the cursor, recolour or clear a
 * terminal (ECMA-48 §5: C0 and C1 sets) and every escape reads back unambiguously.
 */

/** True for U+0000–U+001F, U+007F and U+0080–U+009F (ECMA-48 §5.2, §5.3). */
function isControl(code: number): boolean {
  return code < 0x20 || (code >= 0x7f && code <= 0x9f);
}

/** The line escaped, cut to at most `max` characters of escaped text (then `…`) without splitting an escape. */
export function escapeLogLine(line: string, max = Infinity): string {
  let out = '';
  for (const ch of line) {
    const code = ch.codePointAt(0) ?? 0;
    const piece = ch === '\\' ? '\\\\' : isControl(code) ? `\\x${code.toString(16).padStart(2, '0')}` : ch;
    if (out.length + piece.length > max) return `${out}…`;
    out += piece;
  }
  return out;
}
