import type { CodeLayout } from "./type-codes.js";

/**
 * A value read from marshal data, as data: nothing is ever constructed or run. Containers read
 * through a back-reference share the same JS object, so a crafted stream can build a cycle
 * (a tuple holding itself): walkers must keep a visited set.
 */
export type MarshalValue =
  | { kind: "none" }
  | { kind: "bool"; value: boolean }
  | { kind: "ellipsis" }
  | { kind: "stop-iteration" }
  | { kind: "int"; value: bigint }
  /** An int too long to convert (see `MARSHAL_MAX_LONG_DIGITS`); only its size is kept. */
  | { kind: "big-int"; digits: number; negative: boolean }
  | { kind: "float"; value: number }
  | { kind: "complex"; real: number; imag: number }
  | { kind: "str"; value: string }
  | { kind: "bytes"; value: Uint8Array }
  | { kind: "tuple" | "list" | "set" | "frozenset"; items: MarshalValue[] }
  | { kind: "dict"; entries: [MarshalValue, MarshalValue][] }
  | { kind: "slice"; start: MarshalValue; stop: MarshalValue; step: MarshalValue }
  | MarshalCode;

/** A code object's fields, normalised across layouts (see `CODE_LAYOUTS`). */
export interface MarshalCode {
  kind: "code";
  layout: CodeLayout;
  /** Offset of the `c` type byte in the input. */
  offset: number;
  argcount: number;
  posonlyargcount: number;
  kwonlyargcount: number;
  stacksize: number;
  flags: number;
  /** The bytecode; never interpreted. */
  code: Uint8Array;
  consts: MarshalValue[];
  /** `co_names`: globals, attributes and imported names the bytecode uses. */
  names: string[];
  /** `co_varnames` (3.11+: the locals among `co_localsplusnames`). */
  varnames: string[];
  freevars: string[];
  cellvars: string[];
  filename: string;
  name: string;
  /** `co_qualname` (3.11+), else the name. */
  qualname: string;
  firstlineno: number;
}

export type MarshalKind = MarshalValue["kind"];
