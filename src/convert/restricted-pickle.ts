/**
 * A restricted pickle evaluator for conversion. Unlike the scanner's symbolic machine (which keeps
 * only the first items of each container, since it only needs to explain what loading would
 * run), this one keeps whole values, because conversion needs every tensor of a state dict. It
 * still runs nothing: the only "calls" it understands are the tensor and array constructors in
 * {@link CONSTRUCTORS}, each modelled by a small function over the symbolic arguments. Importing
 * any global that is neither one of those nor a data-only entry of the built-in allowlist stops
 * the evaluation with a refusal naming the global and its offset, whatever the options.
 *
 * joblib streams are read as `joblib.load` reads them: after a `NumpyArrayWrapper`'s BUILD the
 * array's raw bytes follow inline (after optional padding); the evaluator refers to them by
 * offset and resumes the opcodes after them.
 */

import type { ByteSource } from "../core/byte-source.js";
import { DEFAULT_LIMITS } from "../core/limits.js";
import { mapPython2Name } from "../formats/pickle/compat-names.js";
import {
  disassemble,
  isGlobalArgument,
  isSkipped,
  type OpArgument,
} from "../formats/pickle/disassemble.js";
import { opcodeName } from "../formats/pickle/opcodes.js";
import { BUILTIN_POLICY } from "../policy/index.js";
import {
  DTYPE_SIZE,
  type NumpyElement,
  numpyElement,
  REFUSED_DTYPES,
  type SafetensorsDtype,
  STORAGE_DTYPE,
} from "./dtypes.js";
import type { Refusal } from "./types.js";

/** Bytes: decoded in memory, or (when too long to decode) a range of the pickle's source. */
export type ByteData = { bytes: Uint8Array } | { offset: number; length: number };

export interface StorageVal {
  k: "storage";
  /** The persistent id's key (zip member `data/<key>`, legacy storage key). */
  key: string;
  /** The storage class name, e.g. `FloatStorage`. */
  typeName: string;
  dtype: SafetensorsDtype | undefined;
  /** Why the dtype cannot be converted, when it cannot. */
  dtypeRefusal?: string;
  elementSize: number;
  /** Elements the persistent id declares. */
  numel: number;
  /** Legacy storage views: element offset into the root storage. */
  viewOffset: number;
  at: number;
}

export interface TensorVal {
  k: "tensor";
  storage: StorageVal;
  offset: number;
  shape: number[];
  strides: number[];
  at: number;
}

export interface ArrayVal {
  k: "ndarray";
  /** Set by the BUILD that gives `_reconstruct`'s empty array its state. */
  state?: { element: NumpyElement | string; shape: number[]; fortran: boolean; data: ByteData };
  at: number;
}

export interface DtypeVal {
  k: "np-dtype";
  text: string;
  /** Byte order from the BUILD state (`<`, `>`, `|`, `=`). */
  order?: string;
}

export interface DictVal {
  k: "dict";
  entries: [Val, Val][];
  /** Position of each str/int key in `entries`, so that big state dicts stay linear. */
  index: Map<string, number>;
}

export type Val =
  | { k: "none" }
  | { k: "bool"; v: boolean }
  | { k: "int"; v: bigint }
  | { k: "float"; v: number }
  | { k: "str"; v: string }
  | { k: "bytes"; data: ByteData }
  | { k: "tuple" | "list" | "set"; items: Val[] }
  | DictVal
  | { k: "global"; module: string; name: string; at: number }
  | StorageVal
  | TensorVal
  | ArrayVal
  | DtypeVal
  | { k: "joblib-wrapper"; at: number }
  /** Data built by an allowlisted global this converter does not model (dropped or refused later). */
  | { k: "opaque"; what: string; at: number };

const NONE: Val = { k: "none" };

