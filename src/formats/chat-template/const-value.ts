/**
 * Static evaluation of the constant part of a template: what a string-building expression
 * (`'__cla' ~ 'ss__'`, `'__ssalc__'[::-1]`, `['o','s']|join`, `'%c%c'|format(95,95)`,
 * `'{}{}'.format(…)`) evaluates to, with Python's semantics, so that a name hidden by building it
 * is still seen. A value is a small set of possible constants (bounded in number and size); any
 * operation not modelled yields an unknown value, never a wrong constant.
 */

export class ConstDict {
  constructor(readonly entries: ReadonlyMap<string, Const>) {}
}

export type Const = string | number | boolean | null | readonly Const[] | ConstDict;

export interface Value {
  /** Constants the expression may evaluate to (not necessarily all of them). */
  readonly values: readonly Const[];
  /** True when `values` lists every value the expression can take. */
  readonly exact: boolean;
  /** Produced by string operations (concatenation, join, replace, slicing, format, case changes…). */
  readonly built: boolean;
  /** Notable names of the attribute chain the value came from (carried through variables). */
  readonly taint: readonly string[];
}

/** Possible constants kept per value. */
export const MAX_VARIANTS = 16;
/** Longest constant string kept (longer results are dropped, making the value inexact). */
export const MAX_CONST_LENGTH = 4096;
/** Longest constant list kept. */
export const MAX_CONST_ITEMS = 256;
const MAX_TAINT = 16;

export const UNKNOWN: Value = Object.freeze({ values: [], exact: false, built: false, taint: [] });

export function known(c: Const, built = false): Value {
  return fits(c) ? { values: [c], exact: true, built, taint: [] } : { ...UNKNOWN, built };
}

function weight(c: Const, budget: number): number {
  if (typeof c === "string") return c.length;
  if (Array.isArray(c)) {
    let w = c.length;
    for (const item of c as readonly Const[]) {
      w += weight(item, budget);
      if (w > budget) return w;
    }
    return w;
  }
  if (c instanceof ConstDict) {
    let w = c.entries.size;
    for (const [k, v] of c.entries) {
      w += k.length + weight(v, budget);
      if (w > budget) return w;
    }
    return w;
  }
  return 1;
}

function fits(c: Const): boolean {
  if (Array.isArray(c) && c.length > MAX_CONST_ITEMS) return false;
  return (
    weight(c, MAX_CONST_LENGTH * 4) <= MAX_CONST_LENGTH * 4 &&
    (typeof c !== "string" || c.length <= MAX_CONST_LENGTH)
  );
}

export function constKey(c: Const): string {
  if (c instanceof ConstDict) {
    return `{${[...c.entries].map(([k, v]) => `${JSON.stringify(k)}:${constKey(v)}`).join(",")}}`;
  }
  if (Array.isArray(c)) return `[${(c as readonly Const[]).map(constKey).join(",")}]`;
  return typeof c === "string" ? JSON.stringify(c) : String(c);
}

function collect(results: Iterable<Const | undefined>, exact: boolean, built: boolean): Value {
  const seen = new Set<string>();
  const values: Const[] = [];
  let isExact = exact;
  for (const r of results) {
    if (r === undefined || !fits(r)) {
      isExact = false;
      continue;
    }
    const key = constKey(r);
    if (seen.has(key)) continue;
    if (values.length >= MAX_VARIANTS) {
      isExact = false;
      break;
    }
    seen.add(key);
    values.push(r);
  }
  return { values, exact: isExact, built, taint: [] };
}

/** Either value: the union of their constants. */
export function union(a: Value, b: Value): Value {
  const v = collect([...a.values, ...b.values], a.exact && b.exact, a.built || b.built);
  return { ...v, taint: mergeTaint(a.taint, b.taint) };
}

export function mergeTaint(a: readonly string[], b: readonly string[]): readonly string[] {
  if (b.length === 0) return a;
  if (a.length === 0) return b;
  return [...new Set([...a, ...b])].slice(0, MAX_TAINT);
}

export function withTaint(v: Value, taint: readonly string[]): Value {
  return taint.length === 0 ? v : { ...v, taint: mergeTaint(v.taint, taint) };
}

