/**
 * The symbolic pickle machine: runs decoded opcodes the way CPython's `Unpickler` (`_pickle.c`)
 * would — stack, MARK frames (pickle.py's metastack) and memo — but with symbolic values, so
 * nothing is imported or called. It records every import, call, BUILD and persistent id with its
 * offset, and stops where the loader would raise (stack underflow, missing MARK, missing memo key,
 * `STACK_GLOBAL requires str`, …), keeping everything before.
 *
 * Modelling notes:
 * - A MARK hides the stack below it: opcodes can only pop items pushed after the topmost MARK
 *   (CPython's `fence`). POP with an empty frame pops the MARK itself, as both loaders do.
 * - MEMOIZE stores at index `len(memo)` (the number of distinct keys), not at the highest index.
 * - Protocol < 3 applies the Python 2 renames of `find_class` (`__builtin__` → `builtins`).
 * - Python 2 strings (STRING/BINSTRING/SHORT_BINSTRING) are decoded as Latin-1 (see `SymStr`).
 * - Lists, dicts and sets built by the pickle keep only their first items. Calls the loader makes
 *   implicitly on an imported object (APPEND(S) → `extend`, SETITEM(S) → `__setitem__`,
 *   ADDITEMS → `add`) are recorded as calls with `method` set; the same opcodes on call results
 *   are not recorded.
 * - After STOP, if more opcodes follow, a new pickle starts with a fresh stack, memo and protocol
 *   (as a new `pickle.load` call on the same file would).
 */

import type { Limits } from "../../core/limits.js";
import { mapPython2Name } from "./compat-names.js";
import { decodeLatin1, isAscii } from "./decode-text.js";
import { renderBuild, renderCall, renderValue } from "./decompile.js";
import { isGlobalArgument, isSkipped, type OpArgument, type OpVisitor } from "./disassemble.js";
import type { FaultCode, PickleFault } from "./fault.js";
import { HIGHEST_PROTOCOL, OPCODE_BY_CODE, OPCODES, opcodeName } from "./opcodes.js";
import {
  CONTAINER_PREVIEW,
  FALSE,
  NONE,
  pushItem,
  type SymBuild,
  type SymCall,
  type SymDict,
  type SymGlobal,
  type SymPersistent,
  type SymSequence,
  type SymValue,
  setEntry,
  symInt,
  TRUE,
} from "./values.js";

/** One pickle in the stream (PyTorch's legacy format stacks five). */
export interface PickleSegment {
  /** 0-based position in the stream. */
  index: number;
  /** Offset of its first opcode. */
  start: number;
  /** Offset after its STOP; for an incomplete pickle, where reading it stopped. */
  end: number;
  /** The PROTO opcode's argument, when the pickle has one. */
  protocol?: number;
  /** Highest protocol among its opcodes (0 or 1 for pickles without PROTO). */
  opcodeProtocol: number;
  /** True when it ended with STOP. */
  complete: boolean;
  /** What `pickle.load` would return (the value STOP popped). */
  result?: SymValue;
}

/** How one distinct global is used within one pickle. */
export interface GlobalUsage {
  /** The first import of this global in the pickle. */
  global: SymGlobal;
  /** Times the pickle imports it. */
  imports: number;
  /** Calls with it as the callee (direct calls). */
  calls: number;
  /** The call that best shows its use (inline pseudocode), if any call involves it. */
  evidence?: { pseudocode: string; offset: number; opcode: string };
  /** BUILDs whose target is this global. */
  builds: number;
  /** Pseudocode and offset of the first BUILD on it. */
  buildEvidence?: { pseudocode: string; offset: number };
  /** Implicit method calls (APPEND(S)/SETITEM(S)/ADDITEMS) on it. */
  methodCalls: number;
  /**
   * Set when an import of this global resolved to something the pickle stored in its place (a
   * BUILD attribute or a `sys.modules` entry): the name as written and where it was stored.
   */
  replaced?: { written: string; offset: number };
  methodEvidence?: { pseudocode: string; offset: number; opcode: string };
}

/** A limit that stopped the machine. */
export interface LimitHit {
  limit: keyof Limits;
  offset: number;
  message: string;
}

export interface MachineOptions {
  limits: Limits;
  /** Stop after this many complete pickles (the rest of the stream is not pickle). */
  maxPickles?: number;
  /** Pseudocode statements kept in `listing`. @default 1000 */
  maxListing?: number;
  /** Offset where the stream starts (the `endOffset` until a pickle completes). @default 0 */
  start?: number;
}

/** Imports, calls, builds and persistent ids recorded in full; beyond this only counted. */
export const MAX_RECORDS = 1_000_000;

/** Attribute assignments (BUILD on an imported object) remembered for later imports. */
const MAX_ASSIGNED_ATTRIBUTES = 10_000;

const isContainer = (v: SymValue): boolean =>
  v.kind === "list" || v.kind === "dict" || v.kind === "set" || v.kind === "bytearray";

