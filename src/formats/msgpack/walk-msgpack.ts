import {
  decodeHeader,
  headerLength,
  MAX_HEADER_BYTES,
  type MsgpackHeader,
} from "./msgpack-header.js";

/**
 * A bounded, streaming walk over one msgpack document as Flax's `msgpack_restore` reads it
 * (`msgpack.unpackb(data, ext_hook=..., raw=False)`, msgpack-python ≥ 1.0 defaults:
 * `strict_map_key=True`, so map keys are `str` or `bytes`; strings must be UTF-8; one value, no
 * trailing bytes). Payloads are never read except map keys and short strings (for UTF-8 checks)
 * and the small headers inside Flax's array extensions; tensor bytes are skipped.
 *
 * Why not `@msgpack/msgpack`: its decoder needs the whole document in memory (a Flax checkpoint is
 * gigabytes of tensor bytes, DESIGN.md principle 8), materialises every value, and decodes each
 * ext payload in full. This walker reads only headers, through a generator that *asks* for byte
 * ranges: the same code serves the synchronous detector (over the probe's head) and the
 * asynchronous analyser (over a `ByteSource`).
 */

/** A byte range the walker asks for; the driver answers with the bytes (shorter at the end of what it has). */
export interface ByteRequest {
  offset: number;
  length: number;
}

export interface WalkOptions {
  /** Deepest nesting of maps and arrays (msgpack-python stops at 1024). @default 512 */
  maxDepth?: number;
  /** Values visited before giving up. @default 20_000_000 */
  maxValues?: number;
  /** Longest map key or string value read to check its UTF-8. @default 65_536 */
  maxStringBytes?: number;
  /** Detection: keys must be non-empty text without control characters. @default false */
  strictKeys?: boolean;
}

export type IssueKind = "malformed" | "unknown-ext" | "unknown-dtype" | "limit";

export interface WalkIssue {
  kind: IssueKind;
  message: string;
  offset: number;
  /** The path of map keys to the value, e.g. `params/Dense_0/kernel`. */
  path: string;
  extType?: number;
}

export interface WalkStats {
  values: number;
  maps: number;
  /** Flax ndarray (ext 1) and numpy scalar (ext 3) leaves. */
  arrays: number;
  /** Native complex (ext 2) leaves. */
  complexes: number;
  /** Tensor bytes skipped (the data of ndarray extensions). */
  tensorBytes: number;
  maxDepth: number;
  dtypes: Set<string>;
  topLevelKeys: string[];
}

export interface WalkResult {
  /**
   * `complete`: one whole value was read (it ends at `end`); `incomplete`: the bytes the driver
   * has ran out first (detection over a head); `stopped`: a malformed structure or a limit ended
   * the walk (the last issue says which).
   */
  status: "complete" | "incomplete" | "stopped";
  end: number;
  issues: WalkIssue[];
  stats: WalkStats;
}

/** Flax's extension codes (flax/serialization.py `_MsgpackExtType`). */
export const FLAX_EXT = Object.freeze({ ndarray: 1, nativeComplex: 2, npscalar: 3 });
/** msgpack's own timestamp extension. */
export const TIMESTAMP_EXT = -1;

/** numpy dtype names Flax writes (`arr.dtype.name`) and their item sizes in bytes. */
export const DTYPE_SIZES: ReadonlyMap<string, number> = new Map([
  ["bool", 1],
  ["int8", 1],
  ["uint8", 1],
  ["int16", 2],
  ["uint16", 2],
  ["float16", 2],
  ["bfloat16", 2],
  ["int32", 4],
  ["uint32", 4],
  ["float32", 4],
  ["int64", 8],
  ["uint64", 8],
  ["float64", 8],
  ["complex64", 8],
  ["complex128", 16],
  ["float128", 16],
  ["complex256", 32],
  ["int2", 1],
  ["uint2", 1],
  ["int4", 1],
  ["uint4", 1],
  ["float4_e2m1fn", 1],
  ["float8_e3m4", 1],
  ["float8_e4m3", 1],
  ["float8_e4m3fn", 1],
  ["float8_e4m3fnuz", 1],
  ["float8_e4m3b11fnuz", 1],
  ["float8_e5m2", 1],
  ["float8_e5m2fnuz", 1],
  ["float8_e8m0fnu", 1],
]);