/** Applies `f` to every combination of the operands' constants. */
export function combine(
  operands: readonly Value[],
  f: (xs: Const[]) => Const | undefined,
  built: boolean,
): Value {
  let exact = operands.every((o) => o.exact);
  if (operands.some((o) => o.values.length === 0)) return { ...UNKNOWN, built };
  let combos = 1;
  for (const o of operands) combos *= o.values.length;
  if (combos > MAX_VARIANTS * 4) exact = false;
  const results: (Const | undefined)[] = [];
  const pick = (i: number, acc: Const[]) => {
    if (results.length >= MAX_VARIANTS * 4) return;
    if (i === operands.length) {
      results.push(safely(() => f(acc)));
      return;
    }
    for (const c of operands[i]!.values) pick(i + 1, [...acc, c]);
  };
  pick(0, []);
  return collect(results, exact, built);
}

function safely(f: () => Const | undefined): Const | undefined {
  try {
    return f();
  } catch (e) {
    if (e instanceof RangeError) return undefined;
    throw e;
  }
}

// ---- Python semantics -------------------------------------------------------------------

export function pyRepr(c: Const): string {
  if (typeof c === "string") {
    const q = c.includes("'") && !c.includes('"') ? '"' : "'";
    let out = q;
    for (const ch of c) {
      if (ch === "\\") out += "\\\\";
      else if (ch === q) out += `\\${q}`;
      else if (ch === "\n") out += "\\n";
      else if (ch === "\t") out += "\\t";
      else if (ch === "\r") out += "\\r";
      else out += ch;
    }
    return out + q;
  }
  return pyStr(c);
}

/** Python's `str(c)`. */
export function pyStr(c: Const): string {
  if (typeof c === "string") return c;
  if (typeof c === "number")
    return Number.isFinite(c) ? String(c) : c > 0 ? "inf" : c < 0 ? "-inf" : "nan";
  if (typeof c === "boolean") return c ? "True" : "False";
  if (c === null) return "None";
  if (c instanceof ConstDict) {
    return `{${[...c.entries].map(([k, v]) => `${pyRepr(k)}: ${pyRepr(v)}`).join(", ")}}`;
  }
  return `[${(c as readonly Const[]).map(pyRepr).join(", ")}]`;
}

const isInt = (c: Const): c is number => typeof c === "number" && Number.isInteger(c);

function items(c: Const): readonly Const[] | undefined {
  if (typeof c === "string") return [...c];
  if (Array.isArray(c)) return c as readonly Const[];
  if (c instanceof ConstDict) return [...c.entries.keys()];
  return undefined;
}

function repeat(s: string, n: number): string | undefined {
  if (n <= 0) return "";
  return s.length * n <= MAX_CONST_LENGTH ? s.repeat(n) : undefined;
}

export function binary(op: string, a: Const, b: Const): Const | undefined {
  switch (op) {
    case "~":
      return pyStr(a) + pyStr(b);
    case "+":
      if (typeof a === "number" && typeof b === "number") return a + b;
      if (typeof a === "string" && typeof b === "string") return a + b;
      if (Array.isArray(a) && Array.isArray(b)) return [...(a as Const[]), ...(b as Const[])];
      return undefined;
    case "-":
      return typeof a === "number" && typeof b === "number" ? a - b : undefined;
    case "*":
      if (typeof a === "number" && typeof b === "number") return a * b;
      if (typeof a === "string" && isInt(b)) return repeat(a, b);
      if (isInt(a) && typeof b === "string") return repeat(b, a);
      if (Array.isArray(a) && isInt(b) && a.length * b <= MAX_CONST_ITEMS) {
        return Array.from({ length: Math.max(0, b) }, () => a as Const[]).flat();
      }
      return undefined;
    case "%":
      if (typeof a === "string") return printf(a, b);
      return typeof a === "number" && typeof b === "number" && b !== 0
        ? ((a % b) + b) % b
        : undefined;
    case "//":
      return typeof a === "number" && typeof b === "number" && b !== 0
        ? Math.floor(a / b)
        : undefined;
    case "/":
      return typeof a === "number" && typeof b === "number" && b !== 0 ? a / b : undefined;
    default:
      return undefined;
  }
}