/** Callables the evaluator models; every one only builds data. */
const CONSTRUCTORS = new Set([
  "collections.OrderedDict",
  "torch._utils._rebuild_tensor",
  "torch._utils._rebuild_tensor_v2",
  "torch._utils._rebuild_parameter",
  "torch._utils._rebuild_parameter_with_state",
  "numpy.core.multiarray._reconstruct",
  "numpy._core.multiarray._reconstruct",
  "numpy.core.numeric._frombuffer",
  "numpy._core.numeric._frombuffer",
  "numpy.dtype",
  "_codecs.encode",
  "joblib.numpy_pickle.NumpyArrayWrapper",
]);

/** Importable but not callable here: the classes the constructors take as arguments. */
const ARGUMENT_GLOBALS = new Set(["numpy.ndarray"]);

export interface EvaluateOptions {
  /** First byte. @default 0 */
  start?: number;
  /** Pickles to read one after another (PyTorch's legacy format: 5). @default 1 */
  pickles?: number;
  /** Longest string/bytes argument decoded into memory. @default 64 MiB */
  maxInlineBytes?: number;
}

export interface EvaluateResult {
  /** What each pickle returns. */
  results: Val[];
  /** Offset after the last STOP. */
  end: number;
}

class Refused extends Error {
  constructor(readonly refusal: Refusal) {
    super(refusal.reason);
  }
}

const refuse = (reason: string, offset?: number, global?: string): never => {
  const refusal: Refusal = { reason };
  if (offset !== undefined) refusal.offset = offset;
  if (global !== undefined) refusal.global = global;
  throw new Refused(refusal);
};

const latin1 = (text: string): Uint8Array | undefined => {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff) return undefined;
    out[i] = c;
  }
  return out;
};

function smallInt(v: Val | undefined, what: string, at: number): number {
  if (v?.k === "bool") return v.v ? 1 : 0;
  if (v?.k !== "int") return refuse(`${what} is not an integer`, at);
  if (v.v < 0n || v.v > BigInt(Number.MAX_SAFE_INTEGER)) {
    return refuse(`${what} (${v.v}) is out of range`, at);
  }
  return Number(v.v);
}

function intTuple(v: Val | undefined, what: string, at: number): number[] {
  if (v?.k !== "tuple" && v?.k !== "list") return refuse(`${what} is not a tuple of integers`, at);
  return v.items.map((item, i) => smallInt(item, `${what}[${i}]`, at));
}

const items = (v: Val): Val[] => (v.k === "tuple" || v.k === "list" ? v.items : []);

/** Evaluates the pickles of `source` under the converter's rules; refusals come back as values. */
export async function evaluatePickles(
  source: ByteSource,
  options: EvaluateOptions = {},
): Promise<{ ok: true; value: EvaluateResult } | { ok: false; error: Refusal }> {
  const evaluator = new Evaluator(options.pickles ?? 1);
  let pos = options.start ?? 0;
  const maxArg = options.maxInlineBytes ?? 64 * 1024 * 1024;
  try {
    for (;;) {
      const walk = await disassemble(source, evaluator, { start: pos, maxDecodedArgument: maxArg });
      if (evaluator.error) throw evaluator.error;
      if (evaluator.done)
        return { ok: true, value: { results: evaluator.results, end: evaluator.end } };
      const pending = evaluator.pending;
      if (pending === undefined) {
        if (walk.fault) refuse(`the pickle is malformed: ${walk.fault.reason}`, walk.fault.offset);
        return refuse("the pickle ends before its STOP opcode", walk.end);
      }
      evaluator.pending = undefined;
      pos = await readJoblibArray(source, evaluator, pending);
    }
  } catch (error) {
    if (error instanceof Refused) return { ok: false, error: error.refusal };
    throw error;
  }
}

interface PendingArray {
  /** Offset after the BUILD. */
  after: number;
  at: number;
  element: NumpyElement | string;
  shape: number[];
  fortran: boolean;
  padded: boolean;
  itemsize: number;
}

