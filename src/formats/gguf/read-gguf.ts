/**
 * A bounded GGUF reader (v1–v3, either byte order), hand-written rather than built on
 * `@huggingface/gguf` (0.4.6), which we evaluated and found unsuited to hostile input here:
 * - it reads from a URL (HTTP, or a local path through `node:fs`) with its own fetch loop, not
 *   from our `ByteSource`, so archive members and browser files would need a fake `fetch`;
 * - it throws exceptions without byte offsets instead of returning findings, and stops at the
 *   first problem, so one bad value hides the rest;
 * - it stores metadata in a plain object (`metadata[key] = value`): duplicate keys silently keep
 *   the last copy and a key named `__proto__` replaces the object's prototype;
 * - it materialises every array (a tokenizer vocabulary of 10^5–10^6 strings) in memory, where we
 *   only need to step over them, and it does not check tensor data against the file size.
 * This reader keeps every count and length bounded (constants below) and checked against the bytes
 * the file actually holds before anything is read, so a claimed 2^63 keys or a 4 GB string is a
 * finding, not an allocation. Tensor data is never read.
 */
import type { ByteSource } from "../../core/byte-source.js";
import type { LocalFinding, Severity } from "../../core/finding.js";
import { ChunkReader } from "./chunk-reader.js";
import { GGML_TYPES } from "./ggml-types.js";
import { GGUF_RULES, type GgufRuleKey } from "./rules.js";

/** Metadata entries read from one file (real files hold 20–60). */
export const GGUF_MAX_KV_COUNT = 1_000_000;
/** Tensor descriptions read from one file (the largest real files hold ~10^4). */
export const GGUF_MAX_TENSOR_COUNT = 1_000_000;
/** Longest key the GGUF specification allows, in bytes. */
export const GGUF_MAX_KEY_BYTES = 65_535;
/** Elements of one metadata array stepped over (a 256k vocabulary is 2.6 × 10^5). */
export const GGUF_MAX_ARRAY_LENGTH = 50_000_000;
/** Nesting of arrays inside arrays. */
export const GGUF_MAX_ARRAY_DEPTH = 4;
/** Dimensions read per tensor (ggml itself allows 4: `GGML_MAX_DIMS`). */
export const GGUF_MAX_READ_DIMS = 16;
/** Longest string value decoded into memory (chat templates, `general.*` names). */
export const GGUF_MAX_STRING_BYTES = 16 * 1024 * 1024;

const GGML_MAX_DIMS = 4;
/** `GGML_MAX_NAME`: llama.cpp refuses tensor names of this many bytes or more. */
const GGML_MAX_NAME = 64;
const DEFAULT_ALIGNMENT = 32;
const INT64_MAX = (1n << 63n) - 1n;
const MAGIC = [0x47, 0x47, 0x55, 0x46];
const TYPE_STRING = 8;
const TYPE_ARRAY = 9;
const SCALAR_SIZES: ReadonlyMap<number, number> = new Map([
  [0, 1],
  [1, 1],
  [2, 2],
  [3, 2],
  [4, 4],
  [5, 4],
  [6, 4],
  [7, 1],
  [10, 8],
  [11, 8],
  [12, 8],
]);
const TYPE_NAMES = [
  "uint8",
  "int8",
  "uint16",
  "int16",
  "uint32",
  "int32",
  "float32",
  "bool",
  "string",
  "array",
  "uint64",
  "int64",
  "float64",
];
const INTEGER_TYPES = new Set([0, 1, 2, 3, 4, 5, 10, 11]);

export type GgufVersion = 1 | 2 | 3;

export interface GgufKeyValue {
  key: string;
  /** Offset of the key's length field. */
  offset: number;
  type: number;
  /** For arrays: the element type and count. */
  arrayType?: number;
  count?: bigint;
  /** Integer scalars, and string values that were asked for. */
  value?: bigint | string;
}