/** Highest protocol among opcodes, per opcode byte. */
const PROTO_OF = new Uint8Array(256);
for (let code = 0; code < 256; code++) PROTO_OF[code] = OPCODE_BY_CODE[code]?.proto ?? 0;

/** Length-prefix size of string/bytes opcodes (to report argument sizes). */
const PREFIX_OF = new Uint8Array(256);
for (const info of OPCODES) {
  if (info.arg?.length.type === "prefixed") PREFIX_OF[info.code] = info.arg.length.prefixBytes;
}

/** Why a STACK_GLOBAL operand is not a plain constant string. */
interface Operand {
  value: string | null;
  /** Set when we cannot know the text. */
  unknown?: string;
  /** Set when the loader certainly raises `STACK_GLOBAL requires str`. */
  typeError?: string;
}

function describe(v: SymValue): string {
  switch (v.kind) {
    case "call":
      return `the result of a call (_var${v.id})`;
    case "persistent-id":
      return "a persistent-id object";
    case "global":
      return "an imported object";
    case "buffer":
      return "an out-of-band buffer";
    case "none":
      return "None";
    default:
      return `a ${v.kind}`;
  }
}

function stackGlobalOperand(v: SymValue): Operand {
  if (v.kind === "str") {
    if (v.value === null) return { value: null, unknown: `a ${v.length}-byte string not read` };
    if (v.legacy && !v.legacy.ascii) {
      return {
        value: v.value,
        unknown: "a non-ASCII Python 2 string, whose text depends on the loader's encoding",
      };
    }
    return { value: v.value };
  }
  if (
    v.kind === "call" ||
    v.kind === "persistent-id" ||
    v.kind === "global" ||
    v.kind === "buffer"
  ) {
    return { value: null, unknown: describe(v) };
  }
  return { value: null, unknown: describe(v), typeError: describe(v) };
}

/**
 * The machine as an {@link OpVisitor}: feed it to `disassemble`, then call {@link finish}.
 * Results are public fields.
 */
export class PickleMachine implements OpVisitor {
  readonly pickles: PickleSegment[] = [];
  readonly imports: SymGlobal[] = [];
  readonly calls: SymCall[] = [];
  readonly builds: SymBuild[] = [];
  readonly persistentIds: SymPersistent[] = [];
  /** Distinct globals per pickle, in order of first import. */
  readonly usages: GlobalUsage[] = [];
  /** Pseudocode statements, bounded by `maxListing`. */
  readonly listing: string[] = [];
  /** Statements left out of `listing`. */
  listingDropped = 0;
  /** Records beyond {@link MAX_RECORDS}, counted only. */
  droppedRecords = 0;
  fault?: PickleFault;
  limitHit?: LimitHit;
  /** The most recent BUILD. */
  lastBuild?: SymBuild;
  opcodeCount = 0;
  /** Offset after the last complete pickle's STOP (the start offset when there is none). */
  endOffset: number;

  private stack: SymValue[] = [];
  private readonly metastack: SymValue[][] = [];
  /** Items and marks below the current frame. */
  private saved = 0;
  private memo = new Map<number, SymValue>();
  private proto = 0;
  private buffers = 0;
  private current: PickleSegment | null = null;
  private readonly usageByKey = new Map<string, GlobalUsage>();
  private readonly usageByGlobal = new Map<SymGlobal, GlobalUsage>();
  private readonly indirectEvidence = new Set<GlobalUsage>();
  /**
   * What the pickle stored in place of importable names, by dotted path (kept across pickles):
   * attributes that BUILD set on an imported object (`torch._utils._rebuild_tensor`) and
   * `sys.modules` entries set by SETITEM(S) (`collections`).
   */
  private readonly attributes = new Map<string, { value: SymValue; offset: number }>();
  /** Imports whose name resolves exactly to a value a BUILD or `sys.modules` entry stored. */
  private readonly pushedInstead = new Map<SymGlobal, SymValue>();
  private importCount = 0;
  private callCount = 0;
  private buildCount = 0;
  private persistentCount = 0;
  private readonly limits: Limits;
  private readonly maxPickles: number;
  private readonly maxListing: number;

  constructor(options: MachineOptions) {
    this.limits = options.limits;
    this.maxPickles = options.maxPickles ?? Number.POSITIVE_INFINITY;
    this.maxListing = options.maxListing ?? 1000;
    this.endOffset = options.start ?? 0;
  }

  /** Number of complete pickles so far. */
  get completePickles(): number {
    let n = 0;
    for (const p of this.pickles) if (p.complete) n++;
    return n;
  }

  /** True while a pickle has started and not reached STOP. */
  get inPickle(): boolean {
    return this.current !== null;
  }

  /** Closes an unfinished pickle at `offset` (where reading stopped). */
  finish(offset: number): void {
    if (this.current) {
      this.current.end = Math.max(this.current.start, offset);
      this.current = null;
    }
  }

