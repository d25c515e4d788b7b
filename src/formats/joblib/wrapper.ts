/**
 * joblib's array placeholders as the symbolic machine sees them: which BUILD targets are
 * instances of a wrapper class, and what attributes each instance holds when its BUILD runs.
 *
 * joblib (`numpy_pickle.py`) pickles each array as a `NumpyArrayWrapper` (or, before 0.10, an
 * `NDArrayWrapper`/`ZNDArrayWrapper` pointing at a companion file) and its `NumpyUnpickler.load_build`
 * checks `isinstance(stack[-1], (NDArrayWrapper, NumpyArrayWrapper))` after every BUILD. The
 * attributes come from `__init__` (when the pickle calls the class) and from each BUILD's state:
 * pickle.py's default `load_build` updates `__dict__` from a dict state and `setattr`s a slot state.
 */

import type { SymCall, SymDict, SymValue } from "../pickle/values.js";
import { FALSE, symInt, TRUE } from "../pickle/values.js";

/** `NumpyArrayWrapper` (inline data), `NDArrayWrapper` / `ZNDArrayWrapper` (companion file). */
export type WrapperKind = "NumpyArrayWrapper" | "NDArrayWrapper" | "ZNDArrayWrapper";

const WRAPPER_KINDS: readonly WrapperKind[] = [
  "NumpyArrayWrapper",
  "NDArrayWrapper",
  "ZNDArrayWrapper",
];

/**
 * Modules a wrapper class can be imported from: joblib's own, its compat module (which the old
 * classes live in and `numpy_pickle` re-exports), and scikit-learn's old vendored copy.
 */
const WRAPPER_MODULES: Readonly<Record<WrapperKind, readonly string[]>> = {
  NumpyArrayWrapper: ["joblib.numpy_pickle", "sklearn.externals.joblib.numpy_pickle"],
  NDArrayWrapper: [
    "joblib.numpy_pickle",
    "joblib.numpy_pickle_compat",
    "sklearn.externals.joblib.numpy_pickle",
    "sklearn.externals.joblib.numpy_pickle_compat",
  ],
  ZNDArrayWrapper: [
    "joblib.numpy_pickle",
    "joblib.numpy_pickle_compat",
    "sklearn.externals.joblib.numpy_pickle",
    "sklearn.externals.joblib.numpy_pickle_compat",
  ],
};

/** `__init__` parameters of each wrapper class, with the defaults of the optional ones. */
const INIT_PARAMETERS: Readonly<
  Record<WrapperKind, { names: readonly string[]; required: number; defaults: SymValue[] }>
> = {
  NumpyArrayWrapper: {
    names: ["subclass", "shape", "order", "dtype", "allow_mmap", "numpy_array_alignment_bytes"],
    required: 4,
    defaults: [FALSE, symInt(16)],
  },
  NDArrayWrapper: { names: ["filename", "subclass", "allow_mmap"], required: 2, defaults: [TRUE] },
  ZNDArrayWrapper: { names: ["filename", "init_args", "state"], required: 3, defaults: [] },
};

/**
 * Attribute names that change how joblib reads the array if a state sets them on the instance
 * (instance attributes shadow the class's methods; `__class__`/`__dict__` through a slot state
 * replace the class or all attributes).
 */
const CONTROL_ATTRIBUTES: ReadonlySet<string> = new Set([
  "read",
  "read_array",
  "read_mmap",
  "safe_get_numpy_array_alignment_bytes",
  "__setstate__",
  "__class__",
  "__dict__",
  "__getattr__",
  "__getattribute__",
]);

/** The wrapper class `v` is, when it is an import of one. */
export function wrapperClassOf(v: SymValue): WrapperKind | undefined {
  if (v.kind !== "global" || !v.constant || v.module === null || v.name === null) return undefined;
  for (const kind of WRAPPER_KINDS) {
    if (v.name === kind && WRAPPER_MODULES[kind].includes(v.module)) return kind;
  }
  return undefined;
}

/** Where a BUILD target comes from, as far as joblib's `isinstance` check goes. */
export type TargetClass =
  /** An instance of a wrapper class; `init` holds `__init__`'s arguments when it ran. */
  | { kind: "wrapper"; wrapper: WrapperKind; init?: SymValue }
  /** Not a wrapper instance (a known other class, a function's result, a container…). */
  | { kind: "other" }
  /** An instance of a class that is not a constant name: it may be a wrapper. */
  | { kind: "unknown"; reason: string };

