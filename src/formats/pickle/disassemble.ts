/**
 * Streaming, tolerant pickle disassembler (after pickletools' `genops`, but never throwing).
 *
 * A synchronous decoder walks an in-memory window of the source and hands each opcode, its
 * argument and its absolute offset to a visitor; when an opcode crosses the window it returns
 * "need more bytes" and the async driver refills the window (one `await` per window, not per
 * opcode). String and bytes arguments longer than `maxDecodedArgument` are skipped by seeking past
 * them: they are never read. Malformed input ends the walk with a {@link PickleFault}; everything
 * visited before it stays visited.
 *
 * Argument decoding follows CPython's `_pickle.c`, which `pickle.load` uses:
 * - BINUNICODE/SHORT_BINUNICODE/BINUNICODE8: UTF-8 with `surrogatepass` → `string`.
 * - UNICODE: `raw-unicode-escape` → `string`.
 * - STRING (a quoted, escaped repr), BINSTRING, SHORT_BINSTRING: Python 2 `str`s. The loader
 *   decodes their bytes with its `encoding` (default `"ASCII"`; PyTorch passes `"utf-8"`, NumPy
 *   and joblib `"latin1"`), so the disassembler hands over the raw bytes (`Uint8Array`) and the
 *   symbolic machine decides (see `machine.ts`).
 * - GLOBAL: two strict UTF-8 lines; INST: two ASCII lines; PERSID: an ASCII line.
 * - INT/LONG/FLOAT/GET/PUT: text lines parsed as `_pickle.c` (and `pickle.py`) do.
 * - LONG1/LONG4: little-endian two's complement → `number` when safe, else `bigint`.
 */

import type { ByteSource } from "../../core/byte-source.js";
import { DEFAULT_LIMITS } from "../../core/limits.js";
import {
  decodeAscii,
  decodeLatin1,
  decodeLongBytes,
  decodeQuotedString,
  decodeRawUnicodeEscape,
  decodeUtf8Strict,
  decodeUtf8SurrogatePass,
  parseFloatLine,
  parseIntLine,
  parseLongLine,
  parsePythonInt,
} from "./decode-text.js";
import type { FaultCode, PickleFault } from "./fault.js";
import { type ArgumentName, OPCODE_BY_CODE, type OpcodeName, opcodeName } from "./opcodes.js";

/** An argument too long to decode (over `maxDecodedArgument`): its bytes were skipped, not read. */
export interface SkippedArgument {
  readonly kind: "skipped-bytes" | "skipped-string" | "skipped-int";
  /** Length in bytes of the skipped data. */
  readonly length: number;
}

/** GLOBAL's and INST's argument: the module and the (possibly dotted) name. */
export interface GlobalArgument {
  readonly module: string;
  readonly name: string;
}

/**
 * A decoded argument. Which one an opcode carries:
 * - `null`: opcodes without an argument.
 * - `number`: BININT*, BINFLOAT/FLOAT, memo indices, EXT codes, PROTO, FRAME.
 * - `boolean | number | bigint`: INT (`00`/`01` are booleans); `number | bigint`: LONG*, GET, PUT.
 * - `string`: UNICODE, BINUNICODE*, PERSID.
 * - `Uint8Array`: bytes (BINBYTES*, BYTEARRAY8) and the raw bytes of Python 2 strings (STRING,
 *   BINSTRING, SHORT_BINSTRING), always copies.
 * - {@link SkippedArgument}: any of those strings, bytes or LONG4 when too long to decode.
 * - {@link GlobalArgument}: GLOBAL, INST.
 */
export type OpArgument =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | SkippedArgument
  | GlobalArgument;

export function isSkipped(arg: OpArgument): arg is SkippedArgument {
  return typeof arg === "object" && arg !== null && "kind" in arg;
}

export function isGlobalArgument(arg: OpArgument): arg is GlobalArgument {
  return typeof arg === "object" && arg !== null && "module" in arg;
}

/** Receives each opcode as it is decoded. Return `false` to stop the walk. */
export interface OpVisitor {
  op(code: number, arg: OpArgument, offset: number, end: number): boolean;
}

