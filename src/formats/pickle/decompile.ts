/**
 * Renders symbolic pickle values as Python-like pseudocode (DESIGN.md principle 6).
 *
 * The stable forms:
 * - a call statement: `_var{id} = module.name(arg, …)` where `id` is the call's index in the report
 *   (`_var0 = os.system("touch /tmp/x")`); NEWOBJ: `_var1 = cls.__new__(cls, …)`; NEWOBJ_EX adds
 *   `**kwargs` or `key=value`;
 * - a call result used later is `_var{id}` in listings; in evidence (`inline: true`) it is nested:
 *   `_var2 = builtins.getattr(builtins.__import__("builtins"), "eval")`;
 * - BUILD: `target.__setstate__(state)`; on an imported object with a dict state, attribute
 *   assignments `module.name.attr = value`;
 * - implicit calls on an imported object: `target[key] = value`, `target.extend([…])`, `target.add(x)`;
 * - a non-constant import: `find_class(<module expr>, <name expr>)`; an extension code:
 *   `find_class(*copyreg._inverted_registry[code])`; a persistent id: `persistent_load(pid)`;
 * - strings use double quotes and Python escapes; long ones are cut: `"abc…"(+997 chars)`; skipped
 *   ones read `<str of 3000000 bytes, not read>`; containers show their first items and the total:
 *   `[1, 2, 3, … 10000000 items]`;
 * - every rendering is cut at `maxLength` characters, ending in `…`.
 */

import { DEFAULT_LIMITS } from "../../core/limits.js";
import type { SymBuild, SymCall, SymGlobal, SymValue } from "./values.js";

export interface RenderOptions {
  /** Render call results as nested expressions instead of `_var{id}`. @default false */
  inline?: boolean;
  /** Cut the text at this many characters. @default DEFAULT_LIMITS.maxPseudocodeLength */
  maxLength?: number;
  /** Nesting depth rendered before eliding with `…`. @default 6 */
  maxDepth?: number;
  /** Container items shown. @default 8 */
  maxItems?: number;
  /** String characters shown. @default 120 */
  maxString?: number;
}

interface Settings {
  inline: boolean;
  maxLength: number;
  maxDepth: number;
  maxItems: number;
  maxString: number;
}

const settings = (o: RenderOptions = {}): Settings => ({
  inline: o.inline ?? false,
  maxLength: Math.max(8, o.maxLength ?? DEFAULT_LIMITS.maxPseudocodeLength),
  maxDepth: o.maxDepth ?? 6,
  maxItems: o.maxItems ?? 20,
  maxString: o.maxString ?? 120,
});

/** Accumulates text up to a budget; rendering stops early once it is spent. */
class Writer {
  private readonly parts: string[] = [];
  private length = 0;
  full = false;

  constructor(private readonly max: number) {}

  put(text: string): void {
    if (this.full) return;
    this.parts.push(text);
    this.length += text.length;
    if (this.length > this.max) this.full = true;
  }

  text(): string {
    const s = this.parts.join("");
    return s.length > this.max ? `${s.slice(0, this.max - 1)}…` : s;
  }
}

/** Characters shown escaped: controls, invisible and bidirectional formatting, lone surrogates. */
function isUnsafeCodeUnit(cp: number): boolean {
  return (
    cp <= 0x1f ||
    (cp >= 0x7f && cp <= 0x9f) ||
    cp === 0xad ||
    (cp >= 0x200b && cp <= 0x200f) ||
    (cp >= 0x2028 && cp <= 0x202e) ||
    (cp >= 0x2060 && cp <= 0x2069) ||
    cp === 0xfeff ||
    (cp >= 0xd800 && cp <= 0xdfff)
  );
}

function escapeChar(ch: string): string {
  switch (ch) {
    case "\\":
      return "\\\\";
    case '"':
      return '\\"';
    case "\n":
      return "\\n";
    case "\r":
      return "\\r";
    case "\t":
      return "\\t";
  }
  const cp = ch.charCodeAt(0);
  if (!isUnsafeCodeUnit(cp)) return ch;
  return cp <= 0xff
    ? `\\x${cp.toString(16).padStart(2, "0")}`
    : `\\u${cp.toString(16).padStart(4, "0")}`;
}