/** Callables that create an instance of the class given as their first argument. */
const INSTANCE_FACTORIES: ReadonlySet<string> = new Set([
  "copyreg._reconstructor",
  "copyreg.__newobj__",
  "copyreg.__newobj_ex__",
  "builtins.object.__new__",
]);

const OTHER: TargetClass = { kind: "other" };

const constantName = (v: SymValue): string | undefined =>
  v.kind === "global" && v.constant && v.module !== null && v.name !== null
    ? `${v.module}.${v.name}`
    : undefined;

const isNonConstantImport = (v: SymValue): boolean => v.kind === "global" && !v.constant;

/** The class of an instance whose class value is `cls`. */
function classOf(cls: SymValue, init: SymValue | undefined, how: string): TargetClass {
  const wrapper = wrapperClassOf(cls);
  if (wrapper)
    return init === undefined ? { kind: "wrapper", wrapper } : { kind: "wrapper", wrapper, init };
  if (cls.kind === "global" && cls.constant) return OTHER;
  return {
    kind: "unknown",
    reason:
      cls.kind === "global"
        ? `${how} an instance of a class imported by a name that is not a constant`
        : `${how} an instance of a class that is not an import (${cls.kind})`,
  };
}

/** Arguments as a fully known tuple, or `undefined`. */
export function knownItems(v: SymValue): SymValue[] | undefined {
  return v.kind === "tuple" && v.count === v.items.length ? v.items : undefined;
}

/**
 * Which class a BUILD target is an instance of, when the pickle made it: NEWOBJ/NEWOBJ_EX
 * (`cls.__new__`), OBJ/INST (`cls(*args)`, or `cls.__new__` without arguments), REDUCE of the
 * class itself (`cls(*args)`) or of copyreg's instance factories (`_reconstructor`, `__newobj__`).
 */
export function targetClass(target: SymValue): TargetClass {
  if (target.kind !== "call" || target.method !== undefined) return OTHER;
  return callClass(target);
}

function callClass(call: SymCall): TargetClass {
  switch (call.opcode) {
    case "NEWOBJ":
    case "NEWOBJ_EX":
      return classOf(call.callable, undefined, `${call.opcode} makes`);
    case "OBJ":
    case "INST": {
      const args = knownItems(call.args);
      const init = args === undefined || args.length > 0 ? call.args : undefined;
      return classOf(call.callable, init, `${call.opcode} makes`);
    }
    case "REDUCE": {
      const callable = call.callable;
      if (wrapperClassOf(callable)) return classOf(callable, call.args, "REDUCE makes");
      const name = constantName(callable);
      if (name !== undefined && INSTANCE_FACTORIES.has(name)) {
        const cls = knownItems(call.args)?.[0];
        if (cls === undefined) {
          return {
            kind: "unknown",
            reason: `${name} is called with arguments modelvet cannot read`,
          };
        }
        return classOf(cls, undefined, `${name} makes`);
      }
      if (isNonConstantImport(callable)) {
        return {
          kind: "unknown",
          reason:
            "REDUCE calls an import whose name is not a constant, which may be a wrapper class",
        };
      }
      return OTHER;
    }
    default:
      return OTHER;
  }
}

/** A wrapper instance's attributes as the loader holds them. */
export interface WrapperAttributes {
  readonly wrapper: WrapperKind;
  readonly values: Map<string, SymValue>;
  /** Set when some attribute may hold something modelvet cannot know. */
  unknown?: string;
  /** BUILDs applied so far. */
  builds: number;
}

/** A fresh instance: `__init__`'s arguments mapped to attributes when it ran, else none. */
export function newWrapperAttributes(wrapper: WrapperKind, init?: SymValue): WrapperAttributes {
  const attrs: WrapperAttributes = { wrapper, values: new Map(), builds: 0 };
  if (init === undefined) return attrs;
  const args = knownItems(init);
  const params = INIT_PARAMETERS[wrapper];
  if (args === undefined || args.length < params.required || args.length > params.names.length) {
    attrs.unknown = `${wrapper}(…) is called with arguments modelvet cannot read`;
    return attrs;
  }
  params.names.forEach((name, i) => {
    const value = args[i] ?? params.defaults[i - params.required];
    if (value !== undefined) attrs.values.set(name, value);
  });
  return attrs;
}

