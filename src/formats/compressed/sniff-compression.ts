/**
 * Recognises a compressed stream from its first bytes, strictly enough not to fire on other
 * files: every check is one the format's own decoder makes before producing output.
 */

import { crc32 } from "../zip/crc32.js";

export type CompressionKind = "gzip" | "bzip2" | "xz" | "lzma" | "zlib" | "joblib-zfile";

export interface CompressionSniff {
  kind: CompressionKind;
  /** Where the compressed stream starts (after joblib's z-file header; 0 otherwise). */
  dataOffset: number;
}

const startsWith = (head: Uint8Array, bytes: readonly number[], at = 0): boolean =>
  bytes.every((b, i) => head[at + i] === b);

/** gzip: `1F 8B`, method 8 (deflate), no reserved flag bits — what Python's gzip requires. */
function isGzip(head: Uint8Array): boolean {
  return startsWith(head, [0x1f, 0x8b, 0x08]) && head.length >= 10 && (head[3]! & 0xe0) === 0;
}

/** bzip2: `BZh` + block size '1'–'9' + the first block's magic (π) or the end-of-stream magic. */
function isBzip2(head: Uint8Array): boolean {
  if (!startsWith(head, [0x42, 0x5a, 0x68]) || head[3]! < 0x31 || head[3]! > 0x39) return false;
  return (
    startsWith(head, [0x31, 0x41, 0x59, 0x26, 0x53, 0x59], 4) ||
    startsWith(head, [0x17, 0x72, 0x45, 0x38, 0x50, 0x90], 4)
  );
}

/** xz: magic, stream flags `00 0X`, and their CRC-32. */
function isXz(head: Uint8Array): boolean {
  if (!startsWith(head, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]) || head.length < 12) return false;
  if (head[6] !== 0 || head[7]! > 0x0f) return false;
  const stored = (head[8]! | (head[9]! << 8) | (head[10]! << 16) | (head[11]! << 24)) >>> 0;
  return crc32(head.subarray(6, 8)) === stored;
}

/**
 * lzma-alone (`.lzma`, joblib's `compress='lzma'`), which has no magic number: the checks
 * liblzma's format auto-detection makes — properties byte (lc ≤ 8, lp ≤ 4, pb ≤ 4), a dictionary
 * size of 2^n or 2^n + 2^(n-1), an unknown (all 0xFF) or plausible (< 256 GiB) uncompressed size
 * — plus the range coder's first byte, which is always 0.
 */
function isLzmaAlone(head: Uint8Array): boolean {
  if (head.length < 14) return false;
  const props = head[0]!;
  if (props > 224) return false;
  const pb = Math.floor(props / 45);
  const lp = Math.floor((props % 45) / 9);
  if (pb > 4 || lp > 4) return false;
  const dict = (head[1]! | (head[2]! << 8) | (head[3]! << 16) | (head[4]! << 24)) >>> 0;
  if (dict === 0 || !isLzmaDictSize(dict)) return false;
  const unknownSize = head.subarray(5, 13).every((b) => b === 0xff);
  // < 2^38: the top three bytes are zero and the fourth from the top is under 0x40.
  const plausibleSize = head[12] === 0 && head[11] === 0 && head[10] === 0 && head[9]! < 0x40;
  if (!unknownSize && !plausibleSize) return false;
  return head[13] === 0;
}

function isLzmaDictSize(dict: number): boolean {
  for (let n = 12; n <= 31; n++) {
    const p = 2 ** n;
    if (dict === p || dict === p + p / 2) return true;
  }
  return false;
}

/** The zlib headers zlib itself writes (levels 1, 2–5, 6, 7–9), all with a 32 KiB window. */
const ZLIB_HEADERS: ReadonlySet<number> = new Set([0x7801, 0x785e, 0x789c, 0x78da]);

/**
 * zlib: one of zlib's own headers, and a first deflate block that is not the invalid type 3
 * (a stored block must have LEN = ~NLEN).
 */
function isZlib(head: Uint8Array, at = 0): boolean {
  if (head.length < at + 3) return false;
  if (!ZLIB_HEADERS.has((head[at]! << 8) | head[at + 1]!)) return false;
  const blockType = (head[at + 2]! >> 1) & 3;
  if (blockType === 3) return false;
  if (blockType === 0) {
    if (head.length < at + 7) return false;
    const len = head[at + 3]! | (head[at + 4]! << 8);
    const nlen = head[at + 5]! | (head[at + 6]! << 8);
    return (len ^ nlen) === 0xffff;
  }
  return true;
}

/** joblib < 0.10 z-files: `ZF`, `0x` + hex length padded with spaces to 19 characters. */
const ZFILE_HEADER = 2 + 19;

function zfileDataOffset(head: Uint8Array): number | undefined {
  if (!startsWith(head, [0x5a, 0x46, 0x30, 0x78]) || head.length < ZFILE_HEADER + 2)
    return undefined;
  const field = String.fromCharCode(...head.subarray(2, ZFILE_HEADER));
  if (!/^0x[0-9a-f]+ *$/.test(field)) return undefined;
  // Python 2 / joblib ≤ 0.8.4 wrote one more space (joblib's reader skips it).
  const at = head[ZFILE_HEADER] === 0x20 ? ZFILE_HEADER + 1 : ZFILE_HEADER;
  return isZlib(head, at) ? at : undefined;
}

/**
 * Plain zlib has only a two-byte header: a text file can start with `x^` too. Compressed data is
 * high-entropy, so a stream whose first bytes are all printable text is not taken for zlib.
 */
function looksLikeText(head: Uint8Array): boolean {
  const sample = head.subarray(2, 34);
  return sample.every((b) => (b >= 0x20 && b < 0x7f) || b === 0x09 || b === 0x0a || b === 0x0d);
}

/** The compression format of a stream starting with `head`, if any. */
export function sniffCompression(head: Uint8Array): CompressionSniff | undefined {
  if (isGzip(head)) return { kind: "gzip", dataOffset: 0 };
  if (isBzip2(head)) return { kind: "bzip2", dataOffset: 0 };
  if (isXz(head)) return { kind: "xz", dataOffset: 0 };
  const zfile = zfileDataOffset(head);
  if (zfile !== undefined) return { kind: "joblib-zfile", dataOffset: zfile };
  if (isZlib(head) && !looksLikeText(head)) return { kind: "zlib", dataOffset: 0 };
  if (isLzmaAlone(head)) return { kind: "lzma", dataOffset: 0 };
  return undefined;
}