export interface GgufTensorInfo {
  name: string;
  /** Offset of the tensor description. */
  offset: number;
  dims: bigint[];
  type: number;
  /** Offset of the data, relative to the data section. */
  dataOffset: bigint;
}

export interface GgufString {
  key: string;
  /** Offset of the string's bytes. */
  offset: number;
  text: string;
}

export interface GgufReport {
  version?: GgufVersion;
  littleEndian: boolean;
  tensorCount?: bigint;
  kvCount?: bigint;
  kvs: GgufKeyValue[];
  tensors: GgufTensorInfo[];
  /** String values read because `readString` asked for them (chat templates). */
  strings: GgufString[];
  findings: LocalFinding[];
  /** Every metadata entry was read: no value (no chat template) went unseen. */
  metadataComplete: boolean;
  /** Every tensor description was read. */
  tensorsComplete: boolean;
  alignment: number;
  /** Offset of the data section (after the descriptions, aligned), when they were all read. */
  dataStart?: number;
  /** Bytes after the last tensor's (padded) data, when every tensor's size is known. */
  trailing?: { offset: number; size: number };
}

export interface ReadGgufOptions {
  /** Keys whose string value is decoded into `strings` (up to `maxStringBytes`). */
  readString?: (key: string) => boolean;
  /** @default GGUF_MAX_STRING_BYTES */
  maxStringBytes?: number;
}

/** `GGUF` and a version 1–3 in either byte order (big-endian files exist for s390x). */
export function ggufVersion(
  head: Uint8Array,
): { version: GgufVersion; littleEndian: boolean } | undefined {
  if (head.length < 8 || !MAGIC.every((b, i) => head[i] === b)) return undefined;
  const view = new DataView(head.buffer, head.byteOffset, 8);
  for (const littleEndian of [true, false]) {
    const v = view.getUint32(4, littleEndian);
    if (v === 1 || v === 2 || v === 3) return { version: v, littleEndian };
  }
  return undefined;
}

/** Stops the walk: the reader cannot go on past this point. */
class Stop {
  constructor(
    readonly key: GgufRuleKey,
    readonly message: string,
    readonly offset: number,
  ) {}
}

