import { err, ok, type Result } from "../../core/result.js";
import { decodeUtf8 } from "./utf8.js";

/**
 * A small JSON parser over UTF-8 bytes that keeps what `JSON.parse` loses: every member of an
 * object in order (duplicate keys included, so they can be reported), numbers as their exact
 * text (offsets above 2^53 stay exact), and the byte offset of every value. Objects are entry
 * lists, never JavaScript objects, so keys such as `__proto__` are plain data. Depth and the
 * number of values kept are bounded; exceeding a bound is an error value, never a crash.
 */
export type JsonValue =
  | JsonObject
  | JsonArray
  | JsonString
  | JsonNumber
  | JsonBoolean
  | JsonNull
  | JsonSkipped;

export interface JsonObject {
  kind: "object";
  offset: number;
  entries: JsonEntry[];
}
export interface JsonEntry {
  key: string;
  keyOffset: number;
  value: JsonValue;
}
export interface JsonArray {
  kind: "array";
  offset: number;
  items: JsonValue[];
}
export interface JsonString {
  kind: "string";
  offset: number;
  value: string;
}
export interface JsonNumber {
  kind: "number";
  offset: number;
  /** The number exactly as written. */
  text: string;
}
export interface JsonBoolean {
  kind: "boolean";
  offset: number;
  value: boolean;
}
export interface JsonNull {
  kind: "null";
  offset: number;
}
/** A value that was checked but not kept (see `keepMember`). */
export interface JsonSkipped {
  kind: "skipped";
  offset: number;
}

export interface JsonParseOptions {
  /** Containers nested deeper than this fail. @default 128 (serde_json's recursion limit) */
  maxDepth?: number;
  /** Values kept in memory; more fail with `limit: true`. @default 1_000_000 */
  maxNodes?: number;
  /**
   * Accept what Python's `json` module accepts beyond RFC 8259: `NaN`, `Infinity`, `-Infinity`
   * and unpaired surrogate escapes. @default false (serde_json's rules, as safetensors reads)
   */
  python?: boolean;
  /** Which members of a top-level object to keep; the others are checked, then skipped. @default all */
  keepMember?: (key: string) => boolean;
}

export interface JsonError {
  message: string;
  /** Byte offset of the problem. */
  offset: number;
  /** True when a bound (depth, values kept) was hit rather than a syntax error. */
  limit?: boolean;
}

export interface ParsedJson {
  value: JsonValue;
  /** Offset just after the value (trailing whitespace not included). */
  end: number;
}

const DEFAULT_MAX_DEPTH = 128;
const DEFAULT_MAX_NODES = 1_000_000;

class JsonFault {
  constructor(
    readonly message: string,
    readonly offset: number,
    readonly limit = false,
  ) {}
}

const ESCAPES: Record<number, string> = {
  34: '"',
  92: "\\",
  47: "/",
  98: "\b",
  102: "\f",
  110: "\n",
  114: "\r",
  116: "\t",
};

function isWs(b: number | undefined): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;
}

