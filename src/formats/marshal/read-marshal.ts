/**
 * A bounded reader of CPython's marshal format (Python/marshal.c, `r_object`), for the versions
 * Python 3.0–3.14 write. It turns bytes into {@link MarshalValue} data and never runs anything:
 * code objects are read field by field, their bytecode kept as bytes, never disassembled.
 *
 * Like `marshal.loads`, it reads one object and ignores what follows. Marshal data does not say
 * which Python wrote it and the code object layout changed twice (3.8, 3.11), so with
 * `layout: "auto"` each layout is tried, newest first, and the first one under which every code
 * object is well-formed wins (a wrong layout misreads fields as the wrong types within a few
 * bytes).
 */

import { err, ok, type Result } from "../../core/result.js";
import type { MarshalCode, MarshalValue } from "./marshal-value.js";
import {
  CO_FAST_CELL,
  CO_FAST_FREE,
  CO_FAST_LOCAL,
  CODE_LAYOUTS,
  type CodeLayout,
  FLAG_REF,
  TYPE_BY_CODE,
} from "./type-codes.js";

/** Deepest nesting accepted (CPython's own limit is 2000). @default 1000 */
export const MARSHAL_MAX_DEPTH = 1000;
/** Objects read from one input before giving up. @default 1_000_000 */
export const MARSHAL_MAX_OBJECTS = 1_000_000;
/** Longest int (in 15-bit digits) converted to a bigint; longer ones are kept as `big-int`. */
export const MARSHAL_MAX_LONG_DIGITS = 4096;

export interface MarshalReadOptions {
  /** Code object layout, or `auto` to try each. @default "auto" */
  layout?: CodeLayout | "auto";
  /** @default MARSHAL_MAX_DEPTH */
  maxDepth?: number;
  /** @default MARSHAL_MAX_OBJECTS */
  maxObjects?: number;
}

export type MarshalErrorCode =
  | "truncated"
  | "unknown-type"
  | "bad-value"
  | "bad-reference"
  | "bad-code"
  | "too-deep"
  | "too-many-objects"
  | "null";

export interface MarshalError {
  code: MarshalErrorCode;
  /** Offset in the input where reading failed. */
  offset: number;
  /** In the user's terms. */
  message: string;
  /** The layout the error was found under (auto mode: the one that read furthest). */
  layout: CodeLayout;
}

export interface MarshalRead {
  value: MarshalValue;
  layout: CodeLayout;
  /** Bytes consumed; the rest (if any) is ignored, as `marshal.loads` does. */
  length: number;
  /** Objects read, counting each container once. */
  objects: number;
}

