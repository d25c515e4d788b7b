/**
 * Decoders for pickle's text arguments, each following what CPython's `_pickle.c` accepts (and,
 * where the pure-Python `pickle.py` accepts more, accepting that too: the scanner must be at least
 * as lenient as any loader, DESIGN.md principle 3). Each returns `undefined` where every loader
 * would raise.
 */

/** A decoded integer: a plain number when it is a safe integer, else a bigint. */
export type PyInt = number | bigint;

const utf8Fatal = new TextDecoder("utf-8", { fatal: true });

/** Latin-1: one character per byte, never fails. */
export function decodeLatin1(bytes: Uint8Array): string {
  let out = "";
  const CHUNK = 8192;
  for (let i = 0; i < bytes.length; i += CHUNK) {
    out += String.fromCharCode(...bytes.subarray(i, Math.min(i + CHUNK, bytes.length)));
  }
  return out;
}

/** True when every byte is 7-bit ASCII. */
export function isAscii(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i]! > 0x7f) return false;
  return true;
}

/** ASCII, or `undefined` if a byte is above 0x7f (`PyUnicode_DecodeASCII(..., "strict")`). */
export function decodeAscii(bytes: Uint8Array): string | undefined {
  return isAscii(bytes) ? decodeLatin1(bytes) : undefined;
}

/**
 * UTF-8 with CPython's `surrogatepass` error handler (BINUNICODE*): encoded lone surrogates
 * (`ED A0 80`…`ED BF BF`) are accepted; anything else invalid gives `undefined`.
 */
export function decodeUtf8SurrogatePass(bytes: Uint8Array): string | undefined {
  try {
    return utf8Fatal.decode(bytes);
  } catch {
    return decodeUtf8Slow(bytes, true);
  }
}

/** Strict UTF-8 (GLOBAL's module and name), `undefined` when invalid. */
export function decodeUtf8Strict(bytes: Uint8Array): string | undefined {
  try {
    return utf8Fatal.decode(bytes);
  } catch {
    return undefined;
  }
}