/** Reads the inline data joblib writes after a wrapper's BUILD; returns where opcodes resume. */
async function readJoblibArray(
  source: ByteSource,
  evaluator: Evaluator,
  p: PendingArray,
): Promise<number> {
  let dataStart = p.after;
  if (p.padded) {
    const b = await source.read(p.after, 1);
    if (b.length < 1) refuse("the joblib stream ends inside an array's padding", p.after);
    dataStart = p.after + 1 + b[0]!;
  }
  const count = p.shape.reduce((a, b) => a * b, 1);
  const length = count * p.itemsize;
  if (!Number.isSafeInteger(length) || dataStart + length > source.size) {
    refuse(`the joblib array at offset ${p.at} claims more data than the file holds`, p.at);
  }
  const array: ArrayVal = {
    k: "ndarray",
    at: p.at,
    state: {
      element: p.element,
      shape: p.shape,
      fortran: p.fortran,
      data: { offset: dataStart, length },
    },
  };
  evaluator.replaceTop(array);
  return dataStart + length;
}

class Evaluator {
  results: Val[] = [];
  done = false;
  end = 0;
  error: Refused | undefined;
  pending: PendingArray | undefined;
  private stack: Val[] = [];
  private marks: Val[][] = [];
  private memo = new Map<number, Val>();
  private proto = 0;
  private opcodes = 0;
  private readonly limits = DEFAULT_LIMITS;

  constructor(private readonly pickles: number) {}

  replaceTop(v: Val): void {
    this.stack[this.stack.length - 1] = v;
  }

  op(code: number, arg: OpArgument, offset: number, end: number): boolean {
    try {
      return this.step(code, arg, offset, end);
    } catch (error) {
      if (error instanceof Refused) {
        this.error = error;
        return false;
      }
      throw error;
    }
  }

  private pop(at: number): Val {
    const v = this.stack.pop();
    if (v === undefined) return refuse("stack underflow: the pickle is malformed", at);
    return v;
  }

  private top(at: number): Val {
    const v = this.stack[this.stack.length - 1];
    if (v === undefined) return refuse("stack underflow: the pickle is malformed", at);
    return v;
  }

  private popMark(at: number): Val[] {
    const items = this.stack;
    const below = this.marks.pop();
    if (below === undefined) return refuse("MARK missing: the pickle is malformed", at);
    this.stack = below;
    return items;
  }

  private push(v: Val): boolean {
    if (this.stack.length + this.marks.length >= this.limits.maxStackDepth) {
      refuse(`the pickle's stack grows beyond ${this.limits.maxStackDepth} entries`);
    }
    this.stack.push(v);
    return true;
  }