class MarshalFault extends Error {
  constructor(
    readonly code: MarshalErrorCode,
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

/** A value that is present in the reference list but still being read (CPython's placeholder). */
const RESERVED = Symbol("reserved");
/** TYPE_NULL, which only ends a dict. */
const NULL_OBJECT = Symbol("null");
type Slot = MarshalValue | typeof RESERVED;
type Read = MarshalValue | typeof NULL_OBJECT;

/** Reads one marshalled object from `bytes`. Never throws for bad input. */
export function readMarshal(
  bytes: Uint8Array,
  options: MarshalReadOptions = {},
): Result<MarshalRead, MarshalError> {
  const layouts = !options.layout || options.layout === "auto" ? CODE_LAYOUTS : [options.layout];
  let best: MarshalError | undefined;
  for (const layout of layouts) {
    const result = readWithLayout(bytes, layout, options);
    if (result.ok) return result;
    if (best === undefined || result.error.offset > best.offset) best = result.error;
  }
  return err(best!);
}

function readWithLayout(
  bytes: Uint8Array,
  layout: CodeLayout,
  options: MarshalReadOptions,
): Result<MarshalRead, MarshalError> {
  const maxDepth = options.maxDepth ?? MARSHAL_MAX_DEPTH;
  const maxObjects = options.maxObjects ?? MARSHAL_MAX_OBJECTS;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const refs: Slot[] = [];
  const latin1 = new TextDecoder("latin1");
  const utf8 = new TextDecoder("utf-8");
  let pos = 0;
  let depth = 0;
  let objects = 0;

  const need = (n: number, what: string) => {
    if (n < 0 || pos + n > bytes.length) {
      throw new MarshalFault(
        "truncated",
        pos,
        `the data ends inside ${what} (${n} bytes needed at offset ${pos}, ${bytes.length - pos} left)`,
      );
    }
  };
  const byte = (what: string) => {
    need(1, what);
    return bytes[pos++]!;
  };
  const int32 = (what: string) => {
    need(4, what);
    const v = view.getInt32(pos, true);
    pos += 4;
    return v;
  };
  const size = (what: string, minItemBytes: number) => {
    const at = pos;
    const n = int32(what);
    if (n < 0) throw new MarshalFault("bad-value", at, `negative ${what} (${n})`);
    if (n * minItemBytes > bytes.length - pos) {
      throw new MarshalFault(
        "truncated",
        at,
        `${what} ${n} is more than the ${bytes.length - pos} bytes left`,
      );
    }
    return n;
  };
  const take = (n: number, what: string) => {
    need(n, what);
    const out = bytes.subarray(pos, pos + n);
    pos += n;
    return out;
  };
  const floatText = (what: string): number => {
    const at = pos;
    const n = byte(what);
    const text = latin1.decode(take(n, what)).trim().toLowerCase();
    const special: Record<string, number> = {
      inf: Number.POSITIVE_INFINITY,
      "+inf": Number.POSITIVE_INFINITY,
      infinity: Number.POSITIVE_INFINITY,
      "+infinity": Number.POSITIVE_INFINITY,
      "-inf": Number.NEGATIVE_INFINITY,
      "-infinity": Number.NEGATIVE_INFINITY,
      nan: Number.NaN,
      "+nan": Number.NaN,
      "-nan": Number.NaN,
    };
    if (text in special) return special[text]!;
    const value = Number(text);
    if (text === "" || Number.isNaN(value)) {
      throw new MarshalFault("bad-value", at, `float text ${JSON.stringify(text)} is not a number`);
    }
    return value;
  };
  const float64 = (what: string) => {
    need(8, what);
    const v = view.getFloat64(pos, true);
    pos += 8;
    return v;
  };

  const reserve = (flag: boolean): number => {
    if (!flag) return -1;
    refs.push(RESERVED);
    return refs.length - 1;
  };
  const remember = <T extends MarshalValue>(value: T, flag: boolean): T => {
    if (flag) refs.push(value);
    return value;
  };
  const fill = <T extends MarshalValue>(value: T, index: number): T => {
    if (index >= 0) refs[index] = value;
    return value;
  };

  const readObject = (): Read => {
    const at = pos;
    const typeByte = byte("a type code");
    const flag = (typeByte & FLAG_REF) !== 0;
    const type = typeByte & ~FLAG_REF;
    if (++depth > maxDepth) {
      throw new MarshalFault("too-deep", at, `objects are nested deeper than ${maxDepth} levels`);
    }
    if (++objects > maxObjects) {
      throw new MarshalFault("too-many-objects", at, `more than ${maxObjects} objects`);
    }
    const info = TYPE_BY_CODE.get(type);
    if (info === undefined || info.name === "TYPE_UNKNOWN") {
      throw new MarshalFault(
        "unknown-type",
        at,
        `unknown type code 0x${typeByte.toString(16).padStart(2, "0")}`,
      );
    }
    let value: Read;
    switch (info.name) {
      case "TYPE_NULL":
        value = NULL_OBJECT;
        break;
      case "TYPE_NONE":
        value = { kind: "none" };
        break;
      case "TYPE_FALSE":
        value = { kind: "bool", value: false };
        break;
      case "TYPE_TRUE":
        value = { kind: "bool", value: true };
        break;
      case "TYPE_STOPITER":
        value = { kind: "stop-iteration" };
        break;
      case "TYPE_ELLIPSIS":
        value = { kind: "ellipsis" };
        break;
      case "TYPE_INT":
        value = remember({ kind: "int", value: BigInt(int32("an int")) }, flag);
        break;
      case "TYPE_INT64": {
        need(8, "an int64");
        const v = view.getBigInt64(pos, true);
        pos += 8;
        value = remember({ kind: "int", value: v }, flag);
        break;
      }
      case "TYPE_LONG":
        value = remember(readLong(at), flag);
        break;
      case "TYPE_FLOAT":
        value = remember({ kind: "float", value: floatText("a float") }, flag);
        break;
      case "TYPE_BINARY_FLOAT":
        value = remember({ kind: "float", value: float64("a float") }, flag);
        break;
      case "TYPE_COMPLEX": {
        const real = floatText("a complex");
        value = remember({ kind: "complex", real, imag: floatText("a complex") }, flag);
        break;
      }
      case "TYPE_BINARY_COMPLEX": {
        const real = float64("a complex");
        value = remember({ kind: "complex", real, imag: float64("a complex") }, flag);
        break;
      }
      case "TYPE_STRING": {
        const n = size("bytes length", 1);
        value = remember({ kind: "bytes", value: take(n, "a bytes object") }, flag);
        break;
      }
      case "TYPE_INTERNED":
      case "TYPE_UNICODE": {
        const n = size("str length", 1);
        value = remember({ kind: "str", value: utf8.decode(take(n, "a str")) }, flag);
        break;
      }
      case "TYPE_ASCII":
      case "TYPE_ASCII_INTERNED": {
        const n = size("str length", 1);
        value = remember({ kind: "str", value: latin1.decode(take(n, "a str")) }, flag);
        break;
      }
      case "TYPE_SHORT_ASCII":
      case "TYPE_SHORT_ASCII_INTERNED": {
        const n = byte("a str length");
        value = remember({ kind: "str", value: latin1.decode(take(n, "a str")) }, flag);
        break;
      }
      case "TYPE_SMALL_TUPLE":
      case "TYPE_TUPLE":
      case "TYPE_LIST":
      case "TYPE_SET":
      case "TYPE_FROZENSET": {
        const small = info.name === "TYPE_SMALL_TUPLE";
        const kind =
          info.name === "TYPE_LIST"
            ? "list"
            : info.name === "TYPE_SET"
              ? "set"
              : info.name === "TYPE_FROZENSET"
                ? "frozenset"
                : "tuple";
        const n = small ? byte("a tuple size") : size(`${kind} size`, 1);
        const container: MarshalValue = { kind, items: [] };
        // Tuples, lists and sets are registered before their items; non-empty frozensets get
        // a reserved slot filled afterwards (marshal.c), so an item cannot refer to them.
        const delayed = kind === "frozenset" && n > 0;
        const index = delayed ? reserve(flag) : -1;
        if (!delayed) remember(container, flag);
        for (let i = 0; i < n; i++) container.items.push(item(`${kind} item`));
        value = delayed ? fill(container, index) : container;
        break;
      }
      case "TYPE_DICT": {
        const dict: MarshalValue = { kind: "dict", entries: [] };
        remember(dict, flag);
        for (;;) {
          const key = readObject();
          if (key === NULL_OBJECT) break;
          dict.entries.push([key, item("dict value")]);
        }
        value = dict;
        break;
      }
      case "TYPE_REF": {
        const n = int32("a reference");
        const target = n >= 0 && n < refs.length ? refs[n] : undefined;
        if (target === undefined || target === RESERVED) {
          throw new MarshalFault(
            "bad-reference",
            at,
            `reference ${n} is not an object read before it (${refs.length} so far)`,
          );
        }
        value = target;
        break;
      }
      case "TYPE_CODE": {
        const index = reserve(flag);
        value = fill(readCode(at), index);
        break;
      }
      case "TYPE_SLICE": {
        const index = reserve(flag);
        const start = item("slice start");
        const stop = item("slice stop");
        value = fill({ kind: "slice", start, stop, step: item("slice step") }, index);
        break;
      }
      default:
        throw new MarshalFault("unknown-type", at, `unhandled type ${info.name}`);
    }
    depth--;
    return value;
  };

  const item = (what: string): MarshalValue => {
    const at = pos;
    const v = readObject();
    if (v === NULL_OBJECT)
      throw new MarshalFault("null", at, `NULL object in marshal data for ${what}`);
    return v;
  };

  const readLong = (at: number): MarshalValue => {
    const n = int32("a long size");
    const count = Math.abs(n);
    if (count * 2 > bytes.length - pos) {
      throw new MarshalFault("truncated", at, `long of ${count} digits is longer than the data`);
    }
    if (count > MARSHAL_MAX_LONG_DIGITS) {
      pos += count * 2;
      return { kind: "big-int", digits: count, negative: n < 0 };
    }
    let value = 0n;
    for (let i = 0; i < count; i++) {
      const digit = view.getUint16(pos + i * 2, true);
      if (digit >= 1 << 15) {
        throw new MarshalFault("bad-value", pos + i * 2, "digit out of range in long");
      }
      value |= BigInt(digit) << BigInt(15 * i);
    }
    pos += count * 2;
    return { kind: "int", value: n < 0 ? -value : value };
  };

  const field = (name: string, kind: MarshalValue["kind"]): MarshalValue => {
    const at = pos;
    const v = item(`code field ${name}`);
    if (v.kind !== kind) {
      throw new MarshalFault(
        "bad-code",
        at,
        `code object field ${name} is a ${v.kind}, not a ${kind} (${layout} layout)`,
      );
    }
    return v;
  };
  const tuple = (name: string): MarshalValue[] => {
    const v = field(name, "tuple");
    return v.kind === "tuple" ? v.items : [];
  };
  const strings = (name: string): string[] => {
    const at = pos;
    return tuple(name).map((s) => {
      if (s.kind !== "str") {
        throw new MarshalFault("bad-code", at, `code object field ${name} holds a ${s.kind}`);
      }
      return s.value;
    });
  };
  const str = (name: string): string => {
    const v = field(name, "str");
    return v.kind === "str" ? v.value : "";
  };
  const bytesField = (name: string): Uint8Array => {
    const v = field(name, "bytes");
    return v.kind === "bytes" ? v.value : new Uint8Array(0);
  };

  const readCode = (at: number): MarshalCode => {
    const argcount = int32("co_argcount");
    const posonlyargcount = layout === "py30-37" ? 0 : int32("co_posonlyargcount");
    const kwonlyargcount = int32("co_kwonlyargcount");
    if (layout !== "py311+") int32("co_nlocals");
    const stacksize = int32("co_stacksize");
    const flags = int32("co_flags");
    for (const [field, v] of [
      ["co_argcount", argcount],
      ["co_posonlyargcount", posonlyargcount],
      ["co_kwonlyargcount", kwonlyargcount],
      ["co_stacksize", stacksize],
    ] as const) {
      if (v < 0) throw new MarshalFault("bad-code", at, `${field} is negative (${v})`);
    }
    const code = bytesField("co_code");
    const consts = tuple("co_consts");
    const names = strings("co_names");
    let varnames: string[];
    let freevars: string[];
    let cellvars: string[];
    if (layout === "py311+") {
      const plusNames = strings("co_localsplusnames");
      const kindsAt = pos;
      const kinds = bytesField("co_localspluskinds");
      if (kinds.length !== plusNames.length) {
        throw new MarshalFault(
          "bad-code",
          kindsAt,
          `co_localspluskinds has ${kinds.length} entries for ${plusNames.length} names`,
        );
      }
      varnames = plusNames.filter((_, i) => (kinds[i]! & CO_FAST_LOCAL) !== 0);
      cellvars = plusNames.filter((_, i) => (kinds[i]! & CO_FAST_CELL) !== 0);
      freevars = plusNames.filter((_, i) => (kinds[i]! & CO_FAST_FREE) !== 0);
    } else {
      varnames = strings("co_varnames");
      freevars = strings("co_freevars");
      cellvars = strings("co_cellvars");
    }
    const filename = str("co_filename");
    const name = str("co_name");
    const qualname = layout === "py311+" ? str("co_qualname") : name;
    const firstlineno = int32("co_firstlineno");
    bytesField(layout === "py30-37" ? "co_lnotab" : "co_linetable");
    if (layout === "py311+") bytesField("co_exceptiontable");
    return {
      kind: "code",
      layout,
      offset: at,
      argcount,
      posonlyargcount,
      kwonlyargcount,
      stacksize,
      flags,
      code,
      consts,
      names,
      varnames,
      freevars,
      cellvars,
      filename,
      name,
      qualname,
      firstlineno,
    };
  };

  try {
    const value = item("the top-level object");
    return ok({ value, layout, length: pos, objects });
  } catch (e) {
    if (e instanceof MarshalFault) {
      return err({ code: e.code, offset: e.offset, message: e.message, layout });
    }
    if (e instanceof RangeError) {
      // A JS stack overflow on pathological nesting below maxDepth: still bad input, not a bug.
      return err({ code: "too-deep", offset: pos, message: e.message, layout });
    }
    throw e;
  }
}