  op(code: number, arg: OpArgument, offset: number, end: number): boolean {
    let seg = this.current;
    if (seg === null) {
      if (this.pickles.length >= this.limits.maxStackedPickles) {
        return this.exceed(
          "maxStackedPickles",
          offset,
          `more than ${this.limits.maxStackedPickles} pickles are stacked in this stream`,
        );
      }
      seg = { index: this.pickles.length, start: offset, end, opcodeProtocol: 0, complete: false };
      this.pickles.push(seg);
      this.current = seg;
      this.stack = [];
      this.metastack.length = 0;
      this.saved = 0;
      this.memo = new Map();
      this.proto = 0;
      this.buffers = 0;
      this.statement(`# pickle ${seg.index} at offset ${offset}`);
    }
    if (++this.opcodeCount > this.limits.maxOpcodes) {
      return this.exceed(
        "maxOpcodes",
        offset,
        `more than ${this.limits.maxOpcodes} opcodes in this stream`,
      );
    }
    const p = PROTO_OF[code]!;
    if (p > seg.opcodeProtocol) seg.opcodeProtocol = p;
    seg.end = end;
    const stack = this.stack;

    switch (code) {
      // ---- constants
      case 0x4e: // NONE
        return this.push(NONE, offset);
      case 0x88: // NEWTRUE
        return this.push(TRUE, offset);
      case 0x89: // NEWFALSE
        return this.push(FALSE, offset);
      case 0x49: // INT
        if (typeof arg === "boolean") return this.push(arg ? TRUE : FALSE, offset);
        return this.push(symInt(isSkipped(arg) ? null : (arg as number | bigint)), offset);
      case 0x4b: // BININT1
      case 0x4d: // BININT2
      case 0x4a: // BININT
      case 0x4c: // LONG
      case 0x8a: // LONG1
      case 0x8b: // LONG4
        return this.push(symInt(isSkipped(arg) ? null : (arg as number | bigint)), offset);
      case 0x46: // FLOAT
      case 0x47: // BINFLOAT
        return this.push({ kind: "float", value: arg as number }, offset);
      case 0x53: // STRING
      case 0x54: // BINSTRING
      case 0x55: {
        // SHORT_BINSTRING: a Python 2 str, text per the loader's encoding
        if (isSkipped(arg)) {
          return this.push({ kind: "str", value: null, length: arg.length }, offset);
        }
        const bytes = arg as Uint8Array;
        return this.push(
          {
            kind: "str",
            value: decodeLatin1(bytes),
            length: bytes.length,
            legacy: { ascii: isAscii(bytes) },
          },
          offset,
        );
      }
      case 0x56: // UNICODE
      case 0x58: // BINUNICODE
      case 0x8c: // SHORT_BINUNICODE
      case 0x8d: {
        // BINUNICODE8
        if (isSkipped(arg)) {
          return this.push({ kind: "str", value: null, length: arg.length }, offset);
        }
        const length = code === 0x56 ? end - offset - 2 : end - offset - 1 - PREFIX_OF[code]!;
        return this.push({ kind: "str", value: arg as string, length }, offset);
      }
      case 0x42: // BINBYTES
      case 0x43: // SHORT_BINBYTES
      case 0x8e: // BINBYTES8
      case 0x96: {
        // BYTEARRAY8
        const kind = code === 0x96 ? "bytearray" : "bytes";
        if (isSkipped(arg)) return this.push({ kind, value: null, length: arg.length }, offset);
        const bytes = arg as Uint8Array;
        return this.push({ kind, value: bytes, length: bytes.length }, offset);
      }
      case 0x97: // NEXT_BUFFER
        return this.push(
          { kind: "buffer", offset, readonly: false, index: this.buffers++ },
          offset,
        );
      case 0x98: {
        // READONLY_BUFFER
        const top = stack[stack.length - 1];
        if (top === undefined) return this.underflow(code, offset);
        if (top.kind === "buffer" && !top.readonly) {
          stack[stack.length - 1] = { ...top, readonly: true };
        }
        return true;
      }

      // ---- containers
      case 0x5d: // EMPTY_LIST
        return this.push({ kind: "list", items: [], count: 0 }, offset);
      case 0x29: // EMPTY_TUPLE
        return this.push({ kind: "tuple", items: [], count: 0 }, offset);
      case 0x7d: // EMPTY_DICT
        return this.push({ kind: "dict", entries: [], count: 0 }, offset);
      case 0x8f: // EMPTY_SET
        return this.push({ kind: "set", items: [], count: 0 }, offset);
      case 0x85: // TUPLE1
      case 0x86: // TUPLE2
      case 0x87: {
        // TUPLE3
        const n = code - 0x84;
        if (stack.length < n) return this.underflow(code, offset);
        const items = stack.splice(stack.length - n, n);
        return this.push({ kind: "tuple", items, count: n }, offset);
      }
      case 0x74: // TUPLE
      case 0x6c: // LIST
      case 0x91: {
        // FROZENSET
        const items = this.popMark(code, offset);
        if (items === undefined) return false;
        const kind = code === 0x74 ? "tuple" : code === 0x6c ? "list" : "frozenset";
        if (kind === "frozenset" && items.some(isContainer)) {
          return this.raise(offset, "type-error", "FROZENSET of an unhashable item", code);
        }
        return this.push(sequence(kind, items), offset);
      }
      case 0x64: {
        // DICT
        const items = this.popMark(code, offset);
        if (items === undefined) return false;
        if (items.length % 2 !== 0) {
          return this.raise(offset, "bad-value", "odd number of items for DICT", code);
        }
        const dict: SymDict = { kind: "dict", entries: [], count: 0 };
        for (let i = 0; i < items.length; i += 2) {
          if (isContainer(items[i]!)) {
            return this.raise(offset, "type-error", "DICT with an unhashable key", code);
          }
          setEntry(dict, items[i]!, items[i + 1]!);
        }
        return this.push(dict, offset);
      }
      case 0x61: {
        // APPEND
        if (stack.length < 2) return this.underflow(code, offset);
        const value = stack.pop()!;
        return this.extend(stack[stack.length - 1]!, [value], code, offset);
      }
      case 0x65: {
        // APPENDS
        const items = this.popMark(code, offset);
        if (items === undefined) return false;
        const target = this.stack[this.stack.length - 1];
        if (target === undefined) return this.underflow(code, offset);
        return this.extend(target, items, code, offset);
      }
      case 0x73: {
        // SETITEM
        if (stack.length < 3) return this.underflow(code, offset);
        const value = stack.pop()!;
        const key = stack.pop()!;
        return this.setItems(stack[stack.length - 1]!, [key, value], code, offset);
      }
      case 0x75: {
        // SETITEMS
        const items = this.popMark(code, offset);
        if (items === undefined) return false;
        const target = this.stack[this.stack.length - 1];
        if (target === undefined) return this.underflow(code, offset);
        if (items.length % 2 !== 0) {
          return this.raise(offset, "bad-value", "odd number of items for SETITEMS", code);
        }
        return this.setItems(target, items, code, offset);
      }
      case 0x90: {
        // ADDITEMS
        const items = this.popMark(code, offset);
        if (items === undefined) return false;
        const target = this.stack[this.stack.length - 1];
        if (target === undefined) return this.underflow(code, offset);
        if (items.length === 0) return true;
        if (target.kind === "set") {
          if (items.some(isContainer)) {
            return this.raise(offset, "type-error", "ADDITEMS of an unhashable item", code);
          }
          for (const item of items) pushItem(target, item);
          return true;
        }
        if (target.kind === "global") {
          this.methodCall(target, "add", sequence("tuple", items), code, offset);
        }
        return true;
      }

      // ---- stack and marks
      case 0x28: // MARK
        if (stack.length + this.saved + 1 > this.limits.maxStackDepth) {
          return this.exceed(
            "maxStackDepth",
            offset,
            `the stack and marks grow beyond ${this.limits.maxStackDepth} entries`,
          );
        }
        this.metastack.push(stack);
        this.saved += stack.length + 1;
        this.stack = [];
        return true;
      case 0x30: // POP
        if (stack.length > 0) {
          stack.pop();
          return true;
        }
        if (this.metastack.length > 0) {
          this.popMark(code, offset);
          return true;
        }
        return this.underflow(code, offset);
      case 0x31: // POP_MARK
        return this.popMark(code, offset) !== undefined;
      case 0x32: {
        // DUP
        const top = stack[stack.length - 1];
        if (top === undefined) return this.underflow(code, offset);
        return this.push(top, offset);
      }

      // ---- memo
      case 0x67: // GET
      case 0x68: // BINGET
      case 0x6a: {
        // LONG_BINGET
        const value = typeof arg === "number" ? this.memo.get(arg) : undefined;
        if (value === undefined) {
          return this.raise(
            offset,
            "missing-memo",
            `memo value not found at index ${String(arg)}`,
            code,
          );
        }
        return this.push(value, offset);
      }
      case 0x70: // PUT
      case 0x71: // BINPUT
      case 0x72: {
        // LONG_BINPUT
        const top = stack[stack.length - 1];
        if (top === undefined) return this.underflow(code, offset);
        const index = arg as number | bigint;
        if (index < 0) return this.raise(offset, "bad-value", "negative PUT argument", code);
        return this.memoPut(Number(index), top, offset);
      }
      case 0x94: {
        // MEMOIZE
        const top = stack[stack.length - 1];
        if (top === undefined) return this.underflow(code, offset);
        return this.memoPut(this.memo.size, top, offset);
      }

      // ---- imports
      case 0x63: {
        // GLOBAL
        if (!isGlobalArgument(arg)) return true;
        const g = this.constantImport("GLOBAL", offset, arg.module, arg.name);
        return this.push(this.valueOf(g), offset);
      }
      case 0x93: {
        // STACK_GLOBAL
        if (stack.length < 2) return this.underflow(code, offset);
        const nameValue = stack.pop()!;
        const moduleValue = stack.pop()!;
        return this.stackGlobal(moduleValue, nameValue, offset);
      }
      case 0x82: // EXT1
      case 0x83: // EXT2
      case 0x84: {
        // EXT4
        const ext = arg as number;
        if (ext <= 0) return this.raise(offset, "bad-value", "EXT specifies code <= 0", code);
        const opcode = code === 0x82 ? "EXT1" : code === 0x83 ? "EXT2" : "EXT4";
        const g = this.addImport({
          opcode,
          offset,
          module: null,
          name: null,
          constant: false,
          nonConstantReason: "copyreg extension registry entry, known only at load time",
          extensionCode: ext,
        });
        return this.push(g, offset);
      }

      // ---- calls
      case 0x52: {
        // REDUCE
        if (stack.length < 2) return this.underflow(code, offset);
        const args = stack.pop()!;
        const callable = stack.pop()!;
        return this.push(this.call("REDUCE", offset, callable, args), offset);
      }
      case 0x69: {
        // INST
        const items = this.popMark(code, offset);
        if (items === undefined) return false;
        if (!isGlobalArgument(arg)) return true;
        const g = this.constantImport("INST", offset, arg.module, arg.name);
        return this.push(
          this.call("INST", offset, this.valueOf(g), sequence("tuple", items)),
          offset,
        );
      }
      case 0x6f: {
        // OBJ
        const items = this.popMark(code, offset);
        if (items === undefined) return false;
        if (items.length < 1) return this.underflow(code, offset);
        const cls = items.shift()!;
        return this.push(this.call("OBJ", offset, cls, sequence("tuple", items)), offset);
      }
      case 0x81: {
        // NEWOBJ
        if (stack.length < 2) return this.underflow(code, offset);
        const args = stack.pop()!;
        const cls = stack.pop()!;
        return this.push(this.call("NEWOBJ", offset, cls, args), offset);
      }
      case 0x92: {
        // NEWOBJ_EX
        if (stack.length < 3) return this.underflow(code, offset);
        const kwargs = stack.pop()!;
        const args = stack.pop()!;
        const cls = stack.pop()!;
        return this.push(this.call("NEWOBJ_EX", offset, cls, args, kwargs), offset);
      }
      case 0x62: {
        // BUILD
        if (stack.length < 2) return this.underflow(code, offset);
        const state = stack.pop()!;
        this.build(stack[stack.length - 1]!, state, offset);
        return true;
      }
      case 0x50: // PERSID
        return this.push(
          this.persistent("PERSID", offset, {
            kind: "str",
            value: arg as string,
            length: end - offset - 2,
          }),
          offset,
        );
      case 0x51: {
        // BINPERSID
        const pid = stack.pop();
        if (pid === undefined) return this.underflow(code, offset);
        return this.push(this.persistent("BINPERSID", offset, pid), offset);
      }

      // ---- machine control
      case 0x80: {
        // PROTO
        const version = arg as number;
        if (version > HIGHEST_PROTOCOL) {
          return this.raise(offset, "bad-value", `unsupported pickle protocol: ${version}`, code);
        }
        this.proto = version;
        if (seg.protocol === undefined) seg.protocol = version;
        return true;
      }
      case 0x95: // FRAME: framing only
        return true;
      case 0x2e: {
        // STOP
        const result = stack.pop();
        if (result === undefined) return this.underflow(code, offset);
        seg.complete = true;
        seg.result = result;
        seg.end = end;
        this.endOffset = end;
        this.current = null;
        this.statement(
          `return ${renderValue(result, { maxLength: this.limits.maxPseudocodeLength })}`,
        );
        this.memo = new Map();
        this.stack = [];
        this.metastack.length = 0;
        this.saved = 0;
        return this.completePickles < this.maxPickles;
      }
      default:
        // Every opcode byte the disassembler emits is handled above.
        return this.raise(offset, "unknown-opcode", `unhandled opcode ${opcodeName(code)}`, code);
    }
  }