  private step(code: number, arg: OpArgument, offset: number, end: number): boolean {
    if (++this.opcodes > this.limits.maxOpcodes) {
      refuse(`more than ${this.limits.maxOpcodes} opcodes`, offset);
    }
    const name = opcodeName(code);
    switch (name) {
      case "PROTO":
        this.proto = arg as number;
        return true;
      case "FRAME":
        return true;
      case "STOP": {
        this.results.push(this.pop(offset));
        this.end = end;
        this.stack = [];
        this.marks = [];
        this.memo = new Map();
        this.proto = 0;
        if (this.results.length >= this.pickles) {
          this.done = true;
          return false;
        }
        return true;
      }
      case "NONE":
        return this.push(NONE);
      case "NEWTRUE":
        return this.push({ k: "bool", v: true });
      case "NEWFALSE":
        return this.push({ k: "bool", v: false });
      case "INT":
        if (typeof arg === "boolean") return this.push({ k: "bool", v: arg });
        return this.pushInt(arg, offset);
      case "BININT":
      case "BININT1":
      case "BININT2":
      case "LONG":
      case "LONG1":
      case "LONG4":
        return this.pushInt(arg, offset);
      case "FLOAT":
      case "BINFLOAT":
        return this.push({ k: "float", v: arg as number });
      case "STRING":
      case "BINSTRING":
      case "SHORT_BINSTRING": {
        if (isSkipped(arg)) return refuse(`a ${arg.length}-byte string is too long`, offset);
        const bytes = arg as Uint8Array;
        let text = "";
        for (const b of bytes) text += String.fromCharCode(b);
        return this.push({ k: "str", v: text });
      }
      case "UNICODE":
      case "BINUNICODE":
      case "SHORT_BINUNICODE":
      case "BINUNICODE8":
        if (isSkipped(arg)) return refuse(`a ${arg.length}-byte string is too long`, offset);
        return this.push({ k: "str", v: arg as string });
      case "BINBYTES":
      case "SHORT_BINBYTES":
      case "BINBYTES8":
      case "BYTEARRAY8":
        if (isSkipped(arg)) {
          return this.push({ k: "bytes", data: { offset: end - arg.length, length: arg.length } });
        }
        return this.push({ k: "bytes", data: { bytes: arg as Uint8Array } });
      case "EMPTY_LIST":
        return this.push({ k: "list", items: [] });
      case "EMPTY_TUPLE":
        return this.push({ k: "tuple", items: [] });
      case "EMPTY_DICT":
        return this.push({ k: "dict", entries: [], index: new Map() });
      case "EMPTY_SET":
        return this.push({ k: "set", items: [] });
      case "TUPLE1":
      case "TUPLE2":
      case "TUPLE3": {
        const n = code - 0x84;
        if (this.stack.length < n) refuse("stack underflow: the pickle is malformed", offset);
        return this.push({ k: "tuple", items: this.stack.splice(this.stack.length - n, n) });
      }
      case "TUPLE":
        return this.push({ k: "tuple", items: this.popMark(offset) });
      case "LIST":
        return this.push({ k: "list", items: this.popMark(offset) });
      case "FROZENSET":
        return this.push({ k: "set", items: this.popMark(offset) });
      case "DICT": {
        const flat = this.popMark(offset);
        const dict: DictVal = { k: "dict", entries: [], index: new Map() };
        for (let i = 0; i + 1 < flat.length; i += 2) setItem(dict, flat[i]!, flat[i + 1]!);
        return this.push(dict);
      }
      case "APPEND": {
        const v = this.pop(offset);
        return this.append(this.top(offset), [v], offset);
      }
      case "APPENDS": {
        const vs = this.popMark(offset);
        return this.append(this.top(offset), vs, offset);
      }
      case "ADDITEMS": {
        const vs = this.popMark(offset);
        const target = this.top(offset);
        if (target.k !== "set") refuse("ADDITEMS on something that is not a set", offset);
        (target as { items: Val[] }).items.push(...vs);
        return true;
      }
      case "SETITEM": {
        const value = this.pop(offset);
        const key = this.pop(offset);
        return this.setItems(this.top(offset), [key, value], offset);
      }
      case "SETITEMS": {
        const flat = this.popMark(offset);
        return this.setItems(this.top(offset), flat, offset);
      }
      case "MARK":
        if (this.stack.length + this.marks.length >= this.limits.maxStackDepth) {
          refuse(`the pickle's stack grows beyond ${this.limits.maxStackDepth} entries`, offset);
        }
        this.marks.push(this.stack);
        this.stack = [];
        return true;
      case "POP":
        if (this.stack.length > 0) this.stack.pop();
        else this.popMark(offset);
        return true;
      case "POP_MARK":
        this.popMark(offset);
        return true;
      case "DUP":
        return this.push(this.top(offset));
      case "GET":
      case "BINGET":
      case "LONG_BINGET": {
        const v = this.memo.get(Number(arg));
        if (v === undefined) return refuse(`memo entry ${String(arg)} is missing`, offset);
        return this.push(v);
      }
      case "PUT":
      case "BINPUT":
      case "LONG_BINPUT":
        return this.memoPut(Number(arg), offset);
      case "MEMOIZE":
        return this.memoPut(this.memo.size, offset);
      case "GLOBAL":
        if (!isGlobalArgument(arg)) return refuse("GLOBAL without a readable name", offset);
        return this.push(this.importGlobal(arg.module, arg.name, offset));
      case "STACK_GLOBAL": {
        const n = this.pop(offset);
        const m = this.pop(offset);
        if (m.k !== "str" || n.k !== "str") {
          return refuse("STACK_GLOBAL with a name that is not a constant string", offset);
        }
        return this.push(this.importGlobal(m.v, n.v, offset));
      }
      case "REDUCE": {
        const args = this.pop(offset);
        const callable = this.pop(offset);
        return this.push(this.call(callable, args, offset));
      }
      case "NEWOBJ": {
        const args = this.pop(offset);
        const cls = this.pop(offset);
        return this.push(this.call(cls, args, offset));
      }
      case "NEWOBJ_EX": {
        const kwargs = this.pop(offset);
        const args = this.pop(offset);
        const cls = this.pop(offset);
        if (kwargs.k !== "dict" || kwargs.entries.length > 0) {
          refuse("NEWOBJ_EX with keyword arguments", offset);
        }
        return this.push(this.call(cls, args, offset));
      }
      case "BUILD": {
        const state = this.pop(offset);
        return this.build(this.top(offset), state, offset, end);
      }
      case "BINPERSID":
        return this.push(this.persistent(this.pop(offset), offset));
      default:
        // INST, OBJ, PERSID, EXT1/2/4, NEXT_BUFFER, READONLY_BUFFER and anything new.
        return refuse(
          `opcode ${name} builds objects or takes data from outside the file; tensors never need it`,
          offset,
        );
    }
  }