/** Bytes read at the start of an ndarray extension to find its shape, dtype and data header. */
const EXT_HEAD_BYTES = 4096;
const MAX_SHAPE_RANK = 64;
const MAX_DTYPE_NAME = 64;

const STRICT_UTF8 = new TextDecoder("utf-8", { fatal: true });
const PRINTABLE_KEY = /^[^\p{Cc}\p{Cf}\p{Cs}]+$/u;

interface Frame {
  /** Values still to read (keys and values both count in a map). */
  remaining: number;
  isMap: boolean;
  keyNext: boolean;
  path: string;
  /** The last key read, for the value's path. */
  key: string;
}

type Step<T> = Generator<ByteRequest, T, Uint8Array>;

/** Sentinel thrown inside the generator when the driver's bytes end before the file does. */
class OutOfBytes {}
/** Sentinel that stops the walk (malformed or limit; the issue is recorded first). */
class Stop {}

/**
 * Walks one msgpack value from offset 0 of a `size`-byte file. Drive it with
 * {@link runWalkSync} or an async loop; see {@link WalkResult}.
 */
export function* walkMsgpack(size: number, options: WalkOptions = {}): Step<WalkResult> {
  const maxDepth = options.maxDepth ?? 512;
  const maxValues = options.maxValues ?? 20_000_000;
  const maxString = options.maxStringBytes ?? 65_536;
  const issues: WalkIssue[] = [];
  const stats: WalkStats = {
    values: 0,
    maps: 0,
    arrays: 0,
    complexes: 0,
    tensorBytes: 0,
    maxDepth: 0,
    dtypes: new Set(),
    topLevelKeys: [],
  };
  const stack: Frame[] = [];
  let pos = 0;

  const pathHere = (): string => {
    const top = stack.at(-1);
    if (!top) return "";
    return top.isMap && !top.keyNext ? joinPath(top.path, top.key) : top.path;
  };
  const stop = (kind: "malformed" | "limit", message: string, offset: number): never => {
    issues.push({ kind, message, offset, path: pathHere() });
    throw new Stop();
  };
  function* bytesAt(offset: number, length: number): Step<Uint8Array> {
    const got = yield { offset, length };
    if (got.length < length) throw new OutOfBytes();
    return got;
  }

  try {
    for (;;) {
      const top = stack.at(-1);
      const isKey = top?.isMap === true && top.keyNext;
      if (pos >= size)
        stop(
          "malformed",
          "The data ends in the middle of a value (msgpack raises on truncated input).",
          pos,
        );
      const want = Math.min(MAX_HEADER_BYTES, size - pos);
      const first = yield* bytesAt(pos, want);
      const hl = headerLength(first[0]!);
      if (hl > want) stop("malformed", "The data ends inside a value's header.", pos);
      const header = decodeHeader(first.subarray(0, hl));
      if (++stats.values > maxValues)
        stop("limit", `More than ${maxValues} msgpack values; the rest was not checked.`, pos);
      const at = pos;
      const remaining = size - pos - hl;
      const checkPayload = (length: number, what: string) => {
        if (length > remaining) {
          stop("malformed", `${what} claims ${length} bytes but only ${remaining} remain.`, at);
        }
      };
      if (isKey && header.kind !== "str" && header.kind !== "bin") {
        stop(
          "malformed",
          `A map key is ${describe(header)}: msgpack-python (strict_map_key) refuses keys that are not str or bytes.`,
          at,
        );
      }
      switch (header.kind) {
        case "map":
        case "array": {
          const count = header.kind === "map" ? header.length * 2 : header.length;
          if (count > remaining) {
            stop(
              "malformed",
              `A ${header.kind} claims ${header.length} entries but only ${remaining} bytes remain.`,
              at,
            );
          }
          pos += hl;
          if (header.kind === "map") stats.maps++;
          if (count > 0) {
            if (stack.length >= maxDepth)
              stop("limit", `Maps and arrays nest deeper than ${maxDepth}.`, at);
            stack.push({
              remaining: count,
              isMap: header.kind === "map",
              keyNext: true,
              path: pathHere(),
              key: "",
            });
            stats.maxDepth = Math.max(stats.maxDepth, stack.length);
            continue;
          }
          break;
        }
        case "str": {
          checkPayload(header.length, "A string");
          if (isKey || header.length <= maxString) {
            if (isKey && header.length > maxString) {
              stop("limit", `A map key of ${header.length} bytes is longer than ${maxString}.`, at);
            }
            const raw = yield* bytesAt(at + hl, header.length);
            let text: string;
            try {
              text = STRICT_UTF8.decode(raw);
            } catch {
              stop(
                "malformed",
                "A string is not valid UTF-8: msgpack-python (raw=False) raises UnicodeDecodeError.",
                at,
              );
            }
            if (isKey) {
              if (options.strictKeys && !PRINTABLE_KEY.test(text!)) {
                stop("malformed", "A map key is empty or holds control characters.", at);
              }
              top!.key = text!;
              if (stack.length === 1 && stats.topLevelKeys.length < 32)
                stats.topLevelKeys.push(text!.slice(0, 100));
            }
          }
          pos = at + hl + header.length;
          break;
        }
        case "bin":
          checkPayload(header.length, "A binary");
          if (isKey) top!.key = `<${header.length} bytes>`;
          pos = at + hl + header.length;
          break;
        case "ext": {
          checkPayload(header.length, "An extension");
          const issue = yield* inspectExt(at + hl, header.length, header.type, stats, bytesAt);
          if (issue) {
            const full = { ...issue, path: pathHere() };
            issues.push(full);
            if (issue.kind === "malformed") throw new Stop();
          }
          pos = at + hl + header.length;
          break;
        }
        case "never-used":
          stop("malformed", "Byte 0xc1 is never used in msgpack: decoders refuse it.", at);
          break;
        default:
          pos = at + hl;
      }
      // A value is complete: count it against its containers.
      for (;;) {
        const frame = stack.at(-1);
        if (!frame) return { status: "complete", end: pos, issues, stats };
        frame.remaining--;
        if (frame.isMap) frame.keyNext = !frame.keyNext;
        if (frame.remaining > 0) break;
        stack.pop();
      }
    }
  } catch (e) {
    if (e instanceof OutOfBytes) return { status: "incomplete", end: pos, issues, stats };
    if (e instanceof Stop) return { status: "stopped", end: pos, issues, stats };
    throw e;
  }
}