  // ---------------------------------------------------------------- helpers

  private push(value: SymValue, offset: number): boolean {
    const stack = this.stack;
    if (stack.length + this.saved >= this.limits.maxStackDepth) {
      return this.exceed(
        "maxStackDepth",
        offset,
        `the stack and marks grow beyond ${this.limits.maxStackDepth} entries`,
      );
    }
    stack.push(value);
    return true;
  }

  /** Pops the frame above the topmost MARK and restores the one below; `undefined` after a fault. */
  private popMark(code: number, offset: number): SymValue[] | undefined {
    const below = this.metastack.pop();
    if (below === undefined) {
      this.raise(offset, "missing-mark", "could not find MARK", code);
      return undefined;
    }
    const items = this.stack;
    this.saved -= below.length + 1;
    this.stack = below;
    return items;
  }

  private memoPut(index: number, value: SymValue, offset: number): boolean {
    if (!this.memo.has(index) && this.memo.size >= this.limits.maxMemoEntries) {
      return this.exceed(
        "maxMemoEntries",
        offset,
        `the memo grows beyond ${this.limits.maxMemoEntries} entries`,
      );
    }
    this.memo.set(index, value);
    return true;
  }

  private underflow(code: number, offset: number): boolean {
    return this.raise(
      offset,
      "stack-underflow",
      `${opcodeName(code)} needs more items than the stack holds above the last MARK`,
      code,
    );
  }