/** Python's `fmt % args` for the conversions a name can be built with (%s %r %d %i %c %%). */
export function printf(fmt: string, args: Const): string | undefined {
  const list = Array.isArray(args)
    ? (args as readonly Const[])
    : args instanceof ConstDict
      ? undefined
      : [args];
  let next = 0;
  let out = "";
  for (let i = 0; i < fmt.length; i++) {
    const ch = fmt[i]!;
    if (ch !== "%") {
      out += ch;
      continue;
    }
    let key: string | undefined;
    if (fmt[i + 1] === "(") {
      const close = fmt.indexOf(")", i + 2);
      if (close < 0) return undefined;
      key = fmt.slice(i + 2, close);
      i = close;
    }
    const conv = fmt[i + 1];
    i++;
    if (conv === "%") {
      out += "%";
      continue;
    }
    let arg: Const | undefined;
    if (key !== undefined) {
      if (!(args instanceof ConstDict)) return undefined;
      arg = args.entries.get(key);
    } else {
      arg = list?.[next++];
    }
    if (arg === undefined) return undefined;
    if (out.length > MAX_CONST_LENGTH) return undefined;
    if (conv === "s") out += pyStr(arg);
    else if (conv === "r" || conv === "a") out += pyRepr(arg);
    else if ((conv === "d" || conv === "i") && typeof arg === "number")
      out += String(Math.trunc(arg));
    else if (conv === "c" && isInt(arg) && arg >= 0 && arg <= 0x10ffff)
      out += String.fromCodePoint(arg);
    else if (conv === "c" && typeof arg === "string" && [...arg].length === 1) out += arg;
    else return undefined;
  }
  // Python refuses leftover arguments ("not all arguments converted").
  return Array.isArray(args) && next < args.length ? undefined : out;
}

/** Python's `str.format` for plain fields (`{}`, `{0}`, `{name}`); fields with `.`/`[` are sinks. */
export function strFormat(
  fmt: string,
  args: readonly Const[],
  kwargs: ReadonlyMap<string, Const>,
): string | undefined {
  let out = "";
  let auto = 0;
  for (let i = 0; i < fmt.length; i++) {
    const ch = fmt[i]!;
    if (ch === "{" && fmt[i + 1] === "{") {
      out += "{";
      i++;
      continue;
    }
    if (ch === "}" && fmt[i + 1] === "}") {
      out += "}";
      i++;
      continue;
    }
    if (ch !== "{") {
      out += ch;
      continue;
    }
    const close = fmt.indexOf("}", i);
    if (close < 0) return undefined;
    const field = fmt.slice(i + 1, close);
    i = close;
    const m = /^([A-Za-z_][A-Za-z0-9_]*|\d*)(?:!([sra]))?$/.exec(field);
    if (!m) return undefined;
    const name = m[1]!;
    const arg =
      name === "" ? args[auto++] : /^\d+$/.test(name) ? args[Number(name)] : kwargs.get(name);
    if (arg === undefined) return undefined;
    out += m[2] === "r" || m[2] === "a" ? pyRepr(arg) : pyStr(arg);
    if (out.length > MAX_CONST_LENGTH) return undefined;
  }
  return out;
}

/** Attribute and item names used by `str.format` replacement fields (`{0.__class__}`, `{x[y]}`). */
export function formatFieldNames(fmt: string): string[] {
  const names: string[] = [];
  const fields = fmt.replace(/\{\{|\}\}/g, "").matchAll(/\{([^{}!:]*)/g);
  for (const m of fields) {
    for (const part of m[1]!.matchAll(/\.([^.[\]]*)|\[([^\]]*)\]/g)) {
      names.push(part[1] ?? part[2] ?? "");
    }
  }
  return names;
}

/** Python's `seq[index]` for strings, lists and dicts. */
export function index(a: Const, k: Const): Const | undefined {
  if (a instanceof ConstDict) return typeof k === "string" ? a.entries.get(k) : undefined;
  const seq =
    typeof a === "string" ? [...a] : Array.isArray(a) ? (a as readonly Const[]) : undefined;
  if (!seq || !isInt(k)) return undefined;
  const i = k < 0 ? seq.length + k : k;
  return i >= 0 && i < seq.length ? seq[i] : undefined;
}

