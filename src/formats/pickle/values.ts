/**
 * Symbolic values of the pickle machine: what a loader would hold on its stack and memo, without
 * anything having run. Containers are bounded: they keep a count and only their first
 * {@link CONTAINER_PREVIEW} items.
 */

import type { PyInt } from "./decode-text.js";

/** Items kept per container; the rest are only counted. */
export const CONTAINER_PREVIEW = 16;

export interface SymNone {
  readonly kind: "none";
}
export interface SymBool {
  readonly kind: "bool";
  readonly value: boolean;
}
export interface SymInt {
  readonly kind: "int";
  /** `null` when the digits were too long to decode (skipped). */
  readonly value: PyInt | null;
}
export interface SymFloat {
  readonly kind: "float";
  readonly value: number;
}
export interface SymStr {
  readonly kind: "str";
  /** The text; `null` when the argument was longer than `maxDecodedArgument` and skipped. */
  readonly value: string | null;
  /** Encoded length in bytes. */
  readonly length: number;
  /**
   * Set for Python 2 strings (STRING, BINSTRING, SHORT_BINSTRING), whose text depends on the
   * loader's `encoding`. Their value is the Latin-1 reading of the bytes (one character per byte,
   * identical to ASCII/UTF-8 for ASCII text); `ascii` says whether the default `encoding="ASCII"`
   * would accept them at all.
   */
  readonly legacy?: { readonly ascii: boolean };
}
export interface SymBytes {
  readonly kind: "bytes" | "bytearray";
  /** The bytes; `null` when skipped. */
  readonly value: Uint8Array | null;
  readonly length: number;
}

/** A list, tuple, set or frozenset: the first items and the total count. */
export interface SymSequence {
  readonly kind: "list" | "tuple" | "set" | "frozenset";
  /** The first items (at most {@link CONTAINER_PREVIEW}). Lists and sets grow as the pickle appends. */
  readonly items: SymValue[];
  /** Total number of items. */
  count: number;
}

export interface SymDict {
  readonly kind: "dict";
  /** The first entries (at most {@link CONTAINER_PREVIEW}), in insertion order. */
  readonly entries: [SymValue, SymValue][];
  /** Number of keys (exact while the dict holds at most {@link CONTAINER_PREVIEW} keys, else an upper bound). */
  count: number;
}

/** What GLOBAL, STACK_GLOBAL, INST and EXT* import. The record also serves as the stack value. */
export interface SymGlobal {
  readonly kind: "global";
  /** Index in the report's `imports`. */
  readonly id: number;
  /** Index of the pickle in the stream (0 for the first). */
  readonly pickle: number;
  readonly offset: number;
  readonly opcode: "GLOBAL" | "STACK_GLOBAL" | "INST" | "EXT1" | "EXT2" | "EXT4";
  /** The module the loader imports, after Python 2 renames (`__builtin__` → `builtins`); `null` if unknown. */
  readonly module: string | null;
  /** The attribute looked up (may be dotted, e.g. `_utils._rebuild_tensor`); `null` if unknown. */
  readonly name: string | null;
  /**
   * The names as written, when the loader resolves them to another object: the Python 2
   * compatibility mapping, or a replacement (see {@link replacedBy}) that is itself an import.
   */
  readonly written?: { readonly module: string; readonly name: string };
  /**
   * False when the module or name is not a constant string we could read (STACK_GLOBAL operands
   * from a call, a skipped string, a non-ASCII Python 2 string, an int…).
   */
  readonly constant: boolean;
  /** Why the name is not constant. */
  readonly nonConstantReason?: string;
  /** The STACK_GLOBAL operands when not constant, for the pseudocode. */
  readonly operands?: { readonly module: SymValue; readonly name: SymValue };
  /** The copyreg extension code, for EXT1/EXT2/EXT4. */
  readonly extensionCode?: number;
  /**
   * Set when the pickle earlier stored something in place of this name or one of its dotted
   * prefixes: a BUILD on an imported object assigning the attribute (BUILD on module
   * `torch._utils` setting `_rebuild_tensor`), or a `sys.modules[...]` entry. The loader then gets
   * the stored value: when that is an import, `module`/`name` are resolved through it (and
   * `written` keeps the names as written); when it is the exact name, the machine pushes the
   * stored value instead of this import.
   */
  readonly replacedBy?: { readonly offset: number };
}

export type CallOpcode = "REDUCE" | "INST" | "OBJ" | "NEWOBJ" | "NEWOBJ_EX";