/** True for constants Python treats as false (`if state:` skips them). */
function isFalsy(v: SymValue): boolean {
  switch (v.kind) {
    case "none":
      return true;
    case "bool":
      return !v.value;
    case "int":
      return v.value === 0 || v.value === 0n;
    case "float":
      return v.value === 0;
    case "str":
    case "bytes":
    case "bytearray":
      return v.length === 0;
    case "list":
    case "tuple":
    case "set":
    case "frozenset":
    case "dict":
      return v.count === 0;
    default:
      return false;
  }
}

/** Keys that can never equal an attribute name (a str): constants of other types. */
function isNonStrConstant(v: SymValue): boolean {
  return (
    v.kind === "none" ||
    v.kind === "bool" ||
    v.kind === "int" ||
    v.kind === "float" ||
    v.kind === "bytes"
  );
}

/** `__dict__.update(state)` or `setattr` for each item of a slot state. */
function applyDict(attrs: WrapperAttributes, dict: SymDict, what: string): void {
  if (dict.count > dict.entries.length) {
    attrs.unknown = `its ${what} has more entries than modelvet keeps`;
    return;
  }
  for (const [key, value] of dict.entries) {
    if (key.kind === "str" && key.value !== null) {
      if (CONTROL_ATTRIBUTES.has(key.value)) {
        attrs.unknown = `its ${what} sets ${key.value}, which changes how joblib reads the array`;
        return;
      }
      attrs.values.set(key.value, value);
    } else if (!isNonStrConstant(key)) {
      attrs.unknown = `its ${what} has a key that is not a constant`;
      return;
    }
  }
}

function applyPart(attrs: WrapperAttributes, part: SymValue, what: string): void {
  if (isFalsy(part)) return;
  if (part.kind === "dict") applyDict(attrs, part, what);
  else
    attrs.unknown = `its ${what} is ${part.kind === "call" ? "the result of a call" : `a ${part.kind}`}, not a dict`;
}

/** Applies one BUILD's state the way pickle.py's `load_build` does for a class without `__setstate__`. */
export function applyBuildState(attrs: WrapperAttributes, state: SymValue): void {
  attrs.builds++;
  const pair = state.kind === "tuple" && state.count === 2 ? state.items : undefined;
  if (pair) {
    applyPart(attrs, pair[0]!, "BUILD state");
    if (attrs.unknown === undefined) applyPart(attrs, pair[1]!, "BUILD slot state");
    return;
  }
  applyPart(attrs, state, "BUILD state");
}

/**
 * The parts of a call other than the wrapper class it instantiates, when it creates a wrapper
 * instance (the arguments of NEWOBJ, of the class call, of copyreg's factory after the class);
 * `undefined` for any other call.
 */
function creationExtras(call: SymCall): SymValue[] | undefined {
  if (call.method !== undefined || targetClass(call).kind !== "wrapper") return undefined;
  const extras = call.kwargs === undefined ? [] : [call.kwargs];
  if (call.opcode === "REDUCE" && !wrapperClassOf(call.callable)) {
    return [...extras, ...(knownItems(call.args)?.slice(1) ?? [])];
  }
  return [...extras, call.args];
}

/**
 * Whether `root` reaches a wrapper class other than as the class of a wrapper instance (an array,
 * once loaded), looking at `maxNodes` values at most. joblib.dump names the class only to create
 * wrapper instances.
 */
export function mentionsWrapperClass(root: SymValue, maxNodes = 512): boolean {
  let budget = maxNodes;
  const seen = new Set<SymValue>();
  const visit = (v: SymValue, depth: number): boolean => {
    if (budget-- <= 0 || depth > 16 || seen.has(v)) return false;
    seen.add(v);
    switch (v.kind) {
      case "global":
        return wrapperClassOf(v) !== undefined;
      case "call": {
        const extras = creationExtras(v);
        if (extras) return extras.some((e) => visit(e, depth + 1));
        return (
          visit(v.callable, depth + 1) ||
          visit(v.args, depth + 1) ||
          (v.kwargs !== undefined && visit(v.kwargs, depth + 1))
        );
      }
      case "list":
      case "tuple":
      case "set":
      case "frozenset":
        return v.items.some((item) => visit(item, depth + 1));
      case "dict":
        return v.entries.some(([k, val]) => visit(k, depth + 1) || visit(val, depth + 1));
      case "persistent-id":
        return visit(v.pid, depth + 1);
      default:
        return false;
    }
  };
  return visit(root, 0);
}
