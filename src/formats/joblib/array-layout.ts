/**
 * How many bytes joblib reads after a `NumpyArrayWrapper`'s BUILD, worked out from the wrapper's
 * symbolic attributes the way `NumpyArrayWrapper.read_array` (joblib/numpy_pickle.py) does:
 * `count = prod(int64(d) for d in shape)` (1 for a 0-d array); an object dtype (`dtype.hasobject`)
 * means a nested `pickle.load` on the same file; otherwise an optional padding byte (when
 * `numpy_array_alignment_bytes` is not None) and that many padding bytes, then
 * `count * dtype.itemsize` raw bytes.
 *
 * The dtype is `numpy.dtype(obj, align, copy)` (a REDUCE) whose BUILD state is the tuple NumPy's
 * `arraydescr_setstate` reads: for flexible types (S, U, V) the state's `elsize` is the item size,
 * and from state version 3 on the state's `flags` decide `hasobject`.
 */

import { err, ok, type Result } from "../../core/result.js";
import { describeDtypeString } from "../numpy/dtype.js";
import { pyString } from "../pickle/decompile.js";
import type { SymValue } from "../pickle/values.js";
import { knownItems, type WrapperAttributes } from "./wrapper.js";

/** Why a layout cannot be worked out: `unknown` (not constants) or `invalid` (the loader raises). */
export interface LayoutError {
  kind: "unknown" | "invalid";
  reason: string;
}

export interface DtypeFacts {
  /** The type as the pickle names it, quoted for messages (`"f4"`, `"U10"`, `numpy.record`). */
  text: string;
  itemsize: bigint;
  /** `dtype.hasobject`: the data is a nested pickle. */
  hasObject: boolean;
  /** Set when the pickled flags contradict the type. */
  mismatch?: string;
}

/** Raw data: `count * dtype.itemsize` bytes, after the padding when `padded`. */
export interface RawLayout {
  kind: "raw";
  shape: bigint[];
  /** Number of elements. */
  count: bigint;
  dtype: DtypeFacts;
  /** True when joblib reads a padding-length byte (and that much padding) before the data. */
  padded: boolean;
}

/**
 * An object array: a nested pickle, however long it is. `read_array` only turns the shape into
 * int64s on this path (no reshape), so the shape does not have to be valid; it is kept when it is.
 */
export interface ObjectLayout {
  kind: "object";
  shape?: bigint[];
  dtype: DtypeFacts;
}

export type ArrayLayout = RawLayout | ObjectLayout;

/** NumPy's `int64` bound: dimensions and their product must stay below it. */
const INT64_LIMIT = 1n << 63n;

/** `dtype`'s names in pickles written by NumPy 1.x and 2.x. */
const DTYPE_CLASSES: ReadonlySet<string> = new Set([
  "numpy.dtype",
  "numpy.core.multiarray.dtype",
  "numpy._core.multiarray.dtype",
]);

/** `numpy.record`: a structured dtype's type object when the array is a record array. */
const RECORD_CLASSES: ReadonlySet<string> = new Set([
  "numpy.record",
  "numpy.core.records.record",
  "numpy._core.records.record",
]);

/** Flag bit of `NPY_ITEM_HASOBJECT` (= `NPY_ITEM_REFCOUNT`). */
const NPY_ITEM_HASOBJECT = 1;

const unknown = (reason: string): Result<never, LayoutError> => err({ kind: "unknown", reason });
const invalid = (reason: string): Result<never, LayoutError> => err({ kind: "invalid", reason });

/** A value that cannot be known before loading (a call's result, an import, a persistent id). */
const isOpaque = (v: SymValue): boolean =>
  v.kind === "call" || v.kind === "global" || v.kind === "persistent-id" || v.kind === "buffer";

const qualified = (v: SymValue): string | undefined =>
  v.kind === "global" && v.constant && v.module !== null && v.name !== null
    ? `${v.module}.${v.name}`
    : undefined;

/** An int argument as `PyArg_ParseTuple("i")` takes it (bools are ints); `undefined` otherwise. */
function smallInt(v: SymValue | undefined): number | undefined {
  if (v?.kind === "bool") return v.value ? 1 : 0;
  if (v?.kind === "int" && typeof v.value === "number") return v.value;
  return undefined;
}