/** A Python string literal in double quotes, cut after `maxChars` characters. */
export function pyString(text: string, maxChars = 120): string {
  const shown = text.length > maxChars ? text.slice(0, maxChars) : text;
  let out = '"';
  for (const ch of shown) {
    // Iterating by code point keeps pairs together; lone surrogates come out as one unit.
    out += ch.length === 1 ? escapeChar(ch) : ch;
  }
  out += text.length > maxChars ? `…"(+${text.length - maxChars} chars)` : '"';
  return out;
}

/** A Python bytes literal, cut after `maxBytes` bytes. */
export function pyBytes(bytes: Uint8Array, maxBytes = 120): string {
  let out = 'b"';
  const n = Math.min(bytes.length, maxBytes);
  for (let i = 0; i < n; i++) {
    const b = bytes[i]!;
    if (b === 0x5c) out += "\\\\";
    else if (b === 0x22) out += '\\"';
    else if (b === 0x0a) out += "\\n";
    else if (b === 0x0d) out += "\\r";
    else if (b === 0x09) out += "\\t";
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += `\\x${b.toString(16).padStart(2, "0")}`;
  }
  out += bytes.length > maxBytes ? `…"(+${bytes.length - maxBytes} bytes)` : '"';
  return out;
}

function pyFloat(value: number): string {
  if (Number.isNaN(value)) return 'float("nan")';
  if (value === Number.POSITIVE_INFINITY) return 'float("inf")';
  if (value === Number.NEGATIVE_INFINITY) return 'float("-inf")';
  if (Object.is(value, -0)) return "-0.0";
  const s = String(value);
  return /[.e]/.test(s) ? s : `${s}.0`;
}