function joinPath(path: string, key: string): string {
  return path === "" ? key : `${path}/${key}`;
}

function describe(header: MsgpackHeader): string {
  switch (header.kind) {
    case "ext":
      return `an extension (type ${header.type})`;
    case "int":
      return "an integer";
    case "never-used":
      return "the never-used byte 0xc1";
    default:
      return `a ${header.kind}`;
  }
}

type Issue = Omit<WalkIssue, "path">;

/** Checks one extension value: Flax's ndarray/scalar/complex layouts, msgpack timestamps; others are unknown. */
function* inspectExt(
  start: number,
  length: number,
  type: number,
  stats: WalkStats,
  bytesAt: (offset: number, length: number) => Step<Uint8Array>,
): Step<Issue | null> {
  const malformed = (message: string): Issue => ({ kind: "malformed", message, offset: start });
  if (type === FLAX_EXT.ndarray || type === FLAX_EXT.npscalar) {
    const head = yield* bytesAt(start, Math.min(length, EXT_HEAD_BYTES));
    const parsed = parseNdarrayHead(head, length);
    if (typeof parsed === "string") {
      if (head.length < length && parsed === OUT_OF_HEAD) {
        return malformed("An array's shape and dtype header is implausibly long.");
      }
      return malformed(`Flax's _ndarray_from_bytes would fail on this array: ${parsed}.`);
    }
    stats.arrays++;
    stats.tensorBytes += parsed.dataLength;
    stats.dtypes.add(parsed.dtype);
    const itemSize = DTYPE_SIZES.get(parsed.dtype);
    if (itemSize === undefined) {
      return {
        kind: "unknown-dtype",
        message: `An array has dtype \`${parsed.dtype.slice(0, MAX_DTYPE_NAME)}\`, which Flax does not write; numpy may refuse it.`,
        offset: start,
      };
    }
    const elements = parsed.shape.reduce((a, b) => a * b, 1);
    if (!Number.isSafeInteger(elements * itemSize) || elements * itemSize !== parsed.dataLength) {
      return malformed(
        `An array of shape (${parsed.shape.join(", ")}) and dtype ${parsed.dtype} needs ${elements * itemSize} bytes but holds ${parsed.dataLength}: reshape fails on load.`,
      );
    }
    return null;
  }
  if (type === FLAX_EXT.nativeComplex) {
    const body = yield* bytesAt(start, Math.min(length, 32));
    if (!isComplexPair(body, length))
      return malformed("A complex number's payload is not a pair of numbers.");
    stats.complexes++;
    return null;
  }
  if (type === TIMESTAMP_EXT) {
    return length === 4 || length === 8 || length === 12
      ? null
      : malformed(`A timestamp extension of ${length} bytes (msgpack allows 4, 8 or 12).`);
  }
  return {
    kind: "unknown-ext",
    message: `An extension of type ${type} (${length} bytes): Flax leaves it as msgpack.ExtType, but a loader with its own ext_hook decodes it however it likes, so what it becomes cannot be vouched for`,
    offset: start,
    extType: type,
  };
}

