/** Largest payload decoded from a literal (and analysed in turn). */
export const MAX_DECODED_PAYLOAD = 1024 * 1024;

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64_INDEX: ReadonlyMap<string, number> = new Map([...B64].map((c, i) => [c, i]));

/**
 * `base64.b64decode(s)` as Python does it without `validate=True`: characters outside the
 * alphabet are dropped; decoding stops at padding. Returns bytes as a latin-1 string, or `null`
 * when the data is longer than {@link MAX_DECODED_PAYLOAD} or has a dangling 6 bits.
 */
export function decodeBase64(text: string, urlsafe = false): string | null {
  const source = urlsafe ? text.replace(/-/g, "+").replace(/_/g, "/") : text;
  let bits = 0;
  let acc = 0;
  let digits = 0;
  let out = "";
  for (const ch of source) {
    if (ch === "=") break;
    const v = B64_INDEX.get(ch);
    if (v === undefined) continue;
    digits++;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += String.fromCharCode((acc >> bits) & 0xff);
      acc &= (1 << bits) - 1;
      if (out.length > MAX_DECODED_PAYLOAD) return null;
    }
  }
  return digits % 4 === 1 ? null : out;
}

/** `bytes.fromhex` / `binascii.unhexlify`: whitespace allowed, an odd digit count is an error. */
export function decodeHex(text: string): string | null {
  const digits = text.replace(/\s+/g, "");
  if (digits.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(digits)) return null;
  if (digits.length / 2 > MAX_DECODED_PAYLOAD) return null;
  let out = "";
  for (let i = 0; i < digits.length; i += 2) {
    out += String.fromCharCode(Number.parseInt(digits.slice(i, i + 2), 16));
  }
  return out;
}

/** `codecs.decode(s, "rot13")`. */
export function decodeRot13(text: string): string {
  return text.replace(/[A-Za-z]/g, (c) => {
    const base = c <= "Z" ? 65 : 97;
    return String.fromCharCode(((c.charCodeAt(0) - base + 13) % 26) + base);
  });
}

/** Latin-1 bytes (one char per byte) read as UTF-8 text, the way `exec(bytes)` reads source. */
export function bytesToText(bytes: string): string {
  const array = Uint8Array.from(bytes, (c) => c.charCodeAt(0) & 0xff);
  return new TextDecoder().decode(array);
}

/** A long run of base64 or hex digits: data, not code, when it reaches exec/eval. */
export function looksEncoded(value: string): boolean {
  const compact = value.replace(/\s+/g, "");
  if (compact.length < 64) return false;
  return /^[A-Za-z0-9+/_-]+={0,2}$/.test(compact) || /^(\\x[0-9a-fA-F]{2})+$/.test(compact);
}