  private pushInt(arg: OpArgument, offset: number): boolean {
    if (typeof arg === "number") return this.push({ k: "int", v: BigInt(arg) });
    if (typeof arg === "bigint") return this.push({ k: "int", v: arg });
    return refuse("an integer too long to read", offset);
  }

  private memoPut(index: number, offset: number): boolean {
    if (!(index >= 0)) refuse("negative memo index", offset);
    if (this.memo.size >= this.limits.maxMemoEntries && !this.memo.has(index)) {
      refuse(`more than ${this.limits.maxMemoEntries} memo entries`, offset);
    }
    this.memo.set(index, this.top(offset));
    return true;
  }

  private append(target: Val, vs: Val[], offset: number): boolean {
    if (target.k !== "list") refuse(`APPEND on a ${target.k}, not a list`, offset);
    (target as { items: Val[] }).items.push(...vs);
    return true;
  }

  private setItems(target: Val, flat: Val[], offset: number): boolean {
    if (target.k !== "dict") return refuse(`SETITEM on a ${target.k}, not a dict`, offset);
    if (flat.length % 2 !== 0) refuse("odd number of items for SETITEMS", offset);
    for (let i = 0; i < flat.length; i += 2) setItem(target, flat[i]!, flat[i + 1]!);
    return true;
  }

  private importGlobal(writtenModule: string, writtenName: string, at: number): Val {
    const { module, name } =
      this.proto < 3
        ? mapPython2Name(writtenModule, writtenName)
        : { module: writtenModule, name: writtenName };
    const full = `${module}.${name}`;
    const storage = module === "torch" && (name in STORAGE_DTYPE || name in REFUSED_DTYPES);
    if (CONSTRUCTORS.has(full) || ARGUMENT_GLOBALS.has(full) || storage) {
      return { k: "global", module, name, at };
    }
    // Other data-only globals of the built-in allowlist (builtins.set, torch.Size, …) build values
    // this converter does not model: they become opaque values, dropped or refused later.
    if (BUILTIN_POLICY.classifyGlobal(module, name).class === "allowed") {
      return { k: "global", module, name, at };
    }
    return refuse(
      `${full} at offset ${at}: converting would need it, and it is not one of the tensor constructors modelvet models (a pickled object, not a tensor)`,
      at,
      full,
    );
  }