export interface DisassembleOptions {
  /** First byte to read. @default 0 */
  start?: number;
  /** Read up to this offset (exclusive). @default source.size */
  end?: number;
  /** Longest string/bytes argument decoded; longer ones are skipped. @default DEFAULT_LIMITS.maxDecodedArgument */
  maxDecodedArgument?: number;
  /**
   * Largest window read at once (one argument may need more). Reading starts with 64 KiB windows,
   * doubling while the stream is read sequentially and dropping back after a skipped argument, so
   * that skipping tensor data costs little even over HTTP ranges. @default 4 MiB
   */
  windowSize?: number;
}

export interface DisassemblyResult {
  /** Offset after the last opcode visited (the fault's offset when there is one). */
  end: number;
  /** Set when the bytes stopped being a valid opcode stream. */
  fault?: PickleFault;
  /** The visitor asked to stop. */
  stopped: boolean;
}

export const DEFAULT_WINDOW_SIZE = 4 * 1024 * 1024;
const FIRST_WINDOW_SIZE = 64 * 1024;

// Argument classes: how the decoder reads each opcode's argument (derived from the table).
const K_NONE = 1;
const K_UINT1 = 2;
const K_UINT2 = 3;
const K_INT4 = 4;
const K_UINT4 = 5;
const K_UINT8 = 6;
const K_FLOAT8 = 7;
const K_LINE = 8;
const K_PREFIXED = 9;

const CLASS_BY_ARGUMENT: Record<ArgumentName, number> = {
  uint1: K_UINT1,
  uint2: K_UINT2,
  int4: K_INT4,
  uint4: K_UINT4,
  uint8: K_UINT8,
  float8: K_FLOAT8,
  decimalnl_short: K_LINE,
  decimalnl_long: K_LINE,
  floatnl: K_LINE,
  stringnl: K_LINE,
  stringnl_noescape: K_LINE,
  stringnl_noescape_pair: K_LINE,
  unicodestringnl: K_LINE,
  string1: K_PREFIXED,
  string4: K_PREFIXED,
  bytes1: K_PREFIXED,
  bytes4: K_PREFIXED,
  bytes8: K_PREFIXED,
  bytearray8: K_PREFIXED,
  unicodestring1: K_PREFIXED,
  unicodestring4: K_PREFIXED,
  unicodestring8: K_PREFIXED,
  long1: K_PREFIXED,
  long4: K_PREFIXED,
};

const ARG_CLASS = new Uint8Array(256);
const PREFIX_BYTES = new Uint8Array(256);
const PREFIX_SIGNED = new Uint8Array(256);
const LINE_COUNT = new Uint8Array(256);
for (let code = 0; code < 256; code++) {
  const info = OPCODE_BY_CODE[code];
  if (!info) continue;
  if (!info.arg) {
    ARG_CLASS[code] = K_NONE;
    continue;
  }
  ARG_CLASS[code] = CLASS_BY_ARGUMENT[info.arg.name as ArgumentName];
  const length = info.arg.length;
  if (length.type === "prefixed") {
    PREFIX_BYTES[code] = length.prefixBytes;
    // Only LONG4's length is signed for `_pickle.c`; BINSTRING's (signed in pickletools and
    // pickle.py) is read unsigned there, so a huge BINSTRING is "truncated", never "negative".
    PREFIX_SIGNED[code] = length.signed && info.name === "LONG4" ? 1 : 0;
  } else if (length.type === "line") {
    LINE_COUNT[code] = length.lines;
  }
}

/** What the synchronous decoder asks of its driver. */
type Step =
  | { kind: "end" }
  | { kind: "stopped"; at: number }
  | { kind: "fault"; fault: PickleFault }
  /** The opcode at `at` needs `bytes` bytes from `at`, past the window (`seek`: after a skip). */
  | { kind: "need"; at: number; bytes: number; seek?: boolean }
  /** The line argument of the opcode at `at` (starting at `from`) is too long to keep: find its end. */
  | { kind: "scan-line"; at: number; code: number; from: number };

const fault = (offset: number, code: FaultCode, reason: string, op?: number): Step => ({
  kind: "fault",
  fault:
    op === undefined ? { offset, code, reason } : { offset, code, reason, opcode: opcodeName(op) },
});

const hex2 = (b: number): string => `0x${b.toString(16).padStart(2, "0")}`;

