/**
 * What a `.npy` header's `descr` means, as `numpy.lib.format.descr_to_dtype` builds it: the item
 * size in bytes (to check the file size without reading the data) and whether the dtype holds
 * Python objects anywhere (then the data is a pickle). Sizes are those of 64-bit Linux NumPy.
 */

import type { PyValue } from "./py-literal.js";

export interface DtypeInfo {
  /** Bytes per element; `undefined` when some part is not understood (the size is not checked). */
  itemsize: bigint | undefined;
  /** True when any field is `object` (`O`): NumPy stores the array as a pickle. */
  hasObject: boolean;
}

/** One-character type codes (`numpy.dtype('f')`), 64-bit Linux sizes; `O` is an object. */
const CHAR_CODES: Readonly<Record<string, number>> = {
  "?": 1,
  b: 1,
  B: 1,
  h: 2,
  H: 2,
  i: 4,
  I: 4,
  l: 8,
  L: 8,
  q: 8,
  Q: 8,
  p: 8,
  P: 8,
  n: 8,
  N: 8,
  e: 2,
  f: 4,
  d: 8,
  g: 16,
  F: 8,
  D: 16,
  G: 32,
  O: 8,
  S: 0,
  a: 0,
  U: 0,
  V: 0,
  M: 8,
  m: 8,
};

/** Sizes allowed after a kind letter (`<f4`, `|b1`, `<c16`); flexible kinds take any count. */
const SIZED_KINDS: Readonly<Record<string, readonly number[] | "count">> = {
  b: [1],
  i: [1, 2, 4, 8],
  u: [1, 2, 4, 8],
  f: [2, 4, 8, 12, 16],
  c: [8, 16, 24, 32],
  O: [4, 8],
  M: [8],
  m: [8],
  S: "count",
  a: "count",
  V: "count",
  U: "count",
};

/** Type names NumPy accepts as strings (`numpy.dtype('float32')`). */
const NAMED: Readonly<Record<string, number | "object">> = {
  bool: 1,
  bool_: 1,
  bool8: 1,
  int8: 1,
  uint8: 1,
  byte: 1,
  ubyte: 1,
  int16: 2,
  uint16: 2,
  short: 2,
  ushort: 2,
  int32: 4,
  uint32: 4,
  intc: 4,
  uintc: 4,
  int64: 8,
  uint64: 8,
  int: 8,
  int_: 8,
  uint: 8,
  intp: 8,
  uintp: 8,
  longlong: 8,
  ulonglong: 8,
  float16: 2,
  half: 2,
  float32: 4,
  single: 4,
  float64: 8,
  float: 8,
  double: 8,
  float128: 16,
  longdouble: 16,
  complex64: 8,
  csingle: 8,
  complex128: 16,
  complex: 16,
  cdouble: 16,
  complex256: 32,
  clongdouble: 32,
  datetime64: 8,
  timedelta64: 8,
  object: "object",
  object_: "object",
  O: "object",
};

const UNKNOWN: DtypeInfo = { itemsize: undefined, hasObject: false };

/** A dtype string such as `<f4`, `|S10`, `<M8[ns]`, `float32` or `i4,(2,3)f8`. */
export function describeDtypeString(text: string): DtypeInfo {
  const fields = splitTopLevel(text);
  if (fields.length > 1) {
    return combine(fields.map((f) => withShapePrefix(f.trim())));
  }
  const m = /^([<>|=!]?)([A-Za-z?])(\d*)(\[[A-Za-z0-9]+\])?$/.exec(text);
  if (m) {
    const kind = m[2]!;
    const digits = m[3]!;
    const unit = m[4];
    if (unit !== undefined && kind !== "M" && kind !== "m") return fallback(text);
    if (digits === "") {
      const size = CHAR_CODES[kind];
      if (size === undefined) return fallback(text);
      return { itemsize: BigInt(size), hasObject: kind === "O" };
    }
    const allowed = SIZED_KINDS[kind];
    const count = BigInt(digits);
    if (allowed === "count")
      return { itemsize: kind === "U" ? 4n * count : count, hasObject: false };
    if (allowed === undefined || !allowed.includes(Number(count))) return fallback(text);
    return { itemsize: count, hasObject: kind === "O" };
  }
  const size =
    NAMED[text] ?? (/^(datetime64|timedelta64)\[[A-Za-z0-9]+\]$/.test(text) ? 8 : undefined);
  if (size === "object") return { itemsize: 8n, hasObject: true };
  if (size !== undefined) return { itemsize: BigInt(size), hasObject: false };
  if (text === "str" || text === "bytes" || text === "void")
    return { itemsize: 0n, hasObject: false };
  return fallback(text);
}