function decodeUtf8Slow(bytes: Uint8Array, surrogatePass: boolean): string | undefined {
  const units: number[] = [];
  let out = "";
  const flush = () => {
    out += String.fromCharCode(...units);
    units.length = 0;
  };
  let i = 0;
  const n = bytes.length;
  const cont = (k: number): number => {
    const b = bytes[k];
    return b !== undefined && (b & 0xc0) === 0x80 ? b & 0x3f : -1;
  };
  while (i < n) {
    const b0 = bytes[i]!;
    let cp: number;
    if (b0 < 0x80) {
      cp = b0;
      i += 1;
    } else if (b0 >= 0xc2 && b0 <= 0xdf) {
      const b1 = cont(i + 1);
      if (b1 < 0) return undefined;
      cp = ((b0 & 0x1f) << 6) | b1;
      i += 2;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
      const b1 = cont(i + 1);
      const b2 = cont(i + 2);
      if (b1 < 0 || b2 < 0) return undefined;
      cp = ((b0 & 0x0f) << 12) | (b1 << 6) | b2;
      if (cp < 0x800) return undefined;
      if (cp >= 0xd800 && cp <= 0xdfff && !surrogatePass) return undefined;
      i += 3;
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      const b1 = cont(i + 1);
      const b2 = cont(i + 2);
      const b3 = cont(i + 3);
      if (b1 < 0 || b2 < 0 || b3 < 0) return undefined;
      cp = ((b0 & 0x07) << 18) | (b1 << 12) | (b2 << 6) | b3;
      if (cp < 0x10000 || cp > 0x10ffff) return undefined;
      i += 4;
    } else {
      return undefined;
    }
    if (cp > 0xffff) {
      cp -= 0x10000;
      units.push(0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
    } else {
      units.push(cp);
    }
    if (units.length >= 8192) flush();
  }
  flush();
  return out;
}

const isHex = (b: number): boolean =>
  (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66);
const hexValue = (b: number): number => (b <= 0x39 ? b - 0x30 : (b | 0x20) - 0x61 + 10);

/**
 * `PyBytes_DecodeEscape` over the inside of a protocol-0 STRING literal (quotes already removed):
 * `\\ \' \" \a \b \f \n \r \t \v \ooo \xhh` and backslash-newline; an unknown escape is kept as is.
 * `undefined` for a bad `\x` escape or a trailing lone backslash (CPython raises ValueError).
 */
export function decodeEscapedBytes(src: Uint8Array): Uint8Array | undefined {
  const out = new Uint8Array(src.length);
  let o = 0;
  let i = 0;
  const n = src.length;
  while (i < n) {
    const b = src[i]!;
    if (b !== 0x5c) {
      out[o++] = b;
      i++;
      continue;
    }
    i++;
    if (i >= n) return undefined; // "Trailing \ in string"
    const e = src[i]!;
    i++;
    switch (e) {
      case 0x0a: // backslash-newline: line continuation
        break;
      case 0x5c:
      case 0x27:
      case 0x22:
        out[o++] = e;
        break;
      case 0x61: // a
        out[o++] = 7;
        break;
      case 0x62: // b
        out[o++] = 8;
        break;
      case 0x66: // f
        out[o++] = 12;
        break;
      case 0x6e: // n
        out[o++] = 10;
        break;
      case 0x72: // r
        out[o++] = 13;
        break;
      case 0x74: // t
        out[o++] = 9;
        break;
      case 0x76: // v
        out[o++] = 11;
        break;
      case 0x78: {
        // x: exactly two hex digits
        const h1 = src[i];
        const h2 = src[i + 1];
        if (h1 === undefined || h2 === undefined || !isHex(h1) || !isHex(h2)) return undefined;
        out[o++] = (hexValue(h1) << 4) | hexValue(h2);
        i += 2;
        break;
      }
      default:
        if (e >= 0x30 && e <= 0x37) {
          let v = e - 0x30;
          for (let k = 0; k < 2; k++) {
            const d = src[i];
            if (d === undefined || d < 0x30 || d > 0x37) break;
            v = (v << 3) | (d - 0x30);
            i++;
          }
          out[o++] = v & 0xff;
        } else {
          // Unknown escape: kept verbatim (CPython only warns).
          out[o++] = 0x5c;
          out[o++] = e;
        }
    }
  }
  return out.slice(0, o);
}

/**
 * Decodes a protocol-0 STRING argument line (without its newline): it must be quoted with matching
 * `'` or `"`, then escape-decoded. `undefined` where CPython raises.
 */
export function decodeQuotedString(lineBytes: Uint8Array): Uint8Array | undefined {
  const n = lineBytes.length;
  if (n < 2) return undefined;
  const q = lineBytes[0]!;
  if ((q !== 0x27 && q !== 0x22) || lineBytes[n - 1] !== q) return undefined;
  return decodeEscapedBytes(lineBytes.subarray(1, n - 1));
}

/**
 * The `raw-unicode-escape` codec (UNICODE): bytes are Latin-1 code points, except `\uXXXX` and
 * `\UXXXXXXXX` after an odd number of backslashes. `undefined` for a truncated or out-of-range escape.
 */
export function decodeRawUnicodeEscape(src: Uint8Array): string | undefined {
  let out = "";
  const units: number[] = [];
  const flush = () => {
    out += String.fromCharCode(...units);
    units.length = 0;
  };
  let i = 0;
  const n = src.length;
  while (i < n) {
    const b = src[i]!;
    if (b !== 0x5c) {
      units.push(b);
      i++;
    } else {
      const runStart = i;
      while (i < n && src[i] === 0x5c) {
        units.push(0x5c);
        i++;
      }
      const run = i - runStart;
      const next = src[i];
      if (run % 2 === 1 && (next === 0x75 || next === 0x55)) {
        units.pop(); // the escaping backslash
        const digits = next === 0x75 ? 4 : 8;
        i++;
        let cp = 0;
        for (let k = 0; k < digits; k++) {
          const h = src[i + k];
          if (h === undefined || !isHex(h)) return undefined; // truncated \uXXXX
          cp = cp * 16 + hexValue(h);
        }
        if (cp > 0x10ffff) return undefined;
        i += digits;
        if (cp > 0xffff) {
          const v = cp - 0x10000;
          units.push(0xd800 + (v >> 10), 0xdc00 + (v & 0x3ff));
        } else {
          units.push(cp);
        }
      }
    }
    if (units.length >= 8192) flush();
  }
  flush();
  return out;
}

const isSpace = (ch: string): boolean =>
  ch === " " || ch === "\t" || ch === "\n" || ch === "\r" || ch === "\v" || ch === "\f";

const toPyInt = (v: bigint): PyInt =>
  v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;

/**
 * Python's `int(text, base)` for base 0 or 10 (also `PyLong_FromString`): surrounding whitespace,
 * a sign, `0x`/`0o`/`0b` prefixes (base 0 only), single underscores between digits; in base 0 a
 * decimal may not have leading zeros.
 */
export function parsePythonInt(text: string, base: 0 | 10): PyInt | undefined {
  let s = text;
  let start = 0;
  let end = s.length;
  while (start < end && isSpace(s[start]!)) start++;
  while (end > start && isSpace(s[end - 1]!)) end--;
  s = s.slice(start, end);
  let negative = false;
  if (s.startsWith("+") || s.startsWith("-")) {
    negative = s[0] === "-";
    s = s.slice(1);
  }
  let radix = 10;
  if (base === 0 && s.length >= 2 && s[0] === "0") {
    const p = s[1]!.toLowerCase();
    if (p === "x" || p === "o" || p === "b") {
      radix = p === "x" ? 16 : p === "o" ? 8 : 2;
      s = s.slice(2);
      if (s.startsWith("_")) s = s.slice(1); // 0x_1f is allowed
    }
  }
  if (s.length === 0 || s.startsWith("_") || s.endsWith("_") || s.includes("__")) return undefined;
  const digits = s.replaceAll("_", "");
  const valid =
    radix === 16
      ? /^[0-9a-fA-F]+$/
      : radix === 8
        ? /^[0-7]+$/
        : radix === 2
          ? /^[01]+$/
          : /^[0-9]+$/;
  if (!valid.test(digits)) return undefined;
  if (base === 0 && radix === 10 && digits.length > 1 && digits[0] === "0" && /[1-9]/.test(digits))
    return undefined;
  const prefix = radix === 16 ? "0x" : radix === 8 ? "0o" : radix === 2 ? "0b" : "";
  const magnitude = BigInt(prefix + digits);
  return toPyInt(negative ? -magnitude : magnitude);
}

/**
 * C `strtol(s, &end, 0)` on a 64-bit long as `load_int` uses it: leading whitespace, sign, `0x`
 * hex, leading-`0` octal, else decimal; it must stop at the end of the text. `undefined` when it
 * would not (or would overflow), so the caller falls back to {@link parsePythonInt}.
 */
function parseStrtol(text: string): PyInt | undefined {
  const m = /^[ \t\n\r\v\f]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(text);
  if (!m) return undefined;
  const sign = m[1] === "-" ? -1n : 1n;
  const body = m[2]!;
  let v: bigint;
  if (/^0[xX]/.test(body)) v = BigInt(body);
  else if (body.length > 1 && body[0] === "0") v = BigInt(`0o${body.slice(1)}`);
  else v = BigInt(body);
  v *= sign;
  if (v > 0x7fffffffffffffffn || v < -0x8000000000000000n) return undefined;
  return toPyInt(v);
}

/**
 * The INT opcode's line (without the newline), as `load_int`: `strtol(…, 0)`, where a two-character
 * line worth 0 or 1 (`00`, `01`, …) is False/True; else Python's `int(…, 0)`.
 */
export function parseIntLine(text: string): PyInt | boolean | undefined {
  const value = parseStrtol(text);
  if (value === undefined) return parsePythonInt(text, 0);
  if (text.length === 2 && (value === 0 || value === 1)) return value === 1;
  return value;
}

/** The LONG opcode's line (without the newline): one trailing `L` dropped, then `int(…, 0)`. */
export function parseLongLine(text: string): PyInt | undefined {
  const body = text.endsWith("L") ? text.slice(0, -1) : text;
  return parsePythonInt(body, 0);
}

const FLOAT_RE = /^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf|infinity|nan)$/i;