  private raise(offset: number, code: FaultCode, reason: string, opcode: number): boolean {
    this.fault = { offset, code, reason, opcode: opcodeName(opcode) };
    return false;
  }

  private exceed(limit: LimitHit["limit"], offset: number, message: string): boolean {
    this.limitHit = { limit, offset, message };
    return false;
  }

  private statement(text: string): void {
    if (this.listing.length < this.maxListing) this.listing.push(text);
    else this.listingDropped++;
  }

  private get listingFull(): boolean {
    return this.listing.length >= this.maxListing;
  }

  private record<T>(list: T[], item: T): void {
    if (list.length < MAX_RECORDS) list.push(item);
    else this.droppedRecords++;
  }

  private constantImport(
    opcode: "GLOBAL" | "INST" | "STACK_GLOBAL",
    offset: number,
    module: string,
    name: string,
  ): SymGlobal {
    let resolved = { module, name };
    if (this.proto < 3) resolved = mapPython2Name(module, name);
    const replacement = this.findReplacement(resolved.module, resolved.name);
    let pushed: SymValue | undefined;
    if (replacement) {
      const { value, rest } = replacement;
      if (
        value.kind === "global" &&
        value.constant &&
        value.module !== null &&
        value.name !== null
      ) {
        // The loader gets the stored object, then the rest of the dotted path from it.
        resolved = { module: value.module, name: `${value.name}${rest}` };
      } else if (rest === "") {
        pushed = value;
      }
    }
    const renamed = resolved.module !== module || resolved.name !== name;
    const g = this.addImport({
      opcode,
      offset,
      module: resolved.module,
      name: resolved.name,
      constant: true,
      ...(renamed ? { written: { module, name } } : {}),
      ...(replacement ? { replacedBy: { offset: replacement.offset } } : {}),
    });
    if (pushed !== undefined) this.pushedInstead.set(g, pushed);
    return g;
  }