const DECODER = new TextDecoder("utf-8");
const show = (s: string) => JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}…` : s);

class Walker {
  readonly report: GgufReport;
  private readonly r: ChunkReader;
  private le = true;
  private wide = true;
  private readonly readString: (key: string) => boolean;
  private readonly maxStringBytes: number;

  constructor(source: ByteSource, options: ReadGgufOptions) {
    this.r = new ChunkReader(source);
    this.readString = options.readString ?? (() => false);
    this.maxStringBytes = options.maxStringBytes ?? GGUF_MAX_STRING_BYTES;
    this.report = {
      littleEndian: true,
      kvs: [],
      tensors: [],
      strings: [],
      findings: [],
      metadataComplete: false,
      tensorsComplete: false,
      alignment: DEFAULT_ALIGNMENT,
    };
  }

  add(key: GgufRuleKey, message: string, offset?: number, severity?: Severity): void {
    const rule = GGUF_RULES[key];
    this.report.findings.push({
      rule: rule.id,
      severity: severity ?? rule.severity,
      message,
      ...(offset === undefined ? {} : { offset }),
    });
  }

  private remaining(at: number): number {
    return Math.max(0, this.r.size - at);
  }

  private async u32(at: number, what: string): Promise<number> {
    const v = await this.r.u32(at, this.le);
    if (v === undefined) throw new Stop("malformed", `The file ends inside ${what}.`, at);
    return v;
  }

  private async u64(at: number, what: string): Promise<bigint> {
    const v = await this.r.u64(at, this.le);
    if (v === undefined) throw new Stop("malformed", `The file ends inside ${what}.`, at);
    return v;
  }

  /** A count or length field: u32 in GGUF v1, u64 since v2. */
  private async size(at: number, what: string): Promise<[bigint, number]> {
    if (this.wide) return [await this.u64(at, what), at + 8];
    return [BigInt(await this.u32(at, what)), at + 4];
  }

  /** A string's length and where its bytes start; checks the bytes are in the file. */
  private async stringSpan(at: number, what: string): Promise<[number, number]> {
    const [length, start] = await this.size(at, `the length of ${what}`);
    if (length > BigInt(this.remaining(start))) {
      throw new Stop(
        "malformed",
        `${what} claims ${length} bytes, but only ${this.remaining(start)} remain in the file.`,
        at,
      );
    }
    return [Number(length), start];
  }

  private async text(start: number, length: number): Promise<string> {
    const bytes = await this.r.bytes(start, length);
    return bytes ? DECODER.decode(bytes) : "";
  }

  async run(): Promise<GgufReport> {
    const report = this.report;
    const head = await this.r.bytes(0, 8);
    const id = head && ggufVersion(head);
    if (!id) {
      this.add("malformed", "Not a GGUF file of version 1, 2 or 3.", 0);
      return report;
    }
    report.version = id.version;
    report.littleEndian = id.littleEndian;
    this.le = id.littleEndian;
    this.wide = id.version !== 1;
    try {
      let at = 8;
      const [tensorCount, afterTensorCount] = await this.size(at, "the tensor count");
      const [kvCount, afterKvCount] = await this.size(afterTensorCount, "the metadata count");
      report.tensorCount = tensorCount;
      report.kvCount = kvCount;
      at = afterKvCount;
      at = await this.readMetadata(at, kvCount);
      report.metadataComplete = true;
      this.applyAlignment();
      at = await this.readTensorInfos(at, tensorCount);
      report.tensorsComplete = true;
      this.checkTensors(at);
    } catch (e) {
      if (!(e instanceof Stop)) throw e;
      this.add(e.key, e.message, e.offset);
    }
    return report;
  }

  private async readMetadata(start: number, kvCount: bigint): Promise<number> {
    const minEntry = this.wide ? 13 : 9;
    const room = BigInt(Math.floor(this.remaining(start) / minEntry));
    if (kvCount > room) {
      throw new Stop(
        "malformed",
        `The header claims ${kvCount} metadata entries, but the file can hold at most ${room}.`,
        this.wide ? 16 : 12,
      );
    }
    if (kvCount > BigInt(GGUF_MAX_KV_COUNT)) {
      throw new Stop(
        "limitsExceeded",
        `The header claims ${kvCount} metadata entries, more than the ${GGUF_MAX_KV_COUNT} read (GGUF_MAX_KV_COUNT); the metadata was not read.`,
        this.wide ? 16 : 12,
      );
    }
    const seen = new Set<string>();
    let at = start;
    for (let i = 0; i < Number(kvCount); i++) {
      const entryOffset = at;
      const [keyLength, keyStart] = await this.stringSpan(at, `the key of metadata entry ${i}`);
      let key: string;
      if (keyLength > GGUF_MAX_KEY_BYTES) {
        key = `${await this.text(keyStart, 64)}…`;
        this.add(
          "malformed",
          `Metadata key ${i} is ${keyLength} bytes long; the specification allows ${GGUF_MAX_KEY_BYTES}.`,
          entryOffset,
        );
      } else {
        key = await this.text(keyStart, keyLength);
      }
      at = keyStart + keyLength;
      if (seen.has(key)) {
        this.add(
          "malformed",
          `Metadata key ${show(key)} appears more than once; llama.cpp refuses the file, other readers keep one copy or the other.`,
          entryOffset,
        );
      }
      seen.add(key);
      const type = await this.u32(at, `the type of ${show(key)}`);
      at += 4;
      const kv: GgufKeyValue = { key, offset: entryOffset, type };
      at = await this.value(kv, type, at, 0);
      this.report.kvs.push(kv);
    }
    return at;
  }

  /** Steps over (or reads) one value of `type` at `at`; returns the offset after it. */
  private async value(kv: GgufKeyValue, type: number, at: number, depth: number): Promise<number> {
    const scalar = SCALAR_SIZES.get(type);
    if (scalar !== undefined) {
      if (depth === 0) {
        const bytes = await this.r.bytes(at, scalar);
        if (!bytes) throw new Stop("malformed", `The file ends inside ${show(kv.key)}.`, at);
        if (INTEGER_TYPES.has(type)) kv.value = integerValue(bytes, type, this.le);
      }
      return at + scalar;
    }
    if (type === TYPE_STRING) {
      const [length, start] = await this.stringSpan(at, `the value of ${show(kv.key)}`);
      if (depth === 0 && this.readString(kv.key)) {
        if (length > this.maxStringBytes) {
          this.add(
            "limitsExceeded",
            `${show(kv.key)} is ${length} bytes long, more than the ${this.maxStringBytes} read; it was not analysed.`,
            at,
          );
        } else {
          const text = await this.text(start, length);
          kv.value = text;
          this.report.strings.push({ key: kv.key, offset: start, text });
        }
      }
      return start + length;
    }
    if (type === TYPE_ARRAY) {
      if (depth >= GGUF_MAX_ARRAY_DEPTH) {
        throw new Stop(
          "limitsExceeded",
          `${show(kv.key)} nests arrays deeper than ${GGUF_MAX_ARRAY_DEPTH} levels; the rest of the file was not read.`,
          at,
        );
      }
      const elementType = await this.u32(at, `the element type of ${show(kv.key)}`);
      const [count, first] = await this.size(at + 4, `the length of ${show(kv.key)}`);
      if (depth === 0) {
        kv.arrayType = elementType;
        kv.count = count;
      }
      return this.array(kv, elementType, count, first, depth + 1, at);
    }
    throw new Stop(
      "malformed",
      `${show(kv.key)} has value type ${type}, which GGUF does not define; the rest of the file cannot be read.`,
      at - 4,
    );
  }

  private async array(
    kv: GgufKeyValue,
    elementType: number,
    count: bigint,
    first: number,
    depth: number,
    at: number,
  ): Promise<number> {
    const scalar = SCALAR_SIZES.get(elementType);
    const minElement = scalar ?? (this.wide ? 8 : 4);
    if (elementType !== TYPE_STRING && elementType !== TYPE_ARRAY && scalar === undefined) {
      throw new Stop(
        "malformed",
        `${show(kv.key)} is an array of type ${elementType}, which GGUF does not define.`,
        at,
      );
    }
    if (count * BigInt(minElement) > BigInt(this.remaining(first))) {
      throw new Stop(
        "malformed",
        `${show(kv.key)} claims ${count} elements of ${TYPE_NAMES[elementType] ?? "?"}, more than the ${this.remaining(first)} remaining bytes can hold.`,
        at,
      );
    }
    if (scalar !== undefined) return first + Number(count) * scalar;
    if (count > BigInt(GGUF_MAX_ARRAY_LENGTH)) {
      throw new Stop(
        "limitsExceeded",
        `${show(kv.key)} has ${count} elements, more than the ${GGUF_MAX_ARRAY_LENGTH} stepped over (GGUF_MAX_ARRAY_LENGTH); the rest of the file was not read.`,
        at,
      );
    }
    let next = first;
    for (let i = 0; i < Number(count); i++) next = await this.value(kv, elementType, next, depth);
    return next;
  }

  private applyAlignment(): void {
    const kv = this.report.kvs.find((k) => k.key === "general.alignment");
    if (!kv) return;
    const v = kv.value;
    if (typeof v !== "bigint" || v <= 0n || v > 1n << 30n || (v & (v - 1n)) !== 0n) {
      this.add(
        "malformed",
        `general.alignment is ${typeof v === "bigint" ? v : `a ${TYPE_NAMES[kv.type] ?? "?"}`}, not a power of two: llama.cpp refuses the file. Tensor offsets were checked against the default ${DEFAULT_ALIGNMENT}.`,
        kv.offset,
      );
      return;
    }
    this.report.alignment = Number(v);
  }

  private async readTensorInfos(start: number, tensorCount: bigint): Promise<number> {
    const minInfo = this.wide ? 24 : 20;
    const room = BigInt(Math.floor(this.remaining(start) / minInfo));
    if (tensorCount > room) {
      throw new Stop(
        "malformed",
        `The header claims ${tensorCount} tensors, but the rest of the file can describe at most ${room}.`,
        8,
      );
    }
    if (tensorCount > BigInt(GGUF_MAX_TENSOR_COUNT)) {
      throw new Stop(
        "limitsExceeded",
        `The header claims ${tensorCount} tensors, more than the ${GGUF_MAX_TENSOR_COUNT} read (GGUF_MAX_TENSOR_COUNT).`,
        8,
      );
    }
    const names = new Set<string>();
    let at = start;
    for (let i = 0; i < Number(tensorCount); i++) {
      const infoOffset = at;
      const [nameLength, nameStart] = await this.stringSpan(at, `the name of tensor ${i}`);
      const name = await this.text(nameStart, Math.min(nameLength, 4096));
      if (nameLength >= GGML_MAX_NAME) {
        this.add(
          "malformed",
          `Tensor ${i}'s name is ${nameLength} bytes long; llama.cpp refuses names of ${GGML_MAX_NAME} bytes or more.`,
          infoOffset,
          "medium",
        );
      }
      if (names.has(name)) {
        this.add(
          "malformed",
          `Tensor ${show(name)} is described twice; llama.cpp refuses the file, other readers use one description or the other.`,
          infoOffset,
        );
      }
      names.add(name);
      at = nameStart + nameLength;
      const nDims = await this.u32(at, `tensor ${show(name)}`);
      at += 4;
      if (nDims > GGUF_MAX_READ_DIMS) {
        throw new Stop(
          "badTensor",
          `Tensor ${show(name)} claims ${nDims} dimensions (ggml allows ${GGML_MAX_DIMS}); the rest of the file cannot be trusted.`,
          infoOffset,
        );
      }
      if (nDims > GGML_MAX_DIMS) {
        this.add(
          "badTensor",
          `Tensor ${show(name)} has ${nDims} dimensions; ggml allows ${GGML_MAX_DIMS}.`,
          infoOffset,
        );
      }
      const dims: bigint[] = [];
      for (let d = 0; d < nDims; d++) {
        const [dim, after] = await this.size(at, `tensor ${show(name)}`);
        dims.push(dim);
        at = after;
      }
      const type = await this.u32(at, `tensor ${show(name)}`);
      const dataOffset = await this.u64(at + 4, `tensor ${show(name)}`);
      at += 12;
      this.report.tensors.push({ name, offset: infoOffset, dims, type, dataOffset });
    }
    return at;
  }

  /** Each tensor's data must lie inside the file, aligned, without overlap; then trailing bytes. */
  private checkTensors(end: number): void {
    const report = this.report;
    const align = report.alignment;
    const pad = (n: bigint) => ((n + BigInt(align) - 1n) / BigInt(align)) * BigInt(align);
    const dataStart = Number(pad(BigInt(end)));
    report.dataStart = dataStart;
    const dataSize = BigInt(Math.max(0, this.r.size - dataStart));
    const unknownTypes = new Map<number, string>();
    const sized: { t: GgufTensorInfo; bytes: bigint }[] = [];
    let expected = 0n;
    let layoutReported = false;
    for (const t of report.tensors) {
      if (t.dataOffset % BigInt(align) !== 0n) {
        this.add(
          "badTensor",
          `Tensor ${show(t.name)}'s data offset ${t.dataOffset} is not a multiple of the alignment ${align}; llama.cpp refuses the file.`,
          t.offset,
        );
      }
      let elements = 1n;
      let overflow = false;
      for (const d of t.dims) {
        elements *= d;
        if (elements > INT64_MAX) overflow = true;
      }
      if (overflow) {
        this.add(
          "badTensor",
          `Tensor ${show(t.name)}'s dimensions [${t.dims.join(", ")}] overflow 64 bits.`,
          t.offset,
        );
        continue;
      }
      const type = GGML_TYPES.get(t.type);
      if (!type) {
        if (!unknownTypes.has(t.type)) unknownTypes.set(t.type, t.name);
        if (t.dataOffset > dataSize) {
          this.add(
            "badTensor",
            `Tensor ${show(t.name)} starts ${t.dataOffset} bytes into a data section of ${dataSize} bytes: past the end of the file.`,
            t.offset,
          );
        }
        continue;
      }
      const first = t.dims[0] ?? 1n;
      if (first % BigInt(type.blockSize) !== 0n) {
        this.add(
          "badTensor",
          `Tensor ${show(t.name)} (${type.name}) has a first dimension of ${first}, not a multiple of the ${type.blockSize}-element block.`,
          t.offset,
        );
        continue;
      }
      const bytes = (elements / BigInt(type.blockSize)) * BigInt(type.typeSize);
      if (t.dataOffset + bytes > dataSize) {
        this.add(
          "badTensor",
          `Tensor ${show(t.name)} (${type.name} [${t.dims.join(", ")}], ${bytes} bytes at data offset ${t.dataOffset}) runs past the end of the file (data section: ${dataSize} bytes).`,
          t.offset,
        );
      }
      if (!layoutReported && t.dataOffset !== expected) {
        layoutReported = true;
        this.add(
          "tensorLayout",
          `Tensor ${show(t.name)} starts at data offset ${t.dataOffset}, where a GGUF writer would have put it at ${expected}: the data has gaps or is out of order.`,
          t.offset,
        );
      }
      expected = t.dataOffset + pad(bytes);
      sized.push({ t, bytes });
    }
    for (const [type, name] of unknownTypes) {
      this.add(
        "unknownTensorType",
        `Tensor type ${type} (first used by ${show(name)}) has no block size modelvet knows: the data size of these tensors was not checked.`,
      );
    }
    sized.sort((a, b) =>
      a.t.dataOffset < b.t.dataOffset ? -1 : a.t.dataOffset > b.t.dataOffset ? 1 : 0,
    );
    let coveredEnd = 0n;
    let previous: GgufTensorInfo | undefined;
    for (const { t, bytes } of sized) {
      if (bytes > 0n && t.dataOffset < coveredEnd && previous) {
        this.add(
          "badTensor",
          `Tensor ${show(t.name)} overlaps ${show(previous.name)}: two tensors share bytes.`,
          t.offset,
        );
      }
      if (t.dataOffset + bytes > coveredEnd) {
        coveredEnd = t.dataOffset + bytes;
        previous = t;
      }
    }
    if (unknownTypes.size > 0 || sized.length !== report.tensors.length) return;
    const used = pad(coveredEnd);
    if (BigInt(this.r.size) > BigInt(dataStart) + used) {
      const offset = dataStart + Number(used);
      report.trailing = { offset, size: this.r.size - offset };
    }
  }
}

function integerValue(bytes: Uint8Array, type: number, le: boolean): bigint {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  switch (type) {
    case 0:
      return BigInt(view.getUint8(0));
    case 1:
      return BigInt(view.getInt8(0));
    case 2:
      return BigInt(view.getUint16(0, le));
    case 3:
      return BigInt(view.getInt16(0, le));
    case 4:
      return BigInt(view.getUint32(0, le));
    case 5:
      return BigInt(view.getInt32(0, le));
    case 10:
      return view.getBigUint64(0, le);
    default:
      return view.getBigInt64(0, le);
  }
}

/**
 * Reads a GGUF file's header, metadata and tensor descriptions, bounded and checked against the
 * file size, and returns what it found with findings for everything llama.cpp would refuse or
 * read differently. Never throws for bad input and never reads tensor data.
 */
export function readGguf(source: ByteSource, options: ReadGgufOptions = {}): Promise<GgufReport> {
  return new Walker(source, options).run();
}