/** Not understood: the size is unknown; any `O`/`object` in it counts as an object (fail safe). */
function fallback(text: string): DtypeInfo {
  return { itemsize: undefined, hasObject: /O|object/.test(text) };
}

/** `3f4` or `(2,3)f4` inside a comma-separated dtype string. */
function withShapePrefix(field: string): DtypeInfo {
  const m = /^(?:\(([\d,\s]*)\)|(\d+))\s*(.+)$/.exec(field);
  if (!m) return describeDtypeString(field);
  const dims = (m[1] ?? m[2]!).split(",").filter((d) => d.trim() !== "");
  const base = describeDtypeString(m[3]!);
  let count = 1n;
  for (const d of dims) count *= BigInt(d.trim());
  return {
    itemsize: base.itemsize === undefined ? undefined : base.itemsize * count,
    hasObject: base.hasObject,
  };
}

function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "(" || c === "[") depth++;
    else if (c === ")" || c === "]") depth--;
    else if (c === "," && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.filter((p, i) => p.trim() !== "" || i < parts.length - 1);
}

function combine(parts: readonly DtypeInfo[]): DtypeInfo {
  let itemsize: bigint | undefined = 0n;
  let hasObject = false;
  for (const p of parts) {
    hasObject ||= p.hasObject;
    itemsize =
      itemsize === undefined || p.itemsize === undefined ? undefined : itemsize + p.itemsize;
  }
  return { itemsize, hasObject };
}

/** The number of elements of a sub-array shape (an int or a tuple of ints). */
function shapeCount(shape: PyValue): bigint | undefined {
  if (shape.kind === "int") return shape.value < 0n ? undefined : shape.value;
  if (shape.kind === "bool") return shape.value ? 1n : 0n;
  if (shape.kind !== "tuple" && shape.kind !== "list") return undefined;
  let count = 1n;
  for (const d of shape.items) {
    const n = shapeCount(d);
    if (n === undefined || (d.kind !== "int" && d.kind !== "bool")) return undefined;
    count *= n;
  }
  return count;
}

/**
 * The `descr` value of a header: a dtype string, a `(dtype, shape)` sub-array, or a list of
 * `(name, dtype[, shape])` fields (padding fields included, so the sizes add up). `undefined`
 * when NumPy would reject it.
 */
export function describeDescr(descr: PyValue, depth = 0): DtypeInfo | undefined {
  if (depth > 32) return undefined;
  if (descr.kind === "str") return describeDtypeString(descr.value);
  if (descr.kind === "tuple") {
    const [base, shape] = descr.items;
    if (descr.items.length !== 2 || !base || !shape) return undefined;
    const inner = describeDescr(base, depth + 1);
    const count = shapeCount(shape);
    if (!inner || count === undefined) return inner && { ...inner, itemsize: undefined };
    return {
      hasObject: inner.hasObject,
      itemsize: inner.itemsize === undefined ? undefined : inner.itemsize * count,
    };
  }
  if (descr.kind !== "list") return undefined;
  const parts: DtypeInfo[] = [];
  for (const field of descr.items) {
    if (field.kind !== "tuple" && field.kind !== "list") return undefined;
    const [name, format, shape] = field.items;
    if (field.items.length < 2 || field.items.length > 3 || !name || !format) return undefined;
    if (name.kind !== "str" && name.kind !== "tuple") return undefined;
    const inner = describeDescr(format, depth + 1);
    if (!inner) return undefined;
    if (shape === undefined) {
      parts.push(inner);
      continue;
    }
    const count = shapeCount(shape);
    parts.push({
      hasObject: inner.hasObject,
      itemsize:
        inner.itemsize === undefined || count === undefined ? undefined : inner.itemsize * count,
    });
  }
  return combine(parts);
}

export { UNKNOWN as UNKNOWN_DTYPE };
