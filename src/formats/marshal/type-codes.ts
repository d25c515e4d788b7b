/**
 * CPython's marshal type codes (Python/marshal.c), as a frozen table: nothing else here.
 * The reader looks codes up in {@link TYPE_BY_CODE}; a test checks codes and names are unique.
 */

/** Set on a type byte when the object is also stored in the reference list (`r` reads it back). */
export const FLAG_REF = 0x80;

export interface MarshalTypeInfo {
  /** The type byte without {@link FLAG_REF}, as a character. */
  readonly code: string;
  /** marshal.c's name, e.g. `TYPE_CODE`. */
  readonly name: string;
  readonly description: string;
}

export const MARSHAL_TYPES: readonly MarshalTypeInfo[] = Object.freeze([
  { code: "0", name: "TYPE_NULL", description: "end of a dict's items" },
  { code: "N", name: "TYPE_NONE", description: "None" },
  { code: "F", name: "TYPE_FALSE", description: "False" },
  { code: "T", name: "TYPE_TRUE", description: "True" },
  { code: "S", name: "TYPE_STOPITER", description: "StopIteration" },
  { code: ".", name: "TYPE_ELLIPSIS", description: "Ellipsis" },
  { code: "i", name: "TYPE_INT", description: "int, signed 32-bit little-endian" },
  { code: "I", name: "TYPE_INT64", description: "int, signed 64-bit (read only, never written)" },
  { code: "f", name: "TYPE_FLOAT", description: "float as a 1-byte-length decimal string" },
  { code: "g", name: "TYPE_BINARY_FLOAT", description: "float, IEEE 754 double" },
  { code: "x", name: "TYPE_COMPLEX", description: "complex as two decimal strings" },
  { code: "y", name: "TYPE_BINARY_COMPLEX", description: "complex as two doubles" },
  { code: "l", name: "TYPE_LONG", description: "int as signed count of 15-bit digits" },
  { code: "s", name: "TYPE_STRING", description: "bytes, 32-bit length" },
  { code: "t", name: "TYPE_INTERNED", description: "str (UTF-8), interned" },
  { code: "r", name: "TYPE_REF", description: "reference to an earlier flagged object" },
  { code: "(", name: "TYPE_TUPLE", description: "tuple, 32-bit count" },
  { code: ")", name: "TYPE_SMALL_TUPLE", description: "tuple, 8-bit count" },
  { code: "[", name: "TYPE_LIST", description: "list, 32-bit count" },
  { code: "{", name: "TYPE_DICT", description: "dict: key/value pairs until TYPE_NULL" },
  { code: "c", name: "TYPE_CODE", description: "code object" },
  { code: "u", name: "TYPE_UNICODE", description: "str (UTF-8), 32-bit length" },
  { code: "?", name: "TYPE_UNKNOWN", description: "never valid in data" },
  { code: "<", name: "TYPE_SET", description: "set, 32-bit count" },
  { code: ">", name: "TYPE_FROZENSET", description: "frozenset, 32-bit count" },
  { code: "a", name: "TYPE_ASCII", description: "str (ASCII), 32-bit length" },
  { code: "A", name: "TYPE_ASCII_INTERNED", description: "str (ASCII), interned" },
  { code: "z", name: "TYPE_SHORT_ASCII", description: "str (ASCII), 8-bit length" },
  {
    code: "Z",
    name: "TYPE_SHORT_ASCII_INTERNED",
    description: "str (ASCII), 8-bit length, interned",
  },
  { code: ":", name: "TYPE_SLICE", description: "slice(start, stop, step) (Python 3.14+)" },
] as const);

/** Type info by type byte (without {@link FLAG_REF}). */
export const TYPE_BY_CODE: ReadonlyMap<number, MarshalTypeInfo> = new Map(
  MARSHAL_TYPES.map((t) => [t.code.charCodeAt(0), t]),
);

/**
 * Field layouts of a code object (`TYPE_CODE`), by the CPython versions that write them:
 * - `py30-37`: argcount, kwonlyargcount, nlocals, stacksize, flags (int32 each), code, consts,
 *   names, varnames, freevars, cellvars, filename, name, firstlineno (int32), lnotab;
 * - `py38-310`: as `py30-37` with posonlyargcount after argcount;
 * - `py311+`: argcount, posonlyargcount, kwonlyargcount, stacksize, flags, code, consts, names,
 *   localsplusnames, localspluskinds, filename, name, qualname, firstlineno, linetable,
 *   exceptiontable.
 * Marshal data carries no version, so the reader tries each layout (newest first).
 */
export const CODE_LAYOUTS = ["py311+", "py38-310", "py30-37"] as const;
export type CodeLayout = (typeof CODE_LAYOUTS)[number];

/** `co_localspluskinds` bits (Include/internal/pycore_code.h, Python 3.11+). */
export const CO_FAST_LOCAL = 0x20;
export const CO_FAST_CELL = 0x40;
export const CO_FAST_FREE = 0x80;