function pyInt(value: number | bigint): string {
  const s = value.toString();
  return s.length > 60 ? `${s.slice(0, 40)}…(${s.length} digits)` : s;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `module.name` for a constant import; the loader's lookup otherwise. */
function writeGlobal(w: Writer, g: SymGlobal, s: Settings, depth: number): void {
  if (g.extensionCode !== undefined) {
    w.put(`find_class(*copyreg._inverted_registry[${g.extensionCode}])`);
    return;
  }
  if (g.constant && g.module !== null && g.name !== null) {
    w.put(`${g.module}.${g.name}`);
    return;
  }
  w.put("find_class(");
  if (g.operands) writeValue(w, g.operands.module, s, depth + 1);
  else w.put(g.module === null ? "?" : pyString(g.module, s.maxString));
  w.put(", ");
  if (g.operands) writeValue(w, g.operands.name, s, depth + 1);
  else w.put(g.name === null ? "?" : pyString(g.name, s.maxString));
  w.put(")");
}

function writeItems(
  w: Writer,
  items: readonly SymValue[],
  count: number,
  s: Settings,
  depth: number,
) {
  const shown = Math.min(items.length, s.maxItems);
  for (let i = 0; i < shown && !w.full; i++) {
    if (i > 0) w.put(", ");
    writeValue(w, items[i]!, s, depth + 1);
  }
  if (count > shown) w.put(`${shown > 0 ? ", " : ""}… ${count} items`);
}

function writeValue(w: Writer, v: SymValue, s: Settings, depth: number): void {
  if (w.full) return;
  if (depth > s.maxDepth) {
    w.put(v.kind === "call" ? `_var${v.id}` : "…");
    return;
  }
  switch (v.kind) {
    case "none":
      w.put("None");
      return;
    case "bool":
      w.put(v.value ? "True" : "False");
      return;
    case "int":
      w.put(v.value === null ? "<int too long to read>" : pyInt(v.value));
      return;
    case "float":
      w.put(pyFloat(v.value));
      return;
    case "str":
      w.put(
        v.value === null ? `<str of ${v.length} bytes, not read>` : pyString(v.value, s.maxString),
      );
      return;
    case "bytes":
    case "bytearray": {
      const lit =
        v.value === null
          ? `<${v.kind} of ${v.length} bytes, not read>`
          : // Bytes are shown briefly (each byte may take four characters): the strings around
            // them, such as a code object's constants, say more about what loading does.
            pyBytes(v.value, Math.min(s.maxString, 24));
      w.put(v.kind === "bytearray" && v.value !== null ? `bytearray(${lit})` : lit);
      return;
    }
    case "list":
      w.put("[");
      writeItems(w, v.items, v.count, s, depth);
      w.put("]");
      return;
    case "tuple":
      w.put("(");
      writeItems(w, v.items, v.count, s, depth);
      w.put(v.count === 1 ? ",)" : ")");
      return;
    case "set":
    case "frozenset":
      if (v.count === 0) {
        w.put(v.kind === "set" ? "set()" : "frozenset()");
        return;
      }
      w.put(v.kind === "set" ? "{" : "frozenset({");
      writeItems(w, v.items, v.count, s, depth);
      w.put(v.kind === "set" ? "}" : "})");
      return;
    case "dict": {
      w.put("{");
      const shown = Math.min(v.entries.length, s.maxItems);
      for (let i = 0; i < shown && !w.full; i++) {
        if (i > 0) w.put(", ");
        const [key, value] = v.entries[i]!;
        writeValue(w, key, s, depth + 1);
        w.put(": ");
        writeValue(w, value, s, depth + 1);
      }
      if (v.count > shown) w.put(`${shown > 0 ? ", " : ""}… ${v.count} items`);
      w.put("}");
      return;
    }
    case "global":
      writeGlobal(w, v, s, depth);
      return;
    case "call":
      if (s.inline && v.method === undefined) writeCallExpression(w, v, s, depth);
      else w.put(`_var${v.id}`);
      return;
    case "persistent-id":
      w.put("persistent_load(");
      writeValue(w, v.pid, s, depth + 1);
      w.put(")");
      return;
    case "buffer":
      w.put(`out_of_band_buffer(${v.index})${v.readonly ? ".toreadonly()" : ""}`);
      return;
  }
}

/** The arguments of a call, without parentheses: `a, b` or `*args`. */
function writeArguments(w: Writer, args: SymValue, s: Settings, depth: number, leading: boolean) {
  if (args.kind === "tuple") {
    if (args.count === 0) return;
    if (leading) w.put(", ");
    writeItems(w, args.items, args.count, s, depth);
    return;
  }
  if (leading) w.put(", ");
  w.put("*");
  writeValue(w, args, s, depth + 1);
}

function writeKeywordArguments(w: Writer, kwargs: SymValue, s: Settings, depth: number) {
  if (kwargs.kind === "dict") {
    const shown = Math.min(kwargs.entries.length, s.maxItems);
    for (let i = 0; i < shown && !w.full; i++) {
      const [key, value] = kwargs.entries[i]!;
      w.put(", ");
      if (key.kind === "str" && key.value !== null && IDENTIFIER.test(key.value)) {
        w.put(`${key.value}=`);
        writeValue(w, value, s, depth + 1);
      } else {
        w.put("**{");
        writeValue(w, key, s, depth + 1);
        w.put(": ");
        writeValue(w, value, s, depth + 1);
        w.put("}");
      }
    }
    if (kwargs.count > shown) w.put(`, … ${kwargs.count} keyword arguments`);
    return;
  }
  w.put(", **");
  writeValue(w, kwargs, s, depth + 1);
}

/** The callee of a call: an import, a call result, or any other value. */
function writeCallee(w: Writer, callee: SymValue, s: Settings, depth: number): void {
  const needsParens =
    callee.kind !== "global" && callee.kind !== "call" && callee.kind !== "persistent-id";
  if (needsParens) w.put("(");
  writeValue(w, callee, s, depth + 1);
  if (needsParens) w.put(")");
}

function writeCallExpression(w: Writer, call: SymCall, s: Settings, depth: number): void {
  switch (call.opcode) {
    case "NEWOBJ":
    case "NEWOBJ_EX":
      writeCallee(w, call.callable, s, depth);
      w.put(".__new__(");
      writeCallee(w, call.callable, s, depth);
      writeArguments(w, call.args, s, depth, true);
      if (call.kwargs) writeKeywordArguments(w, call.kwargs, s, depth);
      w.put(")");
      return;
    case "REDUCE":
    case "INST":
    case "OBJ":
      writeCallee(w, call.callable, s, depth);
      w.put("(");
      writeArguments(w, call.args, s, depth, false);
      w.put(")");
      return;
    default:
      writeMethodCall(w, call, s, depth);
  }
}

/** Implicit calls on an imported object: `x[k] = v`, `x.extend([…])`, `x.add(v)`. */
function writeMethodCall(w: Writer, call: SymCall, s: Settings, depth: number): void {
  const args = call.args;
  if (call.method === "__setitem__" && args.kind === "dict") {
    const shown = Math.min(args.entries.length, s.maxItems);
    for (let i = 0; i < shown && !w.full; i++) {
      if (i > 0) w.put("; ");
      const [key, value] = args.entries[i]!;
      writeCallee(w, call.callable, s, depth);
      w.put("[");
      writeValue(w, key, s, depth + 1);
      w.put("] = ");
      writeValue(w, value, s, depth + 1);
    }
    if (args.count > shown) w.put(`; … ${args.count} items`);
    return;
  }
  if (call.method === "add" && (args.kind === "tuple" || args.kind === "list")) {
    const shown = Math.min(args.items.length, s.maxItems);
    for (let i = 0; i < shown && !w.full; i++) {
      if (i > 0) w.put("; ");
      writeCallee(w, call.callable, s, depth);
      w.put(".add(");
      writeValue(w, args.items[i]!, s, depth + 1);
      w.put(")");
    }
    if (args.count > shown) w.put(`; … ${args.count} items`);
    return;
  }
  writeCallee(w, call.callable, s, depth);
  w.put(`.${call.method ?? "extend"}(`);
  writeValue(w, args, s, depth + 1);
  w.put(")");
}

/** Any symbolic value as an expression. */
export function renderValue(value: SymValue, options?: RenderOptions): string {
  const s = settings(options);
  const w = new Writer(s.maxLength);
  writeValue(w, value, s, 0);
  return w.text();
}

/** An import as an expression: `os.system`, `find_class(_var3, "system")`. */
export function renderGlobal(g: SymGlobal, options?: RenderOptions): string {
  const s = settings(options);
  const w = new Writer(s.maxLength);
  writeGlobal(w, g, s, 0);
  return w.text();
}

/** An import as a statement, for evidence of a global that is never called: `from os import system`. */
export function renderImport(g: SymGlobal, options?: RenderOptions): string {
  if (g.constant && g.module !== null && g.name !== null && g.extensionCode === undefined) {
    const [head] = g.name.split(".");
    const tail = g.name.includes(".") ? `  # then .${g.name.slice(head!.length + 1)}` : "";
    const s = settings(options);
    const w = new Writer(s.maxLength);
    w.put(`from ${g.module} import ${head}${tail}`);
    return w.text();
  }
  return `_import = ${renderGlobal(g, options)}`;
}

/** A call as a statement: `_var0 = os.system("touch /tmp/x")`, or an implicit method call. */
export function renderCall(call: SymCall, options?: RenderOptions): string {
  const s = settings(options);
  const w = new Writer(s.maxLength);
  if (call.method === undefined) w.put(`_var${call.id} = `);
  writeCallExpression(w, call, s, 0);
  return w.text();
}

/** BUILD as a statement: `_var2.__setstate__({…})`, or attribute assignments on an import. */
export function renderBuild(build: SymBuild, options?: RenderOptions): string {
  const s = settings(options);
  const w = new Writer(s.maxLength);
  const { target, state } = build;
  if (target.kind === "global" && state.kind === "dict" && state.count > 0) {
    const allNames = state.entries.every(([k]) => k.kind === "str" && k.value !== null);
    if (allNames) {
      const shown = Math.min(state.entries.length, s.maxItems);
      for (let i = 0; i < shown && !w.full; i++) {
        if (i > 0) w.put("; ");
        const [key, value] = state.entries[i]!;
        const attr = key.kind === "str" ? (key.value ?? "?") : "?";
        writeGlobal(w, target, s, 0);
        if (IDENTIFIER.test(attr)) w.put(`.${attr} = `);
        else w.put(`.__dict__[${pyString(attr, s.maxString)}] = `);
        writeValue(w, value, s, 1);
      }
      if (state.count > shown) w.put(`; … ${state.count} attributes`);
      return w.text();
    }
  }
  writeCallee(w, target, s, 0);
  w.put(".__setstate__(");
  writeValue(w, state, s, 1);
  w.put(")");
  return w.text();
}