/** Decodes a window synchronously. Reused across windows by the driver. */
class WindowDecoder {
  private win: Uint8Array = new Uint8Array(0);
  private view: DataView = new DataView(new ArrayBuffer(0));
  private base = 0;

  constructor(
    /** Absolute end of the readable range. */
    private readonly limit: number,
    private readonly maxArg: number,
  ) {}

  setWindow(win: Uint8Array, base: number): void {
    this.win = win;
    this.base = base;
    this.view = new DataView(win.buffer, win.byteOffset, win.byteLength);
  }

  /** Decodes from absolute `pos` until the window runs out, the visitor stops, or a fault. */
  run(pos: number, v: OpVisitor): Step {
    const win = this.win;
    const base = this.base;
    const n = win.length;
    const limit = this.limit;
    let p = pos - base;
    for (;;) {
      const off = base + p;
      if (p >= n) {
        if (off >= limit) return { kind: "end" };
        return { kind: "need", at: off, bytes: 1, seek: p > n };
      }
      const code = win[p]!;
      switch (ARG_CLASS[code]) {
        case K_NONE:
          p += 1;
          if (!v.op(code, null, off, off + 1)) return { kind: "stopped", at: off + 1 };
          continue;
        case K_UINT1:
          if (p + 2 > n) return this.need(off, 2, code);
          p += 2;
          if (!v.op(code, win[p - 1]!, off, off + 2)) return { kind: "stopped", at: off + 2 };
          continue;
        case K_UINT2:
          if (p + 3 > n) return this.need(off, 3, code);
          p += 3;
          if (!v.op(code, win[p - 2]! | (win[p - 1]! << 8), off, off + 3))
            return { kind: "stopped", at: off + 3 };
          continue;
        case K_INT4:
          if (p + 5 > n) return this.need(off, 5, code);
          p += 5;
          if (!v.op(code, this.view.getInt32(p - 4, true), off, off + 5))
            return { kind: "stopped", at: off + 5 };
          continue;
        case K_UINT4:
          if (p + 5 > n) return this.need(off, 5, code);
          p += 5;
          if (!v.op(code, this.view.getUint32(p - 4, true), off, off + 5))
            return { kind: "stopped", at: off + 5 };
          continue;
        case K_UINT8: {
          if (p + 9 > n) return this.need(off, 9, code);
          const value =
            this.view.getUint32(p + 1, true) + this.view.getUint32(p + 5, true) * 0x1_0000_0000;
          p += 9;
          if (!v.op(code, value, off, off + 9)) return { kind: "stopped", at: off + 9 };
          continue;
        }
        case K_FLOAT8:
          if (p + 9 > n) return this.need(off, 9, code);
          p += 9;
          if (!v.op(code, this.view.getFloat64(p - 8, false), off, off + 9))
            return { kind: "stopped", at: off + 9 };
          continue;
        case K_PREFIXED: {
          const step = this.prefixed(p, code, v);
          if (typeof step !== "number") return step;
          p = step;
          continue;
        }
        case K_LINE: {
          const step = this.lines(p, code, v);
          if (typeof step !== "number") return step;
          p = step;
          continue;
        }
        default: {
          // 0: not an opcode
          const printable = code >= 0x20 && code <= 0x7e ? ` ('${String.fromCharCode(code)}')` : "";
          return fault(off, "unknown-opcode", `unknown opcode byte ${hex2(code)}${printable}`);
        }
      }
    }
  }

  private need(off: number, bytes: number, code: number): Step {
    if (off + bytes > this.limit) {
      return fault(
        off,
        "truncated",
        `${opcodeName(code)} at offset ${off} needs ${bytes} bytes, only ${this.limit - off} remain`,
        code,
      );
    }
    return { kind: "need", at: off, bytes };
  }