const OUT_OF_HEAD = "its header runs past the bytes read";

/** `packb((shape, dtype_name, data), use_bin_type=True)`: array(3) of [ints], str, bin. */
function parseNdarrayHead(
  b: Uint8Array,
  total: number,
): { shape: number[]; dtype: string; dataLength: number } | string {
  let p = 0;
  const next = (): MsgpackHeader | string => {
    if (p >= b.length) return p >= total ? "it is truncated" : OUT_OF_HEAD;
    const hl = headerLength(b[p]!);
    if (p + hl > b.length) return p + hl > total ? "it is truncated" : OUT_OF_HEAD;
    const h = decodeHeader(b.subarray(p, p + hl));
    p += hl;
    return h;
  };
  const tuple = next();
  if (typeof tuple === "string") return tuple;
  if (tuple.kind !== "array" || tuple.length !== 3)
    return "it is not a (shape, dtype, data) triple";
  const shapeHeader = next();
  if (typeof shapeHeader === "string") return shapeHeader;
  if (shapeHeader.kind !== "array" || shapeHeader.length > MAX_SHAPE_RANK)
    return "its shape is not a short list";
  const shape: number[] = [];
  for (let i = 0; i < shapeHeader.length; i++) {
    const dim = next();
    if (typeof dim === "string") return dim;
    if (dim.kind !== "int" || dim.value < 0) return "a dimension is not a non-negative integer";
    shape.push(dim.value);
  }
  const dtypeHeader = next();
  if (typeof dtypeHeader === "string") return dtypeHeader;
  if (
    (dtypeHeader.kind !== "str" && dtypeHeader.kind !== "bin") ||
    dtypeHeader.length > MAX_DTYPE_NAME
  ) {
    return "its dtype is not a short name";
  }
  if (p + dtypeHeader.length > b.length)
    return p + dtypeHeader.length > total ? "it is truncated" : OUT_OF_HEAD;
  const dtype = new TextDecoder().decode(b.subarray(p, p + dtypeHeader.length));
  p += dtypeHeader.length;
  const data = next();
  if (typeof data === "string") return data;
  if (data.kind !== "bin" && data.kind !== "str") return "its data is not bytes";
  if (p + data.length !== total) {
    return `its data (${data.length} bytes) does not end where the extension does (unpackb raises ExtraData or runs short)`;
  }
  return { shape, dtype, dataLength: data.length };
}

/** `packb((real, imag))`: array(2) of two numbers, exactly filling the extension. */
function isComplexPair(b: Uint8Array, total: number): boolean {
  if (b.length < total || b[0] !== 0x92) return false;
  let p = 1;
  for (let i = 0; i < 2; i++) {
    if (p >= b.length) return false;
    const hl = headerLength(b[p]!);
    if (p + hl > b.length) return false;
    const kind = decodeHeader(b.subarray(p, p + hl)).kind;
    if (kind !== "float" && kind !== "int") return false;
    p += hl;
  }
  return p === total;
}

/** Runs a walk over bytes in memory (`size` may be larger: the walk is then `incomplete` at their end). */
export function runWalkSync(
  bytes: Uint8Array,
  size: number,
  options: WalkOptions = {},
): WalkResult {
  const walk = walkMsgpack(size, options);
  let step = walk.next();
  while (!step.done) {
    const { offset, length } = step.value;
    step = walk.next(bytes.subarray(offset, offset + length));
  }
  return step.value;
}
