/**
 * Builds pickle byte strings by hand, opcode by opcode, for tests (ours and other analysers'):
 * nothing is pickled by Python, so every byte is visible in the test.
 *
 * ```ts
 * const bytes = new PickleBuilder().proto(2).global("os", "system")
 *   .unicode("touch /tmp/x").op("TUPLE1").op("REDUCE").op("STOP").bytes();
 * ```
 */

import { OP, type OpcodeName } from "./opcodes.js";

const utf8 = new TextEncoder();

function le(value: number | bigint, bytes: number): number[] {
  let v = BigInt(value);
  const out: number[] = [];
  for (let i = 0; i < bytes; i++) {
    out.push(Number(v & 0xffn));
    v >>= 8n;
  }
  return out;
}

export class PickleBuilder {
  private readonly parts: number[] = [];

  /** Current length: the offset of the next opcode. */
  get length(): number {
    return this.parts.length;
  }

  /** Raw bytes or Latin-1 text. */
  raw(data: Uint8Array | readonly number[] | string): this {
    if (typeof data === "string") {
      for (let i = 0; i < data.length; i++) this.parts.push(data.charCodeAt(i) & 0xff);
    } else {
      for (const b of data) this.parts.push(b);
    }
    return this;
  }

  /** An opcode, followed by optional raw argument bytes. */
  op(name: OpcodeName, ...arg: number[]): this {
    this.parts.push(OP[name], ...arg);
    return this;
  }

  proto(version: number): this {
    return this.op("PROTO", version);
  }

  frame(length: number): this {
    return this.op("FRAME", ...le(length, 8));
  }

  /** The shortest binary int opcode for `n` (BININT1, BININT2 or BININT). */
  int(n: number): this {
    if (n >= 0 && n < 256) return this.op("BININT1", n);
    if (n >= 0 && n < 65536) return this.op("BININT2", ...le(n, 2));
    return this.op("BININT", ...le(n, 4));
  }

  /** SHORT_BINUNICODE, or BINUNICODE when longer than 255 bytes. */
  unicode(text: string): this {
    const b = utf8.encode(text);
    if (b.length < 256) return this.op("SHORT_BINUNICODE", b.length).raw(b);
    return this.op("BINUNICODE", ...le(b.length, 4)).raw(b);
  }

  binunicode(text: string): this {
    const b = utf8.encode(text);
    return this.op("BINUNICODE", ...le(b.length, 4)).raw(b);
  }

  binunicode8(text: string): this {
    const b = utf8.encode(text);
    return this.op("BINUNICODE8", ...le(b.length, 8)).raw(b);
  }

  /** Protocol-0 STRING with the literal written as given, e.g. `'os'` or `"a\\n"`. */
  string(literal: string): this {
    return this.op("STRING").raw(`${literal}\n`);
  }

  /** Protocol-0 UNICODE line, raw-unicode-escape text as given. */
  unicodeLine(text: string): this {
    return this.op("UNICODE").raw(`${text}\n`);
  }

  shortBinstring(text: string): this {
    return this.op("SHORT_BINSTRING", text.length).raw(text);
  }

  binstring(text: string): this {
    return this.op("BINSTRING", ...le(text.length, 4)).raw(text);
  }

  shortBinbytes(data: Uint8Array | readonly number[]): this {
    return this.op("SHORT_BINBYTES", data.length).raw(data);
  }

  binbytes(data: Uint8Array | readonly number[]): this {
    return this.op("BINBYTES", ...le(data.length, 4)).raw(data);
  }

  /** BINBYTES8 header claiming `length` bytes, with only `data` actually written. */
  binbytes8Header(length: number | bigint): this {
    return this.op("BINBYTES8", ...le(length, 8));
  }

  global(module: string, name: string): this {
    return this.op("GLOBAL").raw(utf8.encode(`${module}\n${name}\n`));
  }

  inst(module: string, name: string): this {
    return this.op("INST").raw(`${module}\n${name}\n`);
  }

  /** `module` and `name` as SHORT_BINUNICODE, then STACK_GLOBAL. */
  stackGlobal(module: string, name: string): this {
    return this.unicode(module).unicode(name).op("STACK_GLOBAL");
  }

  binput(index: number): this {
    return this.op("BINPUT", index);
  }

  binget(index: number): this {
    return this.op("BINGET", index);
  }

  longBinput(index: number): this {
    return this.op("LONG_BINPUT", ...le(index, 4));
  }

  longBinget(index: number): this {
    return this.op("LONG_BINGET", ...le(index, 4));
  }

  bytes(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

/** `callable(arg)` as `GLOBAL module name; SHORT_BINUNICODE arg; TUPLE1; REDUCE` (protocol 2). */
export function reducePickle(module: string, name: string, arg: string): Uint8Array {
  return new PickleBuilder()
    .proto(2)
    .global(module, name)
    .unicode(arg)
    .op("TUPLE1")
    .op("REDUCE")
    .op("STOP")
    .bytes();
}

/**
 * The `data.pkl` torch.save writes for a state dict of `storages` float32 tensors of
 * `storageBytes` each (`layer<i>.weight`, storage key `<i>`): what benches and tests build large
 * checkpoints around.
 */
export function stateDictPickle(storages: number, storageBytes: number): Uint8Array {
  const numel = storageBytes / 4;
  const b = new PickleBuilder()
    .proto(2)
    .global("collections", "OrderedDict")
    .op("EMPTY_TUPLE")
    .op("REDUCE")
    .op("MARK");
  for (let i = 0; i < storages; i++) {
    b.binunicode(`layer${i}.weight`).global("torch._utils", "_rebuild_tensor_v2").op("MARK");
    b.op("MARK").binunicode("storage").global("torch", "FloatStorage").binunicode(String(i));
    b.binunicode("cpu").int(numel).op("TUPLE").op("BINPERSID");
    b.int(0).op("MARK").int(numel).op("TUPLE").op("MARK").int(1).op("TUPLE");
    b.op("NEWFALSE").global("collections", "OrderedDict").op("EMPTY_TUPLE").op("REDUCE");
    b.op("TUPLE").op("REDUCE");
  }
  return b.op("SETITEMS").op("STOP").bytes();
}