  /** A length-prefixed argument; returns the next window position, or a step. */
  private prefixed(p: number, code: number, v: OpVisitor): number | Step {
    const win = this.win;
    const off = this.base + p;
    const prefix = PREFIX_BYTES[code]!;
    if (p + 1 + prefix > win.length) return this.need(off, 1 + prefix, code);
    let length: number;
    if (prefix === 1) length = win[p + 1]!;
    else if (prefix === 4)
      length = PREFIX_SIGNED[code]
        ? this.view.getInt32(p + 1, true)
        : this.view.getUint32(p + 1, true);
    else {
      const hi = this.view.getUint32(p + 5, true);
      if (hi >= 0x20_0000) {
        return fault(off, "too-large", `${opcodeName(code)} length exceeds 2^53 bytes`, code);
      }
      length = this.view.getUint32(p + 1, true) + hi * 0x1_0000_0000;
    }
    const name = opcodeName(code);
    if (length < 0) {
      return fault(off, "bad-argument", `${name} has a negative length (${length})`, code);
    }
    const argStart = off + 1 + prefix;
    const argEnd = argStart + length;
    if (argEnd > this.limit) {
      return fault(
        off,
        "truncated",
        `${name} at offset ${off} claims ${length} bytes, only ${this.limit - argStart} remain`,
        code,
      );
    }
    let arg: OpArgument;
    if (length > this.maxArg) {
      arg = {
        kind: isStringOp(code)
          ? "skipped-string"
          : isLongOp(code)
            ? "skipped-int"
            : "skipped-bytes",
        length,
      };
    } else {
      const a = p + 1 + prefix;
      if (a + length > win.length) return { kind: "need", at: off, bytes: 1 + prefix + length };
      const bytes = win.subarray(a, a + length);
      const decoded = decodePrefixed(code, bytes);
      if (decoded === undefined) {
        return fault(off, "bad-argument", `${name} at offset ${off} is not valid UTF-8`, code);
      }
      arg = decoded;
    }
    if (!v.op(code, arg, off, argEnd)) return { kind: "stopped", at: argEnd };
    return argEnd - this.base;
  }

  /** One or two newline-terminated lines; returns the next window position, or a step. */
  private lines(p: number, code: number, v: OpVisitor): number | Step {
    const win = this.win;
    const off = this.base + p;
    const count = LINE_COUNT[code]!;
    const budget = this.maxArg + 1; // content plus its newline
    const nl1 = win.indexOf(0x0a, p + 1);
    let nl2 = -1;
    if (nl1 >= 0 && nl1 - (p + 1) < budget && count === 2) nl2 = win.indexOf(0x0a, nl1 + 1);
    const complete = nl1 >= 0 && (count === 1 || nl2 >= 0);
    const tooLong1 = (nl1 < 0 ? win.length : nl1) - (p + 1) >= budget;
    const tooLong2 = count === 2 && nl1 >= 0 && (nl2 < 0 ? win.length : nl2) - (nl1 + 1) >= budget;
    if (tooLong1 || tooLong2) {
      if (count === 1 && (code === 0x53 || code === 0x56 || code === 0x49 || code === 0x4c)) {
        // STRING, UNICODE, INT or LONG longer than maxDecodedArgument: skip to its newline
        // (loaders read any length; the value is left unknown).
        return { kind: "scan-line", at: off, code, from: off + 1 };
      }
      return fault(
        off,
        "too-large",
        `${opcodeName(code)} at offset ${off} has a line longer than ${this.maxArg} bytes`,
        code,
      );
    }
    if (!complete) {
      if (this.base + win.length >= this.limit) {
        return fault(
          off,
          "truncated",
          `${opcodeName(code)} at offset ${off}: the data ends before its newline`,
          code,
        );
      }
      return { kind: "need", at: off, bytes: 1 + count * budget };
    }
    const end = count === 1 ? nl1 + 1 : nl2 + 1;
    const first = win.subarray(p + 1, nl1);
    const second = count === 2 ? win.subarray(nl1 + 1, nl2) : first;
    const decoded = decodeLine(code, first, second);
    if (decoded instanceof LineError) {
      return fault(
        off,
        "bad-argument",
        `${opcodeName(code)} at offset ${off}: ${decoded.message}`,
        code,
      );
    }
    if (!v.op(code, decoded, off, this.base + end)) return { kind: "stopped", at: this.base + end };
    return end;
  }
}

// STRING 'S', BINSTRING 'T', SHORT_BINSTRING 'U', UNICODE 'V', BINUNICODE 'X',
// SHORT_BINUNICODE 0x8c, BINUNICODE8 0x8d.
const isStringOp = (code: number): boolean =>
  code === 0x53 ||
  code === 0x54 ||
  code === 0x55 ||
  code === 0x56 ||
  code === 0x58 ||
  code === 0x8c ||
  code === 0x8d;
const isLongOp = (code: number): boolean => code === 0x8a || code === 0x8b;