  private call(callable: Val, args: Val, at: number): Val {
    if (callable.k !== "global") {
      return refuse(`a call on a ${callable.k}, which only code could make`, at);
    }
    const full = `${callable.module}.${callable.name}`;
    const a = items(args);
    switch (full) {
      case "collections.OrderedDict":
        if (a.length > 0) return { k: "opaque", what: "collections.OrderedDict(items)", at };
        return { k: "dict", entries: [], index: new Map() };
      case "torch._utils._rebuild_tensor":
      case "torch._utils._rebuild_tensor_v2":
        return this.tensor(a, at);
      case "torch._utils._rebuild_parameter":
      case "torch._utils._rebuild_parameter_with_state": {
        const t = a[0];
        if (t?.k !== "tensor") return refuse(`${full} of something that is not a tensor`, at);
        return t;
      }
      case "numpy.core.multiarray._reconstruct":
      case "numpy._core.multiarray._reconstruct": {
        const cls = a[0];
        if (cls?.k !== "global" || `${cls.module}.${cls.name}` !== "numpy.ndarray") {
          return refuse(`${full} of a class other than numpy.ndarray`, at);
        }
        return { k: "ndarray", at };
      }
      case "numpy.dtype": {
        const text = a[0];
        if (text?.k !== "str") return { k: "opaque", what: "numpy.dtype(non-string)", at };
        return { k: "np-dtype", text: text.v };
      }
      case "numpy.core.numeric._frombuffer":
      case "numpy._core.numeric._frombuffer": {
        const [buf, dtype, shape, order] = a;
        if (buf?.k !== "bytes" || dtype?.k !== "np-dtype") {
          return refuse(`${full} without bytes and a dtype`, at);
        }
        return {
          k: "ndarray",
          at,
          state: {
            element: numpyElement(dtype.text, dtype.order),
            shape: intTuple(shape, "the array shape", at),
            fortran: order?.k === "str" && order.v === "F",
            data: buf.data,
          },
        };
      }
      case "_codecs.encode": {
        const [text, encoding] = a;
        if (
          text?.k === "str" &&
          encoding?.k === "str" &&
          (encoding.v === "latin1" || encoding.v === "latin-1")
        ) {
          const bytes = latin1(text.v);
          if (bytes) return { k: "bytes", data: { bytes } };
        }
        return { k: "opaque", what: "_codecs.encode(…)", at };
      }
      case "joblib.numpy_pickle.NumpyArrayWrapper":
        return { k: "joblib-wrapper", at };
      default:
        return { k: "opaque", what: `${full}(…)`, at };
    }
  }

  private tensor(a: Val[], at: number): Val {
    const [storage, offset, size, stride] = a;
    if (storage?.k !== "storage")
      return refuse("a tensor whose storage is not a persistent id", at);
    const shape = intTuple(size, "the tensor size", at);
    const strides = intTuple(stride, "the tensor stride", at);
    if (shape.length !== strides.length) {
      refuse(`the tensor's size has ${shape.length} dimensions, its stride ${strides.length}`, at);
    }
    const t: TensorVal = {
      k: "tensor",
      storage,
      offset: smallInt(offset, "the storage offset", at) + storage.viewOffset,
      shape,
      strides,
      at,
    };
    const numel = shape.reduce((x, y) => x * y, 1);
    if (numel > 0) {
      let last = t.offset;
      for (let i = 0; i < shape.length; i++) last += (shape[i]! - 1) * strides[i]!;
      if (!Number.isSafeInteger(last) || last >= storage.numel + storage.viewOffset) {
        refuse(
          `a tensor reaches element ${last} of storage "${storage.key}", which holds ${storage.numel}`,
          at,
        );
      }
    }
    return t;
  }

  private persistent(pid: Val, at: number): Val {
    const [tag, type, key, _location, numel, view] = items(pid);
    if (tag?.k !== "str" || tag.v !== "storage" || type?.k !== "global" || key?.k !== "str") {
      return refuse("a persistent id that is not a PyTorch storage", at);
    }
    const typeName = type.name;
    const dtype = STORAGE_DTYPE[typeName];
    const storage: StorageVal = {
      k: "storage",
      key: key.v,
      typeName,
      dtype,
      elementSize: dtype === undefined ? 1 : DTYPE_SIZE[dtype],
      numel: smallInt(numel, "the storage size", at),
      viewOffset: 0,
      at,
    };
    if (dtype === undefined) {
      storage.dtypeRefusal = REFUSED_DTYPES[typeName] ?? `storage class torch.${typeName}`;
    }
    if (view !== undefined && view.k !== "none") {
      // Legacy storage views: (view_key, offset, view_size) into the root storage.
      const [, viewOffset, viewSize] = items(view);
      storage.viewOffset = smallInt(viewOffset, "the storage view offset", at);
      const size = smallInt(viewSize, "the storage view size", at);
      if (storage.viewOffset + size > storage.numel) {
        refuse(`a storage view reaches past storage "${storage.key}"`, at);
      }
      storage.numel = size;
    }
    return storage;
  }