  /**
   * The longest dotted prefix of `module.name` that an earlier BUILD on an imported object (an
   * attribute) or a `sys.modules[key] = …` assignment (a module) replaced, with the rest of the
   * path after it (`""` or `".attr…"`).
   */
  private findReplacement(
    module: string,
    name: string,
  ): { value: SymValue; offset: number; rest: string } | undefined {
    if (this.attributes.size === 0) return undefined;
    const full = `${module}.${name}`;
    for (let end = full.length; end > 0; end = full.lastIndexOf(".", end - 1)) {
      const assigned = this.attributes.get(full.slice(0, end));
      if (assigned) return { ...assigned, rest: full.slice(end) };
    }
    return undefined;
  }

  /** What the loader holds after importing `g`: the object, or what was stored in its place. */
  private valueOf(g: SymGlobal): SymValue {
    return this.pushedInstead.get(g) ?? g;
  }

  private addImport(fields: Omit<SymGlobal, "kind" | "id" | "pickle">): SymGlobal {
    const g: SymGlobal = {
      kind: "global",
      id: this.importCount++,
      pickle: this.current?.index ?? 0,
      ...fields,
    };
    this.record(this.imports, g);
    const key =
      g.constant && g.module !== null && g.name !== null
        ? `${g.pickle}\u0000${g.module}\u0000${g.name}`
        : `${g.pickle}\u0000#${g.id}`;
    let usage = this.usageByKey.get(key);
    if (usage === undefined) {
      usage = { global: g, imports: 0, calls: 0, builds: 0, methodCalls: 0 };
      if (this.usages.length < MAX_RECORDS) {
        this.usageByKey.set(key, usage);
        this.usages.push(usage);
      }
    }
    usage.imports++;
    if (g.replacedBy && usage.replaced === undefined) {
      const w = g.written ?? g;
      usage.replaced = { written: `${w.module}.${w.name}`, offset: g.replacedBy.offset };
    }
    this.usageByGlobal.set(g, usage);
    return g;
  }

  private stackGlobal(moduleValue: SymValue, nameValue: SymValue, offset: number): boolean {
    const m = stackGlobalOperand(moduleValue);
    const n = stackGlobalOperand(nameValue);
    if (m.unknown === undefined && n.unknown === undefined) {
      const g = this.constantImport("STACK_GLOBAL", offset, m.value!, n.value!);
      return this.push(this.valueOf(g), offset);
    }
    const reasons = [
      m.unknown === undefined ? "" : `module is ${m.unknown}`,
      n.unknown === undefined ? "" : `name is ${n.unknown}`,
    ].filter(Boolean);
    const g = this.addImport({
      opcode: "STACK_GLOBAL",
      offset,
      module: m.value,
      name: n.value,
      constant: false,
      nonConstantReason: reasons.join("; "),
      operands: { module: moduleValue, name: nameValue },
    });
    if (m.typeError !== undefined || n.typeError !== undefined) {
      return this.raise(
        offset,
        "type-error",
        `STACK_GLOBAL requires str (${reasons.join("; ")})`,
        0x93,
      );
    }
    return this.push(g, offset);
  }