function hex4(bytes: Uint8Array, at: number): number {
  let v = 0;
  for (let k = 0; k < 4; k++) {
    const c = bytes[at + k];
    if (c === undefined) return -1;
    const d =
      c >= 0x30 && c <= 0x39
        ? c - 0x30
        : c >= 0x41 && c <= 0x46
          ? c - 0x37
          : c >= 0x61 && c <= 0x66
            ? c - 0x57
            : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

/** Decodes bytes[from, to): short ASCII runs directly (most keys and dtypes), the rest as UTF-8. */
function decodeRun(bytes: Uint8Array, from: number, to: number): string {
  if (to - from <= 64) {
    let out = "";
    for (let i = from; i < to; i++) {
      const b = bytes[i]!;
      if (b >= 0x80) return decodeUtf8(bytes.subarray(from, to));
      out += String.fromCharCode(b);
    }
    return out;
  }
  return decodeUtf8(bytes.subarray(from, to));
}

class Parser {
  pos = 0;
  nodes = 0;
  private readonly maxDepth: number;
  private readonly maxNodes: number;
  private readonly python: boolean;
  private readonly keepMember: ((key: string) => boolean) | undefined;

  constructor(
    private readonly bytes: Uint8Array,
    options: JsonParseOptions,
  ) {
    this.maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
    this.maxNodes = options.maxNodes ?? DEFAULT_MAX_NODES;
    this.python = options.python === true;
    this.keepMember = options.keepMember;
  }

  skipWs(): void {
    while (isWs(this.bytes[this.pos])) this.pos++;
  }

  private count(keep: boolean): void {
    if (!keep) return;
    if (++this.nodes > this.maxNodes) {
      throw new JsonFault(`more than ${this.maxNodes} JSON values`, this.pos, true);
    }
  }

  value(depth: number, keep: boolean): JsonValue {
    this.skipWs();
    const at = this.pos;
    const b = this.bytes[at];
    if (b === undefined) throw new JsonFault("unexpected end of JSON", at);
    this.count(keep);
    if (b === 0x7b) return this.object(depth + 1, keep);
    if (b === 0x5b) return this.array(depth + 1, keep);
    if (b === 0x22) {
      const value = this.string(keep);
      return keep ? { kind: "string", offset: at, value } : { kind: "skipped", offset: at };
    }
    if (b === 0x74) return this.word("true", { kind: "boolean", offset: at, value: true });
    if (b === 0x66) return this.word("false", { kind: "boolean", offset: at, value: false });
    if (b === 0x6e) return this.word("null", { kind: "null", offset: at });
    if (this.python && b === 0x4e)
      return this.word("NaN", { kind: "number", offset: at, text: "NaN" });
    if (this.python && b === 0x49) {
      return this.word("Infinity", { kind: "number", offset: at, text: "Infinity" });
    }
    if (b === 0x2d || (b >= 0x30 && b <= 0x39)) return this.number(keep);
    throw new JsonFault(`unexpected byte 0x${b.toString(16).padStart(2, "0")}`, at);
  }

  private word<T extends JsonValue>(text: string, result: T): T {
    for (let k = 0; k < text.length; k++) {
      if (this.bytes[this.pos + k] !== text.charCodeAt(k)) {
        throw new JsonFault(`invalid literal (expected ${text})`, this.pos);
      }
    }
    this.pos += text.length;
    return result;
  }

  private number(keep: boolean): JsonValue {
    const start = this.pos;
    const bytes = this.bytes;
    if (bytes[this.pos] === 0x2d) {
      this.pos++;
      if (this.python && bytes[this.pos] === 0x49) {
        this.word("Infinity", { kind: "null", offset: start });
        return { kind: "number", offset: start, text: "-Infinity" };
      }
    }
    const digits = () => {
      const from = this.pos;
      while ((bytes[this.pos] ?? 0) >= 0x30 && (bytes[this.pos] ?? 0) <= 0x39) this.pos++;
      return this.pos - from;
    };
    if (bytes[this.pos] === 0x30) {
      this.pos++;
    } else if (digits() === 0) {
      throw new JsonFault("invalid number", start);
    }
    if (bytes[this.pos] === 0x2e) {
      this.pos++;
      if (digits() === 0) throw new JsonFault("invalid number: no digits after '.'", start);
    }
    if (bytes[this.pos] === 0x65 || bytes[this.pos] === 0x45) {
      this.pos++;
      if (bytes[this.pos] === 0x2b || bytes[this.pos] === 0x2d) this.pos++;
      if (digits() === 0) throw new JsonFault("invalid number: empty exponent", start);
    }
    if (!keep) return { kind: "skipped", offset: start };
    let text = "";
    for (let k = start; k < this.pos; k++) text += String.fromCharCode(bytes[k]!);
    return { kind: "number", offset: start, text };
  }

  /** Reads a string at `pos` (the opening quote); returns it decoded, or "" when not kept. */
  string(keep: boolean): string {
    const bytes = this.bytes;
    const start = this.pos;
    this.pos++;
    const parts: string[] = [];
    let runStart = this.pos;
    let pendingHigh = -1;
    const flush = (to: number) => {
      if (keep && to > runStart) parts.push(decodeRun(bytes, runStart, to));
    };
    for (;;) {
      const b = bytes[this.pos];
      if (b === undefined) throw new JsonFault("unterminated string", start);
      if (b === 0x22) {
        if (pendingHigh >= 0 && !this.python) {
          throw new JsonFault("unpaired surrogate escape in string", this.pos);
        }
        flush(this.pos);
        this.pos++;
        return keep ? parts.join("") : "";
      }
      if (b < 0x20) throw new JsonFault("control character in string", this.pos);
      if (b !== 0x5c) {
        if (pendingHigh >= 0 && !this.python) {
          throw new JsonFault("unpaired surrogate escape in string", this.pos);
        }
        pendingHigh = -1;
        this.pos++;
        continue;
      }
      flush(this.pos);
      const e = bytes[this.pos + 1];
      if (e === 0x75) {
        const code = hex4(bytes, this.pos + 2);
        if (code < 0) throw new JsonFault("invalid \\u escape", this.pos);
        if (code >= 0xdc00 && code <= 0xdfff) {
          if (pendingHigh < 0 && !this.python) {
            throw new JsonFault("unpaired surrogate escape in string", this.pos);
          }
          pendingHigh = -1;
        } else {
          if (pendingHigh >= 0 && !this.python) {
            throw new JsonFault("unpaired surrogate escape in string", this.pos);
          }
          pendingHigh = code >= 0xd800 && code <= 0xdbff ? code : -1;
        }
        if (keep) parts.push(String.fromCharCode(code));
        this.pos += 6;
      } else {
        const ch = e === undefined ? undefined : ESCAPES[e];
        if (ch === undefined) throw new JsonFault("invalid escape in string", this.pos);
        if (pendingHigh >= 0 && !this.python) {
          throw new JsonFault("unpaired surrogate escape in string", this.pos);
        }
        pendingHigh = -1;
        if (keep) parts.push(ch);
        this.pos += 2;
      }
      runStart = this.pos;
    }
  }

  private object(depth: number, keep: boolean): JsonValue {
    const at = this.pos;
    if (depth > this.maxDepth) {
      throw new JsonFault(`JSON nested deeper than ${this.maxDepth} levels`, at, true);
    }
    this.pos++;
    const entries: JsonEntry[] = [];
    const topLevel = depth === 1 && this.keepMember !== undefined;
    this.skipWs();
    if (this.bytes[this.pos] === 0x7d) {
      this.pos++;
      return keep ? { kind: "object", offset: at, entries } : { kind: "skipped", offset: at };
    }
    for (;;) {
      this.skipWs();
      const keyOffset = this.pos;
      if (this.bytes[this.pos] !== 0x22) throw new JsonFault("expected a string key", this.pos);
      const key = this.string(keep);
      this.skipWs();
      if (this.bytes[this.pos] !== 0x3a) throw new JsonFault("expected ':' after key", this.pos);
      this.pos++;
      const keepValue = keep && (!topLevel || this.keepMember?.(key) === true);
      const value = this.value(depth, keepValue);
      if (keep) entries.push({ key, keyOffset, value });
      this.skipWs();
      const b = this.bytes[this.pos];
      if (b === 0x2c) {
        this.pos++;
        continue;
      }
      if (b === 0x7d) {
        this.pos++;
        return keep ? { kind: "object", offset: at, entries } : { kind: "skipped", offset: at };
      }
      throw new JsonFault("expected ',' or '}' in object", this.pos);
    }
  }

  private array(depth: number, keep: boolean): JsonValue {
    const at = this.pos;
    if (depth > this.maxDepth) {
      throw new JsonFault(`JSON nested deeper than ${this.maxDepth} levels`, at, true);
    }
    this.pos++;
    const items: JsonValue[] = [];
    this.skipWs();
    if (this.bytes[this.pos] === 0x5d) {
      this.pos++;
      return keep ? { kind: "array", offset: at, items } : { kind: "skipped", offset: at };
    }
    for (;;) {
      const item = this.value(depth, keep);
      if (keep) items.push(item);
      this.skipWs();
      const b = this.bytes[this.pos];
      if (b === 0x2c) {
        this.pos++;
        continue;
      }
      if (b === 0x5d) {
        this.pos++;
        return keep ? { kind: "array", offset: at, items } : { kind: "skipped", offset: at };
      }
      throw new JsonFault("expected ',' or ']' in array", this.pos);
    }
  }
}

/**
 * Parses one JSON value from `bytes` (leading and trailing JSON whitespace allowed, nothing
 * else). Offsets in the result and in errors are byte offsets into `bytes`.
 */
export function parseJson(
  bytes: Uint8Array,
  options: JsonParseOptions = {},
): Result<ParsedJson, JsonError> {
  const parser = new Parser(bytes, options);
  try {
    const value = parser.value(0, true);
    const end = parser.pos;
    parser.skipWs();
    if (parser.pos < bytes.length) {
      return err({ message: "unexpected data after the JSON value", offset: parser.pos });
    }
    return ok({ value, end });
  } catch (e) {
    if (e instanceof JsonFault) {
      return err({ message: e.message, offset: e.offset, ...(e.limit ? { limit: true } : {}) });
    }
    if (e instanceof RangeError) {
      return err({ message: "JSON nested too deeply to parse", offset: parser.pos, limit: true });
    }
    throw e;
  }
}

/** The members of an object that share a key with an earlier one, in order. */
export function duplicateEntries(object: JsonObject): JsonEntry[] {
  const seen = new Set<string>();
  const duplicates: JsonEntry[] = [];
  for (const entry of object.entries) {
    if (seen.has(entry.key)) duplicates.push(entry);
    else seen.add(entry.key);
  }
  return duplicates;
}

/** The exact value of a JSON number that is a non-negative integer without fraction or exponent. */
export function jsonUnsignedInteger(value: JsonValue): bigint | undefined {
  if (value.kind !== "number" || !/^(0|[1-9][0-9]*)$/.test(value.text)) return undefined;
  return BigInt(value.text);
}