function decodePrefixed(code: number, bytes: Uint8Array): OpArgument | undefined {
  switch (code) {
    case 0x58: // BINUNICODE
    case 0x8c: // SHORT_BINUNICODE
    case 0x8d: // BINUNICODE8
      return decodeUtf8SurrogatePass(bytes);
    case 0x8a: // LONG1
    case 0x8b: // LONG4
      return decodeLongBytes(bytes);
    default: // BINSTRING, SHORT_BINSTRING, BINBYTES*, SHORT_BINBYTES, BYTEARRAY8
      return bytes.slice();
  }
}

/** Why a line argument was rejected. */
class LineError {
  constructor(readonly message: string) {}
}

const bad = (message: string): LineError => new LineError(message);

/** Decodes a line argument, or says why every loader would reject it. */
function decodeLine(code: number, first: Uint8Array, second: Uint8Array): OpArgument | LineError {
  switch (code) {
    case 0x49: {
      // INT
      if (first.length === 0) return bad("empty line");
      return parseIntLine(decodeLatin1(first)) ?? bad("not an integer");
    }
    case 0x4c: {
      // LONG
      if (first.length === 0) return bad("empty line");
      return parseLongLine(decodeLatin1(first)) ?? bad("not an integer");
    }
    case 0x67: // GET
    case 0x70: {
      // PUT
      if (first.length === 0) return bad("empty line");
      return parsePythonInt(decodeLatin1(first), 10) ?? bad("not a decimal integer");
    }
    case 0x46: {
      // FLOAT
      if (first.length === 0) return bad("empty line");
      return parseFloatLine(decodeLatin1(first)) ?? bad("not a float");
    }
    case 0x53: // STRING
      return decodeQuotedString(first) ?? bad("not a quoted, validly escaped string");
    case 0x56: // UNICODE
      return decodeRawUnicodeEscape(first) ?? bad("bad \\u escape");
    case 0x50: // PERSID
      return decodeAscii(first) ?? bad("persistent IDs in protocol 0 must be ASCII");
    case 0x63: // GLOBAL
    case 0x69: {
      // INST
      if (first.length === 0 || second.length === 0) return bad("empty module or name line");
      const decode = code === 0x63 ? decodeUtf8Strict : decodeAscii;
      const module = decode(first);
      const name = decode(second);
      if (module === undefined || name === undefined) {
        return bad(
          code === 0x63 ? "module or name is not valid UTF-8" : "module or name is not ASCII",
        );
      }
      return { module, name };
    }
    default:
      return bad("no line argument");
  }
}

/**
 * Walks the opcodes of `source` from `options.start`, calling `visitor.op` for each. Never throws
 * on bad input: the result carries the fault. Does not stop at STOP (stacked pickles follow); the
 * visitor decides when to stop.
 */