  private build(target: Val, state: Val, at: number, end: number): boolean {
    switch (target.k) {
      case "dict":
        // OrderedDict state (a state_dict's `_metadata` attribute): attributes, not items.
        return true;
      case "tensor":
        if (state.k === "none" || (state.k === "dict" && state.entries.length === 0)) return true;
        if (state.k === "tuple" && state.items.every((s) => isEmpty(s))) return true;
        return refuse("BUILD sets attributes on a tensor (a tensor subclass?)", at);
      case "np-dtype": {
        const order = items(state)[1];
        if (order?.k === "str") target.order = order.v;
        return true;
      }
      case "ndarray": {
        // ndarray.__setstate__((version, shape, dtype, is_fortran, data))
        const s = items(state);
        const [shape, dtype, fortran, data] = s.length === 5 ? s.slice(1) : s;
        if (dtype?.k !== "np-dtype") return refuse("a NumPy array without a dtype", at);
        let bytes: ByteData;
        if (data?.k === "bytes") bytes = data.data;
        else if (data?.k === "str") {
          const b = latin1(data.v);
          if (!b) return refuse("NumPy array data that is not Latin-1 text", at);
          bytes = { bytes: b };
        } else return refuse("a NumPy array of Python objects", at);
        target.state = {
          element: numpyElement(dtype.text, dtype.order),
          shape: intTuple(shape, "the array shape", at),
          fortran: fortran?.k === "bool" ? fortran.v : fortran?.k === "int" && fortran.v !== 0n,
          data: bytes,
        };
        return true;
      }
      case "joblib-wrapper": {
        const attrs = new Map<string, Val>();
        if (state.k === "dict") {
          for (const [key, value] of state.entries) if (key.k === "str") attrs.set(key.v, value);
        }
        const dtype = attrs.get("dtype");
        if (dtype?.k !== "np-dtype") return refuse("a joblib array wrapper without a dtype", at);
        const element = numpyElement(dtype.text, dtype.order);
        const order = attrs.get("order");
        const alignment = attrs.get("numpy_array_alignment_bytes");
        const itemsize = typeof element === "string" ? undefined : DTYPE_SIZE[element.dtype];
        if (itemsize === undefined) {
          return refuse(`a joblib array whose data cannot be converted (${element})`, at);
        }
        this.pending = {
          after: end,
          at,
          element,
          shape: intTuple(attrs.get("shape"), "the array shape", at),
          fortran: order?.k === "str" && order.v === "F",
          padded: alignment !== undefined && alignment.k !== "none",
          itemsize,
        };
        return false;
      }
      default:
        return refuse(`BUILD on a ${target.k}`, at);
    }
  }
}

function isEmpty(v: Val): boolean {
  return (
    v.k === "none" ||
    (v.k === "dict" && v.entries.length === 0) ||
    ((v.k === "tuple" || v.k === "list") && v.items.length === 0)
  );
}

const keyOf = (v: Val): string | undefined =>
  v.k === "str" ? `s${v.v}` : v.k === "int" ? `i${v.v}` : undefined;

function setItem(dict: DictVal, key: Val, value: Val): void {
  const k = keyOf(key);
  const at = k === undefined ? undefined : dict.index.get(k);
  if (at !== undefined) {
    dict.entries[at]![1] = value;
    return;
  }
  if (k !== undefined) dict.index.set(k, dict.entries.length);
  dict.entries.push([key, value]);
}