/** Python's `seq[start:stop:step]`. */
export function slice(
  a: Const,
  start: Const | undefined,
  stop: Const | undefined,
  step: Const | undefined,
): Const | undefined {
  const seq =
    typeof a === "string" ? [...a] : Array.isArray(a) ? (a as readonly Const[]) : undefined;
  if (!seq) return undefined;
  const intOrNone = (c: Const | undefined) => c === undefined || c === null || isInt(c);
  if (!intOrNone(start) || !intOrNone(stop) || !intOrNone(step)) return undefined;
  const st = step === undefined || step === null ? 1 : (step as number);
  if (st === 0) return undefined;
  const n = seq.length;
  const norm = (c: Const | undefined, dflt: number, lo: number, hi: number) => {
    if (c === undefined || c === null) return dflt;
    let v = c as number;
    if (v < 0) v += n;
    return Math.min(Math.max(v, lo), hi);
  };
  const out: Const[] = [];
  if (st > 0) {
    const b = norm(start, 0, 0, n);
    const e = norm(stop, n, 0, n);
    for (let i = b; i < e; i += st) out.push(seq[i]!);
  } else {
    const b = norm(start, n - 1, -1, n - 1);
    const e = norm(stop, -1, -1, n - 1);
    for (let i = b; i > e; i += st) out.push(seq[i]!);
  }
  return typeof a === "string" ? out.join("") : out;
}

function title(s: string): string {
  return s.replace(/[A-Za-z]+/g, (w) => w[0]!.toUpperCase() + w.slice(1).toLowerCase());
}

function strip(
  s: string,
  chars: Const | undefined,
  left: boolean,
  right: boolean,
): string | undefined {
  if (chars !== undefined && chars !== null && typeof chars !== "string") return undefined;
  const set = chars === undefined || chars === null ? undefined : new Set(chars);
  const drop = (ch: string) => (set ? set.has(ch) : /\s/.test(ch));
  const cs = [...s];
  let b = 0;
  let e = cs.length;
  if (left) while (b < e && drop(cs[b]!)) b++;
  if (right) while (e > b && drop(cs[e - 1]!)) e--;
  return cs.slice(b, e).join("");
}

function replace(s: Const, old: Const, rep: Const, count: Const | undefined): Const | undefined {
  if (typeof s !== "string" || typeof old !== "string" || typeof rep !== "string") return undefined;
  let n = count === undefined || count === null ? -1 : isInt(count) ? count : undefined;
  if (n === undefined) return undefined;
  if (old === "") return undefined;
  let out = "";
  let i = 0;
  while (n !== 0) {
    const at = s.indexOf(old, i);
    if (at < 0) break;
    out += s.slice(i, at) + rep;
    i = at + old.length;
    n--;
    if (out.length > MAX_CONST_LENGTH) return undefined;
  }
  return out + s.slice(i);
}

function split(s: string, sep: Const | undefined, max: Const | undefined): Const | undefined {
  const limit = max === undefined || max === null ? -1 : isInt(max) ? max : undefined;
  if (limit === undefined) return undefined;
  if (sep === undefined || sep === null) {
    const words = s.trim().split(/\s+/).filter(Boolean);
    return limit < 0
      ? words
      : [...words.slice(0, limit), words.slice(limit).join(" ")].filter(Boolean);
  }
  if (typeof sep !== "string" || sep === "") return undefined;
  const parts = s.split(sep);
  return limit < 0 || parts.length <= limit + 1
    ? parts
    : [...parts.slice(0, limit), parts.slice(limit).join(sep)];
}

/** Joins items as Python's `sep.join(str(x) for x in items)` (Jinja's `join` converts to str). */
function join(seq: Const, sep: Const | undefined, strict: boolean): Const | undefined {
  const list = items(seq);
  if (!list || (sep !== undefined && typeof sep !== "string")) return undefined;
  if (strict && list.some((x) => typeof x !== "string")) return undefined;
  let out = "";
  for (let i = 0; i < list.length; i++) {
    out += (i > 0 ? (sep ?? "") : "") + pyStr(list[i]!);
    if (out.length > MAX_CONST_LENGTH) return undefined;
  }
  return out;
}

/**
 * Jinja filters applied to constants. Returns undefined for filters not modelled (the caller
 * then treats the result as unknown). `built` tells whether the filter builds strings.
 */