interface DtypeState {
  version: number;
  elsize: number;
  flags: number;
  hasFields: boolean;
}

/** The tuple `dtype.__setstate__` takes (5 to 9 items, by NumPy version). */
function readDtypeState(state: SymValue): Result<DtypeState, LayoutError> {
  const items = knownItems(state);
  if (items === undefined)
    return unknown("the dtype's BUILD state is not a tuple modelvet can read");
  let fields: SymValue | undefined;
  let version: number | undefined;
  let elsize: number | undefined;
  let flags: number | undefined = 0;
  switch (items.length) {
    case 9:
    case 8:
      [version, fields, elsize, flags] = [
        smallInt(items[0]),
        items[4],
        smallInt(items[5]),
        smallInt(items[7]),
      ];
      break;
    case 7:
      [version, fields, elsize] = [smallInt(items[0]), items[4], smallInt(items[5])];
      break;
    case 6:
      [version, fields, elsize] = [smallInt(items[0]), items[3], smallInt(items[4])];
      break;
    case 5:
      [version, fields, elsize] = [0, items[2], smallInt(items[3])];
      break;
    default:
      return unknown(`the dtype's BUILD state has ${items.length} items, not 5 to 9`);
  }
  if (version === undefined || elsize === undefined || flags === undefined || !fields) {
    return unknown("the dtype's BUILD state holds values that are not small integers");
  }
  if (version < 0 || version > 4) return invalid(`NumPy rejects dtype pickle version ${version}`);
  // NumPy once stored the flags in a char: it adds 128 to small negative values.
  if (flags < 0 && flags >= -128) flags += 128;
  return ok({ version, elsize, flags, hasFields: fields.kind !== "none" });
}

/** S, U, V (and structured) types: `__setstate__` takes their item size from the state. */
function isFlexible(text: string): boolean {
  return (
    /^[<>|=!]?[SUVa]\d*$/.test(text) ||
    text.includes(",") ||
    ["str", "bytes", "void", "str_", "bytes_", "void0", "unicode", "string_"].includes(text)
  );
}

/**
 * The item size and `hasobject` of a dtype value: `numpy.dtype(obj, …)` with `obj` a type string
 * (or `numpy.record`), with the state of its latest BUILD (`stateOf`).
 */
export function resolveDtype(
  dtype: SymValue,
  stateOf: (value: SymValue) => SymValue | undefined,
): Result<DtypeFacts, LayoutError> {
  if (dtype.kind !== "call" || dtype.opcode !== "REDUCE") {
    return isOpaque(dtype) || dtype.kind === "call"
      ? unknown(
          `its dtype is ${dtype.kind === "call" ? `made by ${dtype.opcode}` : `a ${dtype.kind}`}, not numpy.dtype(…)`,
        )
      : invalid(`its dtype is a ${dtype.kind}, not a numpy dtype`);
  }
  const callee = qualified(dtype.callable);
  if (callee === undefined || !DTYPE_CLASSES.has(callee)) {
    return unknown(
      `its dtype is made by ${callee ?? "a call modelvet cannot name"}, not numpy.dtype`,
    );
  }
  const args = knownItems(dtype.args);
  const first = args?.[0];
  if (args === undefined || first === undefined) {
    return unknown("numpy.dtype is called with arguments modelvet cannot read");
  }
  let text: string;
  let flexible: boolean;
  let info: { itemsize: bigint | undefined; hasObject: boolean };
  if (first.kind === "str" && first.value !== null) {
    text = pyString(first.value, 40);
    flexible = isFlexible(first.value);
    info = describeDtypeString(first.value);
  } else if (RECORD_CLASSES.has(qualified(first) ?? "")) {
    text = "numpy.record";
    flexible = true;
    info = { itemsize: undefined, hasObject: false };
  } else {
    return unknown("numpy.dtype is called with a type that is not a constant string");
  }
  const stateValue = stateOf(dtype);
  let state: DtypeState | undefined;
  if (stateValue !== undefined) {
    const read = readDtypeState(stateValue);
    if (!read.ok) return read;
    state = read.value;
  }
  let itemsize = info.itemsize;
  if (flexible && state !== undefined) {
    if (state.elsize < 0)
      return unknown(`dtype ${text} has a negative item size (${state.elsize})`);
    itemsize = BigInt(state.elsize);
  }
  if (itemsize === undefined)
    return unknown(`modelvet does not know the item size of dtype ${text}`);
  let hasObject = info.hasObject;
  if (state !== undefined && state.version >= 3) {
    hasObject = (state.flags & NPY_ITEM_HASOBJECT) !== 0;
  } else if (state?.hasFields) {
    return unknown(`dtype ${text} has fields in a version ${state.version} state`);
  }
  const facts: DtypeFacts = { text, itemsize, hasObject };
  const objectType = info.hasObject && !flexible;
  if (objectType && !hasObject) {
    facts.mismatch = `dtype ${text} holds Python objects, but its pickled flags say it does not: joblib reads its data as raw bytes, i.e. object pointers taken from the file`;
  } else if (!objectType && !flexible && hasObject) {
    facts.mismatch = `dtype ${text} is a plain number type, but its pickled flags say it holds Python objects: joblib unpickles a nested pickle where array data should be`;
  }
  return ok(facts);
}