  private call(
    opcode: SymCall["opcode"],
    offset: number,
    callable: SymValue,
    args: SymValue,
    kwargs?: SymValue,
  ): SymCall {
    const call: SymCall =
      kwargs === undefined
        ? {
            kind: "call",
            id: this.callCount++,
            pickle: this.current?.index ?? 0,
            offset,
            opcode,
            callable,
            args,
          }
        : {
            kind: "call",
            id: this.callCount++,
            pickle: this.current?.index ?? 0,
            offset,
            opcode,
            callable,
            args,
            kwargs,
          };
    this.record(this.calls, call);
    this.noteUses(call);
    if (!this.listingFull) {
      this.statement(renderCall(call, { maxLength: this.limits.maxPseudocodeLength }));
    } else {
      this.listingDropped++;
    }
    return call;
  }

  /** Links a call to the globals it involves, for evidence. */
  private noteUses(call: SymCall): void {
    const callee = call.callable;
    let evidence: string | undefined;
    const render = () => {
      evidence ??= renderCall(call, {
        inline: true,
        maxLength: this.limits.maxPseudocodeLength,
      });
      return evidence;
    };
    const opcode = call.opcode;
    if (callee.kind === "global") {
      const usage = this.usageByGlobal.get(callee);
      if (usage) {
        usage.calls++;
        if (usage.evidence === undefined) {
          usage.evidence = { pseudocode: render(), offset: call.offset, opcode };
        }
      }
    } else if (callee.kind === "call") {
      // Calling a call's result (getattr(…)(…)): the outer call shows what finally runs.
      for (const g of collectGlobals(callee)) {
        const usage = this.usageByGlobal.get(g);
        if (usage && !this.indirectEvidence.has(usage)) {
          this.indirectEvidence.add(usage);
          usage.evidence = { pseudocode: render(), offset: call.offset, opcode };
        }
      }
    }
    const others = collectGlobals(call.args);
    if (call.kwargs) others.push(...collectGlobals(call.kwargs));
    if (callee.kind !== "global" && callee.kind !== "call") others.push(...collectGlobals(callee));
    for (const g of others) {
      const usage = this.usageByGlobal.get(g);
      if (usage && usage.evidence === undefined) {
        usage.evidence = { pseudocode: render(), offset: call.offset, opcode };
      }
    }
  }

  private methodCall(
    target: SymGlobal,
    method: NonNullable<SymCall["method"]>,
    args: SymValue,
    code: number,
    offset: number,
  ): void {
    const opcode = opcodeName(code) as SymCall["opcode"];
    const call: SymCall = {
      kind: "call",
      id: this.callCount++,
      pickle: this.current?.index ?? 0,
      offset,
      opcode,
      callable: target,
      args,
      method,
    };
    this.record(this.calls, call);
    const usage = this.usageByGlobal.get(target);
    const limit = this.limits.maxPseudocodeLength;
    if (usage) {
      usage.methodCalls++;
      usage.methodEvidence ??= {
        pseudocode: renderCall(call, { inline: true, maxLength: limit }),
        offset,
        opcode,
      };
    }
    if (!this.listingFull) this.statement(renderCall(call, { maxLength: limit }));
    else this.listingDropped++;
  }

  private extend(target: SymValue, items: SymValue[], code: number, offset: number): boolean {
    if (items.length === 0) return true;
    if (target.kind === "list") {
      for (const item of items) pushItem(target, item);
    } else if (target.kind === "global") {
      this.methodCall(target, "extend", sequence("list", items), code, offset);
    }
    return true;
  }

  private setItems(target: SymValue, items: SymValue[], code: number, offset: number): boolean {
    if (items.length === 0) return true;
    if (target.kind === "dict") {
      for (let i = 0; i < items.length; i += 2) {
        if (isContainer(items[i]!)) {
          return this.raise(
            offset,
            "type-error",
            `${opcodeName(code)} with an unhashable key`,
            code,
          );
        }
        setEntry(target, items[i]!, items[i + 1]!);
      }
    } else if (target.kind === "global") {
      const pairs: SymDict = { kind: "dict", entries: [], count: 0 };
      for (let i = 0; i < items.length; i += 2) setEntry(pairs, items[i]!, items[i + 1]!);
      this.methodCall(target, "__setitem__", pairs, code, offset);
      if (target.constant && target.module === "sys" && target.name === "modules") {
        // sys.modules[key] = value: a later import of `key` gets `value` (picklescan's
        // sys_module_override)
        for (let i = 0; i < items.length; i += 2) {
          const key = items[i]!;
          if (key.kind === "str" && key.value !== null)
            this.assign(key.value, items[i + 1]!, offset);
        }
      }
    }
    return true;
  }

