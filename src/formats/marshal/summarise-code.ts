import type { MarshalCode, MarshalValue } from "./marshal-value.js";

/** What a code object (and every code object nested in its constants) names and holds. */
export interface CodeSummary {
  /** The outer code object's `co_name`, e.g. `<lambda>`. */
  name: string;
  qualname: string;
  filename: string;
  firstlineno: number;
  /** Parameter names of the outer code object, in order. */
  args: string[];
  /** `co_names` of every code object: the globals, attributes and modules the bytecode uses. */
  names: string[];
  /** `str` constants of every code object (also inside constant tuples and frozensets). */
  strings: string[];
  /** `bytes` constants, as Python `repr`-style text (`b'...'`). */
  bytes: string[];
  /** Local variable names of every code object. */
  varnames: string[];
  /** Code objects seen, the outer one included. */
  codeObjects: number;
  /** Names (`co_name`) of the nested code objects: inner functions, lambdas, comprehensions. */
  nested: string[];
  /** A list reached `maxItems` and more was left out. */
  truncated: boolean;
}

export interface SummariseOptions {
  /** Most entries kept per list. @default 256 */
  maxItems?: number;
  /** Longest string kept; longer ones end in `…`. @default 1000 */
  maxStringLength?: number;
  /** Most code objects visited. @default 10_000 */
  maxCodeObjects?: number;
}

/**
 * Lists what a code object uses — names, constants, nested code — without disassembling its
 * bytecode. Shared and cyclic structures (back-references) are visited once.
 */
export function summariseCode(code: MarshalCode, options: SummariseOptions = {}): CodeSummary {
  const maxItems = options.maxItems ?? 256;
  const maxString = options.maxStringLength ?? 1000;
  const maxCode = options.maxCodeObjects ?? 10_000;
  const names = new Set<string>();
  const strings = new Set<string>();
  const bytes = new Set<string>();
  const varnames = new Set<string>();
  const nested: string[] = [];
  let truncated = false;
  let codeObjects = 0;
  const seen = new Set<MarshalValue>();

  const add = (set: Set<string>, text: string) => {
    if (set.has(text)) return;
    if (set.size >= maxItems) {
      truncated = true;
      return;
    }
    set.add(text.length > maxString ? `${text.slice(0, maxString)}…` : text);
  };

  const stack: MarshalValue[] = [code];
  while (stack.length > 0) {
    const v = stack.pop()!;
    if (seen.has(v)) continue;
    seen.add(v);
    switch (v.kind) {
      case "code":
        if (++codeObjects > maxCode) {
          truncated = true;
          break;
        }
        if (v !== code) {
          if (nested.length < maxItems) nested.push(v.qualname);
          else truncated = true;
        }
        for (const n of v.names) add(names, n);
        for (const n of v.varnames) add(varnames, n);
        // Constants in order: push reversed so the stack pops them first to last.
        for (let i = v.consts.length - 1; i >= 0; i--) stack.push(v.consts[i]!);
        break;
      case "str":
        add(strings, v.value);
        break;
      case "bytes":
        add(bytes, bytesRepr(v.value.subarray(0, maxString)));
        break;
      case "tuple":
      case "list":
      case "set":
      case "frozenset":
        for (let i = v.items.length - 1; i >= 0; i--) stack.push(v.items[i]!);
        break;
      case "dict":
        for (let i = v.entries.length - 1; i >= 0; i--)
          stack.push(v.entries[i]![1], v.entries[i]![0]);
        break;
      case "slice":
        stack.push(v.step, v.stop, v.start);
        break;
      default:
        break;
    }
  }

  return {
    name: code.name,
    qualname: code.qualname,
    filename: code.filename,
    firstlineno: code.firstlineno,
    args: code.varnames.slice(0, code.argcount + code.kwonlyargcount),
    names: [...names],
    strings: [...strings],
    bytes: [...bytes],
    varnames: [...varnames],
    codeObjects: Math.min(codeObjects, maxCode),
    nested,
    truncated,
  };
}

/** Python-style `repr` of bytes: printable ASCII as is, the rest as `\xNN`. */
export function bytesRepr(value: Uint8Array): string {
  let out = "b'";
  for (const b of value) {
    if (b === 0x5c) out += "\\\\";
    else if (b === 0x27) out += "\\'";
    else if (b === 0x0a) out += "\\n";
    else if (b === 0x0d) out += "\\r";
    else if (b === 0x09) out += "\\t";
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += `\\x${b.toString(16).padStart(2, "0")}`;
  }
  return `${out}'`;
}