/** `shape` as `read_array` uses it: every item an int (or bool) below 2^63, their product too. */
export function resolveShape(shape: SymValue): Result<bigint[], LayoutError> {
  if (shape.kind !== "tuple" && shape.kind !== "list") {
    return isOpaque(shape)
      ? unknown(
          `its shape is ${shape.kind === "call" ? "the result of a call" : `a ${shape.kind}`}`,
        )
      : invalid(`its shape is a ${shape.kind}, not a tuple of integers`);
  }
  if (shape.count > shape.items.length) {
    return unknown(`its shape has ${shape.count} dimensions, more than modelvet keeps`);
  }
  const dims: bigint[] = [];
  for (const d of shape.items) {
    if (d.kind === "bool") dims.push(d.value ? 1n : 0n);
    else if (d.kind === "int" && d.value !== null) dims.push(BigInt(d.value));
    else if (d.kind === "int")
      return invalid("its shape holds an integer too long to be a dimension");
    else if (isOpaque(d)) return unknown("its shape holds a value that is not a constant");
    else return invalid(`its shape holds a ${d.kind}, not an integer`);
  }
  let count = 1n;
  for (const d of dims) {
    if (d < 0n) return invalid(`its shape has a negative dimension (${d})`);
    if (d >= INT64_LIMIT) return invalid(`its shape has a dimension beyond int64 (${d})`);
    count *= d;
  }
  if (count >= INT64_LIMIT) return invalid("its shape's element count overflows int64");
  return ok(dims);
}

/** The layout of a `NumpyArrayWrapper` with these attributes (`stateOf`: see {@link resolveDtype}). */
export function resolveLayout(
  attrs: WrapperAttributes,
  stateOf: (value: SymValue) => SymValue | undefined,
): Result<ArrayLayout, LayoutError> {
  if (attrs.unknown !== undefined) return unknown(attrs.unknown);
  const shapeValue = attrs.values.get("shape");
  const dtypeValue = attrs.values.get("dtype");
  if (shapeValue === undefined) return invalid("the wrapper has no shape attribute");
  if (dtypeValue === undefined) return invalid("the wrapper has no dtype attribute");
  const dtype = resolveDtype(dtypeValue, stateOf);
  if (!dtype.ok) return dtype;
  const shape = resolveShape(shapeValue);
  if (dtype.value.hasObject) {
    return ok(
      shape.ok
        ? { kind: "object", shape: shape.value, dtype: dtype.value }
        : { kind: "object", dtype: dtype.value },
    );
  }
  if (!shape.ok) return shape;
  const alignment = attrs.values.get("numpy_array_alignment_bytes");
  if (alignment !== undefined && isOpaque(alignment)) {
    return unknown(
      "its numpy_array_alignment_bytes is not a constant, so whether padding follows is unknown",
    );
  }
  return ok({
    kind: "raw",
    shape: shape.value,
    count: shape.value.reduce((a, b) => a * b, 1n),
    dtype: dtype.value,
    padded: alignment !== undefined && alignment.kind !== "none",
  });
}
