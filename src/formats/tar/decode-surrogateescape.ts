/**
 * UTF-8 decoding with Python's `surrogateescape` error handler, which `tarfile` uses for member
 * names: every byte that is not part of a valid sequence becomes U+DC80–U+DCFF. Names that differ
 * only in invalid bytes thus stay different, as they are for Python.
 */

const strict = new TextDecoder("utf-8", { fatal: true });

/** Length of the valid UTF-8 sequence starting at `i`, or 0. */
function sequenceLength(bytes: Uint8Array, i: number): number {
  const b0 = bytes[i]!;
  if (b0 < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf): boolean => {
    const b = bytes[i + k];
    return b !== undefined && b >= lo && b <= hi;
  };
  if (b0 >= 0xc2 && b0 <= 0xdf) return cont(1) ? 2 : 0;
  if (b0 >= 0xe0 && b0 <= 0xef) {
    const lo = b0 === 0xe0 ? 0xa0 : 0x80;
    const hi = b0 === 0xed ? 0x9f : 0xbf;
    return cont(1, lo, hi) && cont(2) ? 3 : 0;
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    const lo = b0 === 0xf0 ? 0x90 : 0x80;
    const hi = b0 === 0xf4 ? 0x8f : 0xbf;
    return cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

export function decodeSurrogateEscape(bytes: Uint8Array): string {
  try {
    return strict.decode(bytes);
  } catch {
    // fall through: escape the invalid bytes one by one
  }
  let out = "";
  let i = 0;
  while (i < bytes.length) {
    const n = sequenceLength(bytes, i);
    if (n === 0) {
      out += String.fromCharCode(0xdc00 + bytes[i]!);
      i++;
    } else {
      out += strict.decode(bytes.subarray(i, i + n));
      i += n;
    }
  }
  return out;
}