export async function disassemble(
  source: ByteSource,
  visitor: OpVisitor,
  options: DisassembleOptions = {},
): Promise<DisassemblyResult> {
  const limit = Math.max(0, Math.min(options.end ?? source.size, source.size));
  const start = Math.max(0, Math.min(options.start ?? 0, limit));
  const maxArg = Math.max(0, options.maxDecodedArgument ?? DEFAULT_LIMITS.maxDecodedArgument);
  const windowSize = Math.max(16, options.windowSize ?? DEFAULT_WINDOW_SIZE);
  const firstWindow = Math.min(windowSize, FIRST_WINDOW_SIZE);
  let nextWindow = firstWindow;
  const decoder = new WindowDecoder(limit, maxArg);

  const readWindow = async (at: number, bytes: number): Promise<Uint8Array | PickleFault> => {
    const want = Math.min(limit - at, Math.max(nextWindow, bytes));
    try {
      const chunk = await source.read(at, want);
      if (chunk.length < Math.min(want, bytes)) {
        return {
          offset: at,
          code: "truncated",
          reason: `the source returned ${chunk.length} bytes at offset ${at}, fewer than the ${Math.min(want, bytes)} it claims to hold`,
        };
      }
      return chunk.length > want ? chunk.subarray(0, want) : chunk;
    } catch (error) {
      return {
        offset: at,
        code: "read-error",
        reason: `reading at offset ${at} failed: ${error instanceof Error ? error.message : String(error)}`,
      };
    }
  };

  let pos = start;
  if (pos >= limit) return { end: pos, stopped: false };
  const first = await readWindow(pos, 1);
  if (!(first instanceof Uint8Array)) return { end: pos, fault: first, stopped: false };
  decoder.setWindow(first, pos);
  let lastNeed = -1;
  let lastWindowLength = first.length;
  for (;;) {
    const step = decoder.run(pos, visitor);
    switch (step.kind) {
      case "end":
        return { end: limit, stopped: false };
      case "stopped":
        return { end: step.at, stopped: true };
      case "fault":
        return { end: step.fault.offset, fault: step.fault, stopped: false };
      case "need": {
        nextWindow = step.seek ? firstWindow : Math.min(windowSize, nextWindow * 2);
        const win = await readWindow(step.at, step.bytes);
        if (!(win instanceof Uint8Array)) return { end: step.at, fault: win, stopped: false };
        if (step.at === lastNeed && win.length <= lastWindowLength) {
          return {
            end: step.at,
            fault: {
              offset: step.at,
              code: "truncated",
              reason: `no progress reading at offset ${step.at}`,
            },
            stopped: false,
          };
        }
        lastNeed = step.at;
        lastWindowLength = win.length;
        decoder.setWindow(win, step.at);
        pos = step.at;
        break;
      }
      case "scan-line": {
        const newline = await findNewline(source, step.from, limit, windowSize);
        if (typeof newline !== "number") return { end: step.at, fault: newline, stopped: false };
        if (newline < 0) {
          return {
            end: step.at,
            fault: {
              offset: step.at,
              code: "truncated",
              reason: `${opcodeName(step.code)} at offset ${step.at}: the data ends before its newline`,
              opcode: opcodeName(step.code),
            },
            stopped: false,
          };
        }
        const arg: SkippedArgument = {
          kind: step.code === 0x49 || step.code === 0x4c ? "skipped-int" : "skipped-string",
          length: newline - step.from,
        };
        if (!visitor.op(step.code, arg, step.at, newline + 1)) {
          return { end: newline + 1, stopped: true };
        }
        pos = newline + 1;
        nextWindow = firstWindow;
        if (pos >= limit) return { end: limit, stopped: false };
        const win = await readWindow(pos, 1);
        if (!(win instanceof Uint8Array)) return { end: pos, fault: win, stopped: false };
        decoder.setWindow(win, pos);
        lastNeed = -1;
        break;
      }
    }
  }
}

/** Offset of the next `\n` at or after `from`, -1 if none before `limit`, or a read fault. */
async function findNewline(
  source: ByteSource,
  from: number,
  limit: number,
  chunkSize: number,
): Promise<number | PickleFault> {
  for (let at = from; at < limit; ) {
    let chunk: Uint8Array;
    try {
      chunk = await source.read(at, Math.min(chunkSize, limit - at));
    } catch (error) {
      return {
        offset: at,
        code: "read-error",
        reason: `reading at offset ${at} failed: ${error instanceof Error ? error.message : String(error)}`,
      };
    }
    if (chunk.length === 0) return -1;
    const i = chunk.indexOf(0x0a);
    if (i >= 0) return at + i;
    at += chunk.length;
  }
  return -1;
}

/** One decoded opcode, for callers that want a list (tests, `pickletools.dis`-like listings). */
export interface DecodedOp {
  offset: number;
  /** Offset after the opcode and its argument. */
  end: number;
  code: number;
  name: OpcodeName;
  arg: OpArgument;
}

/**
 * Disassembles into a list, keeping at most `maxOps` opcodes (default 1,000,000). Meant for tests
 * and listings; the analysers use {@link disassemble} with a visitor.
 */
export async function disassembleToList(
  source: ByteSource,
  options: DisassembleOptions & { maxOps?: number } = {},
): Promise<DisassemblyResult & { ops: DecodedOp[] }> {
  const ops: DecodedOp[] = [];
  const maxOps = options.maxOps ?? 1_000_000;
  const result = await disassemble(
    source,
    {
      op(code, arg, offset, end) {
        const name = OPCODE_BY_CODE[code]!.name;
        ops.push({ offset, end, code, name, arg });
        return ops.length < maxOps;
      },
    },
    options,
  );
  return { ...result, ops };
}