  private build(target: SymValue, state: SymValue, offset: number): void {
    const build: SymBuild = {
      kind: "build",
      id: this.buildCount++,
      pickle: this.current?.index ?? 0,
      offset,
      target,
      state,
    };
    this.record(this.builds, build);
    this.lastBuild = build;
    const limit = this.limits.maxPseudocodeLength;
    const path = targetPath(target);
    if (path !== undefined) this.assignAttributes(path, state, offset);
    if (target.kind === "global") {
      const usage = this.usageByGlobal.get(target);
      if (usage) {
        usage.builds++;
        usage.buildEvidence ??= {
          pseudocode: renderBuild(build, { inline: true, maxLength: limit }),
          offset,
        };
      }
    }
    if (!this.listingFull) this.statement(renderBuild(build, { maxLength: limit }));
    else this.listingDropped++;
  }

  /**
   * BUILD on an imported object sets its attributes (the default `__setstate__`: `__dict__`
   * update, then `setattr` for a slot-state dict). Later imports of those attributes get the
   * assigned values — the trick that turns `torch._utils._rebuild_tensor` into `"builtins"`.
   */
  private assignAttributes(path: string, state: SymValue, offset: number): void {
    const dicts =
      state.kind === "dict"
        ? [state]
        : state.kind === "tuple" && state.count === 2
          ? state.items.filter((v): v is SymDict => v.kind === "dict")
          : [];
    for (const dict of dicts) {
      for (const [key, value] of dict.entries) {
        if (key.kind !== "str" || key.value === null) continue;
        this.assign(`${path}.${key.value}`, value, offset);
      }
    }
  }

  private assign(path: string, value: SymValue, offset: number): void {
    if (this.attributes.size >= MAX_ASSIGNED_ATTRIBUTES && !this.attributes.has(path)) return;
    this.attributes.set(path, { value, offset });
  }

  private persistent(opcode: "PERSID" | "BINPERSID", offset: number, pid: SymValue): SymPersistent {
    const value: SymPersistent = {
      kind: "persistent-id",
      id: this.persistentCount++,
      pickle: this.current?.index ?? 0,
      offset,
      opcode,
      pid,
    };
    this.record(this.persistentIds, value);
    return value;
  }
}

function sequence(kind: SymSequence["kind"], items: SymValue[]): SymSequence {
  const count = items.length;
  if (items.length > CONTAINER_PREVIEW) items.length = CONTAINER_PREVIEW;
  return { kind, items, count };
}

/** Imports reachable from a value within a small budget (for linking calls to globals). */
function collectGlobals(root: SymValue): SymGlobal[] {
  const found: SymGlobal[] = [];
  let budget = 64;
  const visit = (v: SymValue, depth: number): void => {
    if (budget-- <= 0 || depth > 4) return;
    switch (v.kind) {
      case "global":
        found.push(v);
        if (v.operands) {
          visit(v.operands.module, depth + 1);
          visit(v.operands.name, depth + 1);
        }
        return;
      case "call":
        visit(v.callable, depth + 1);
        visit(v.args, depth + 1);
        if (v.kwargs) visit(v.kwargs, depth + 1);
        return;
      case "list":
      case "tuple":
      case "set":
      case "frozenset":
        for (const item of v.items) visit(item, depth + 1);
        return;
      case "dict":
        for (const [k, val] of v.entries) {
          visit(k, depth + 1);
          visit(val, depth + 1);
        }
        return;
      case "persistent-id":
        visit(v.pid, depth + 1);
        return;
      default:
        return;
    }
  };
  visit(root, 0);
  return found;
}

/** Callables that return an existing module object named by their first argument. */
const MODULE_IMPORTERS: ReadonlySet<string> = new Set([
  "builtins.__import__",
  "importlib.import_module",
  "importlib.__import__",
]);

/**
 * The dotted path of the existing object a BUILD target is, when known: an imported name, or a
 * module returned by `__import__("name")` / `importlib.import_module("name")`.
 */
function targetPath(target: SymValue): string | undefined {
  if (target.kind === "global") {
    return target.constant && target.module !== null && target.name !== null
      ? `${target.module}.${target.name}`
      : undefined;
  }
  if (target.kind !== "call" || target.method !== undefined) return undefined;
  const callee = target.callable;
  if (callee.kind !== "global" || !callee.constant) return undefined;
  if (!MODULE_IMPORTERS.has(`${callee.module}.${callee.name}`)) return undefined;
  const first = target.args.kind === "tuple" ? target.args.items[0] : undefined;
  if (first?.kind !== "str" || first.value === null) return undefined;
  // __import__("a.b") returns the top-level package `a`; import_module("a.b") returns `a.b`.
  return callee.name === "import_module" ? first.value : first.value.split(".")[0];
}