export function applyFilter(
  name: string,
  operand: Const,
  args: readonly Const[],
  kwargs: ReadonlyMap<string, Const>,
): Const | undefined {
  const [a0, a1, a2] = args;
  switch (name) {
    case "join":
      return kwargs.has("attribute") ? undefined : join(operand, a0 ?? kwargs.get("d"), false);
    case "reverse":
      return typeof operand === "string"
        ? [...operand].reverse().join("")
        : Array.isArray(operand)
          ? [...(operand as Const[])].reverse()
          : undefined;
    case "list":
      return items(operand) ? [...(items(operand) as Const[])] : undefined;
    case "string":
      return pyStr(operand);
    case "lower":
      return typeof operand === "string" ? operand.toLowerCase() : undefined;
    case "upper":
      return typeof operand === "string" ? operand.toUpperCase() : undefined;
    case "title":
      return typeof operand === "string" ? title(operand) : undefined;
    case "capitalize":
      return typeof operand === "string"
        ? operand.slice(0, 1).toUpperCase() + operand.slice(1).toLowerCase()
        : undefined;
    case "trim":
      return typeof operand === "string"
        ? strip(operand, a0 ?? kwargs.get("chars"), true, true)
        : undefined;
    case "replace":
      return a0 === undefined || a1 === undefined ? undefined : replace(operand, a0, a1, a2);
    case "format":
      return typeof operand === "string"
        ? printf(operand, kwargs.size > 0 ? new ConstDict(kwargs) : [...args])
        : undefined;
    case "first":
      return items(operand)?.[0];
    case "last":
      return items(operand)?.at(-1);
    case "default":
    case "d":
    case "safe":
      return operand;
    case "e":
    case "escape":
      return typeof operand === "string" && !/[&<>"']/.test(operand) ? operand : undefined;
    case "length":
    case "count":
      return items(operand)?.length;
    case "sort":
      return Array.isArray(operand) &&
        operand.every((x) => typeof x === "string") &&
        args.length === 0 &&
        kwargs.size === 0
        ? [...(operand as string[])].sort()
        : undefined;
    default:
      return undefined;
  }
}

/** Filters whose result is a string assembled from their input. */
export const BUILDING_FILTERS: ReadonlySet<string> = new Set([
  "join",
  "reverse",
  "list",
  "string",
  "lower",
  "upper",
  "title",
  "capitalize",
  "trim",
  "replace",
  "format",
  "first",
  "last",
  "sort",
]);

/** Python `str` methods applied to a constant receiver. */
export function callStringMethod(
  receiver: string,
  method: string,
  args: readonly Const[],
  kwargs: ReadonlyMap<string, Const>,
): Const | undefined {
  const [a0, a1, a2] = args;
  switch (method) {
    case "join":
      return a0 === undefined ? undefined : join(a0, receiver, true);
    case "replace":
      return a0 === undefined || a1 === undefined ? undefined : replace(receiver, a0, a1, a2);
    case "format":
      return strFormat(receiver, args, kwargs);
    case "format_map":
      return a0 instanceof ConstDict ? strFormat(receiver, [], a0.entries) : undefined;
    case "upper":
      return receiver.toUpperCase();
    case "lower":
    case "casefold":
      return receiver.toLowerCase();
    case "title":
      return title(receiver);
    case "capitalize":
      return receiver.slice(0, 1).toUpperCase() + receiver.slice(1).toLowerCase();
    case "swapcase":
      return [...receiver]
        .map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()))
        .join("");
    case "strip":
      return strip(receiver, a0, true, true);
    case "lstrip":
      return strip(receiver, a0, true, false);
    case "rstrip":
      return strip(receiver, a0, false, true);
    case "split":
      return split(receiver, a0 ?? kwargs.get("sep"), a1 ?? kwargs.get("maxsplit"));
    case "removeprefix":
      return typeof a0 === "string" && receiver.startsWith(a0)
        ? receiver.slice(a0.length)
        : typeof a0 === "string"
          ? receiver
          : undefined;
    case "removesuffix":
      return typeof a0 === "string" && a0 !== "" && receiver.endsWith(a0)
        ? receiver.slice(0, -a0.length)
        : typeof a0 === "string"
          ? receiver
          : undefined;
    case "startswith":
      return typeof a0 === "string" ? receiver.startsWith(a0) : undefined;
    case "endswith":
      return typeof a0 === "string" ? receiver.endsWith(a0) : undefined;
    default:
      return undefined;
  }
}

/** Methods of dictionaries (`namespace`/`dict` constants): `get`, `keys`, `values`, `items`. */
export function callDictMethod(
  receiver: ConstDict,
  method: string,
  args: readonly Const[],
): Const | undefined {
  const [a0, a1] = args;
  switch (method) {
    case "get":
      return typeof a0 === "string" ? (receiver.entries.get(a0) ?? a1 ?? null) : undefined;
    case "keys":
      return [...receiver.entries.keys()];
    case "values":
      return [...receiver.entries.values()];
    case "items":
      return [...receiver.entries].map(([k, v]) => [k, v] as const);
    default:
      return undefined;
  }
}