/**
 * The FLOAT opcode's line (without the newline): a decimal or `inf`/`nan` literal; surrounding
 * whitespace and digit underscores (accepted by `pickle.py`'s `float()`) are allowed too.
 */
export function parseFloatLine(text: string): number | undefined {
  const s = text.trim().replace(/(?<=\d)_(?=\d)/g, "");
  if (s.includes("_")) return undefined;
  if (!FLOAT_RE.test(s)) return undefined;
  const lower = s.toLowerCase().replace(/^\+/, "");
  if (lower === "inf" || lower === "infinity") return Number.POSITIVE_INFINITY;
  if (lower === "-inf" || lower === "-infinity") return Number.NEGATIVE_INFINITY;
  if (lower.endsWith("nan")) return Number.NaN;
  return Number(s);
}

/** Little-endian two's-complement bytes (LONG1/LONG4) as an integer. */
export function decodeLongBytes(bytes: Uint8Array): PyInt {
  const n = bytes.length;
  if (n === 0) return 0;
  if (n <= 6) {
    let v = 0;
    for (let i = n - 1; i >= 0; i--) v = v * 256 + bytes[i]!;
    if (bytes[n - 1]! & 0x80) v -= 2 ** (8 * n);
    return v;
  }
  let v = 0n;
  for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
  if (bytes[n - 1]! & 0x80) v -= 1n << BigInt(8 * n);
  return toPyInt(v);
}