/**
 * A call the loader makes. REDUCE, INST, OBJ, NEWOBJ and NEWOBJ_EX push its result (this record is
 * the stack value). Calls the loader makes implicitly on an imported object — `extend`/`append`
 * (APPEND, APPENDS), `__setitem__` (SETITEM, SETITEMS), `add` (ADDITEMS) — have `method` set and push
 * nothing.
 */
export interface SymCall {
  readonly kind: "call";
  /** Index in the report's `calls`; pseudocode names the result `_var{id}`. */
  readonly id: number;
  readonly pickle: number;
  readonly offset: number;
  readonly opcode: CallOpcode | "APPEND" | "APPENDS" | "SETITEM" | "SETITEMS" | "ADDITEMS";
  /** What is called: for NEWOBJ/NEWOBJ_EX the class whose `__new__` runs; for `method` calls, the object. */
  readonly callable: SymValue;
  /** The positional arguments (usually a tuple). */
  readonly args: SymValue;
  /** NEWOBJ_EX's keyword arguments. */
  readonly kwargs?: SymValue;
  /** For implicit method calls: the method the loader looks up on `callable`. */
  readonly method?: "extend" | "append" | "__setitem__" | "add";
}

/** BUILD: `target.__setstate__(state)`, or the default `__dict__`/slot update. */
export interface SymBuild {
  readonly kind: "build";
  readonly id: number;
  readonly pickle: number;
  readonly offset: number;
  readonly target: SymValue;
  readonly state: SymValue;
}

/** What PERSID/BINPERSID push: the result of the loader's `persistent_load(pid)`. */
export interface SymPersistent {
  readonly kind: "persistent-id";
  /** Index in the report's `persistentIds`. */
  readonly id: number;
  readonly pickle: number;
  readonly offset: number;
  readonly opcode: "PERSID" | "BINPERSID";
  /** The persistent id: a str for PERSID; any value for BINPERSID (PyTorch: a tuple). */
  readonly pid: SymValue;
}

/** NEXT_BUFFER: an out-of-band buffer supplied by the loader's caller. */
export interface SymBuffer {
  readonly kind: "buffer";
  readonly offset: number;
  readonly readonly: boolean;
  /** 0-based number of the buffer among this pickle's NEXT_BUFFERs. */
  readonly index: number;
}

export type SymValue =
  | SymNone
  | SymBool
  | SymInt
  | SymFloat
  | SymStr
  | SymBytes
  | SymSequence
  | SymDict
  | SymGlobal
  | SymCall
  | SymPersistent
  | SymBuffer;

export const NONE: SymNone = Object.freeze({ kind: "none" });
export const TRUE: SymBool = Object.freeze({ kind: "bool", value: true });
export const FALSE: SymBool = Object.freeze({ kind: "bool", value: false });

/** Small ints are shared, as CPython shares them; others are fresh. */
const SMALL_INTS: readonly SymInt[] = Object.freeze(
  Array.from({ length: 262 }, (_, i) => Object.freeze({ kind: "int", value: i - 5 }) as SymInt),
);

export function symInt(value: PyInt | null): SymInt {
  if (typeof value === "number" && value >= -5 && value <= 256) return SMALL_INTS[value + 5]!;
  return { kind: "int", value };
}

/** The string value when `v` is a str we could read, else `undefined`. */
export function constantString(v: SymValue): string | undefined {
  return v.kind === "str" && v.value !== null ? v.value : undefined;
}

/** Appends to a bounded sequence: counts always, keeps only the first items. */
export function pushItem(seq: SymSequence, item: SymValue): void {
  if (seq.items.length < CONTAINER_PREVIEW) seq.items.push(item);
  seq.count++;
}

const sameConstant = (a: SymValue, b: SymValue): boolean =>
  (a.kind === "str" && b.kind === "str" && a.value !== null && a.value === b.value) ||
  (a.kind === "int" && b.kind === "int" && a.value !== null && a.value === b.value);

/**
 * `dict[key] = value` on a bounded dict: a key equal to a kept one (same object, or the same
 * constant str/int) replaces its value; otherwise the entry is kept if there is room and counted.
 */
export function setEntry(dict: SymDict, key: SymValue, value: SymValue): void {
  for (const entry of dict.entries) {
    if (entry[0] === key || sameConstant(entry[0], key)) {
      entry[1] = value;
      return;
    }
  }
  if (dict.entries.length < CONTAINER_PREVIEW) dict.entries.push([key, value]);
  dict.count++;
}
