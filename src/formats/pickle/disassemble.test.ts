import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type ByteSource, memorySource } from "../../core/byte-source.js";
import { type DecodedOp, disassemble, disassembleToList } from "./disassemble.js";
import { PickleBuilder } from "./pickle-builder.js";

const latin1 = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));

/** `[name, offset, arg]` triples, args normalised for comparison. */
const summary = (ops: DecodedOp[]) =>
  ops.map((o) => [o.name, o.offset, o.arg instanceof Uint8Array ? [...o.arg] : o.arg]);

async function list(bytes: Uint8Array, options: Parameters<typeof disassembleToList>[1] = {}) {
  return disassembleToList(memorySource(bytes), options);
}

/** A source that records which byte ranges were read. */
function recordingSource(bytes: Uint8Array): ByteSource & { reads: [number, number][] } {
  const inner = memorySource(bytes);
  const reads: [number, number][] = [];
  return {
    size: bytes.length,
    reads,
    async read(offset, length) {
      const chunk = await inner.read(offset, length);
      reads.push([offset, offset + chunk.length]);
      return chunk;
    },
  };
}

describe("disassemble: one pickle per protocol", () => {
  it("protocol 0: text opcodes, memo PUTs, offsets", async () => {
    // pickle.dumps({'a': [1, 2.5, 'x']}, protocol=0)
    const r = await list(latin1("(dp0\nVa\np1\n(lp2\nI1\naF2.5\naVx\np3\nas."));
    expect(r.fault).toBeUndefined();
    expect(summary(r.ops)).toEqual([
      ["MARK", 0, null],
      ["DICT", 1, null],
      ["PUT", 2, 0],
      ["UNICODE", 5, "a"],
      ["PUT", 8, 1],
      ["MARK", 11, null],
      ["LIST", 12, null],
      ["PUT", 13, 2],
      ["INT", 16, 1],
      ["APPEND", 19, null],
      ["FLOAT", 20, 2.5],
      ["APPEND", 25, null],
      ["UNICODE", 26, "x"],
      ["PUT", 29, 3],
      ["APPEND", 32, null],
      ["SETITEM", 33, null],
      ["STOP", 34, null],
    ]);
    expect(r.end).toBe(35);
  });

  it("protocol 0: GLOBAL, INST, STRING with escapes, LONG, bool INT, PERSID, GET", async () => {
    const r = await list(
      latin1("cos\nsystem\n(S'a\\'b\\n\\x41'\nL123L\nI01\nI00\nPpid\ng0\nios\npath\n."),
    );
    expect(r.fault).toBeUndefined();
    expect(summary(r.ops)).toEqual([
      ["GLOBAL", 0, { module: "os", name: "system" }],
      ["MARK", 11, null],
      ["STRING", 12, [0x61, 0x27, 0x62, 0x0a, 0x41]],
      ["LONG", 26, 123],
      ["INT", 32, true],
      ["INT", 36, false],
      ["PERSID", 40, "pid"],
      ["GET", 45, 0],
      ["INST", 48, { module: "os", name: "path" }],
      ["STOP", 57, null],
    ]);
  });

  it("protocol 1: binary ints, BINUNICODE, BINFLOAT, BINPUT, APPENDS, SETITEMS", async () => {
    const b = new PickleBuilder()
      .op("EMPTY_DICT")
      .binput(0)
      .binunicode("a")
      .binput(1)
      .op("EMPTY_LIST")
      .binput(2)
      .op("MARK")
      .op("BININT1", 1)
      .op("BINFLOAT", 0x40, 0x04, 0, 0, 0, 0, 0, 0)
      .op("BININT2", 0x34, 0x12)
      .op("BININT", 0xff, 0xff, 0xff, 0xff)
      .op("APPENDS")
      .op("SETITEM")
      .shortBinstring("py2")
      .binstring("s4")
      .op("POP")
      .op("POP")
      .op("STOP");
    const r = await list(b.bytes());
    expect(r.fault).toBeUndefined();
    expect(summary(r.ops)).toEqual([
      ["EMPTY_DICT", 0, null],
      ["BINPUT", 1, 0],
      ["BINUNICODE", 3, "a"],
      ["BINPUT", 9, 1],
      ["EMPTY_LIST", 11, null],
      ["BINPUT", 12, 2],
      ["MARK", 14, null],
      ["BININT1", 15, 1],
      ["BINFLOAT", 17, 2.5],
      ["BININT2", 26, 0x1234],
      ["BININT", 29, -1],
      ["APPENDS", 34, null],
      ["SETITEM", 35, null],
      ["SHORT_BINSTRING", 36, [0x70, 0x79, 0x32]],
      ["BINSTRING", 41, [0x73, 0x34]],
      ["POP", 48, null],
      ["POP", 49, null],
      ["STOP", 50, null],
    ]);
  });

  it("protocol 2: PROTO, LONG1, NEWTRUE/NEWFALSE, TUPLE1-3, NEWOBJ, EXT codes", async () => {
    const b = new PickleBuilder()
      .proto(2)
      .op("LONG1", 2, 0xff, 0x00)
      .op("LONG1", 1, 0xff)
      .op("LONG1", 0)
      .op("LONG4", 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1)
      .op("NEWTRUE")
      .op("NEWFALSE")
      .op("TUPLE3")
      .op("TUPLE2")
      .op("EXT1", 7)
      .op("EXT2", 0x01, 0x02)
      .op("EXT4", 0x01, 0x00, 0x00, 0x80)
      .op("STOP");
    const r = await list(b.bytes());
    expect(r.fault).toBeUndefined();
    expect(summary(r.ops)).toEqual([
      ["PROTO", 0, 2],
      ["LONG1", 2, 255],
      ["LONG1", 6, -1],
      ["LONG1", 9, 0],
      ["LONG4", 11, 2n ** 64n],
      ["NEWTRUE", 25, null],
      ["NEWFALSE", 26, null],
      ["TUPLE3", 27, null],
      ["TUPLE2", 28, null],
      ["EXT1", 29, 7],
      ["EXT2", 31, 0x0201],
      ["EXT4", 34, -0x7fffffff],
      ["STOP", 39, null],
    ]);
  });

  it("protocol 3: BINBYTES and SHORT_BINBYTES are copied bytes", async () => {
    const b = new PickleBuilder()
      .proto(3)
      .shortBinbytes([1, 2, 3])
      .binbytes([9, 8])
      .op("TUPLE2")
      .op("STOP");
    const r = await list(b.bytes());
    expect(summary(r.ops)).toEqual([
      ["PROTO", 0, 3],
      ["SHORT_BINBYTES", 2, [1, 2, 3]],
      ["BINBYTES", 7, [9, 8]],
      ["TUPLE2", 14, null],
      ["STOP", 15, null],
    ]);
  });

  it("protocol 4: FRAME, STACK_GLOBAL, MEMOIZE, sets, NEWOBJ_EX, 8-byte lengths", async () => {
    const body = new PickleBuilder()
      .unicode("collections")
      .op("MEMOIZE")
      .unicode("OrderedDict")
      .op("MEMOIZE")
      .op("STACK_GLOBAL")
      .op("EMPTY_TUPLE")
      .op("EMPTY_DICT")
      .op("NEWOBJ_EX")
      .op("EMPTY_SET")
      .op("MARK")
      .op("BININT1", 5)
      .op("ADDITEMS")
      .op("MARK")
      .binunicode8("é")
      .op("FROZENSET")
      .op("BINBYTES8", 1, 0, 0, 0, 0, 0, 0, 0, 0xaa)
      .op("TUPLE3")
      .op("STOP")
      .bytes();
    const bytes = new PickleBuilder().proto(4).frame(body.length).raw(body).bytes();
    const r = await list(bytes);
    expect(r.fault).toBeUndefined();
    expect(r.ops.map((o) => o.name)).toEqual([
      "PROTO",
      "FRAME",
      "SHORT_BINUNICODE",
      "MEMOIZE",
      "SHORT_BINUNICODE",
      "MEMOIZE",
      "STACK_GLOBAL",
      "EMPTY_TUPLE",
      "EMPTY_DICT",
      "NEWOBJ_EX",
      "EMPTY_SET",
      "MARK",
      "BININT1",
      "ADDITEMS",
      "MARK",
      "BINUNICODE8",
      "FROZENSET",
      "BINBYTES8",
      "TUPLE3",
      "STOP",
    ]);
    expect(r.ops[1]!.arg).toBe(body.length);
    expect(r.ops[2]).toMatchObject({ offset: 11, arg: "collections", end: 24 });
    expect(r.ops[15]!.arg).toBe("é");
    expect(r.end).toBe(bytes.length);
  });

  it("protocol 5: BYTEARRAY8, NEXT_BUFFER, READONLY_BUFFER", async () => {
    const b = new PickleBuilder()
      .proto(5)
      .op("BYTEARRAY8", 2, 0, 0, 0, 0, 0, 0, 0, 0x61, 0x62)
      .op("NEXT_BUFFER")
      .op("READONLY_BUFFER")
      .op("TUPLE2")
      .op("STOP");
    const r = await list(b.bytes());
    expect(summary(r.ops)).toEqual([
      ["PROTO", 0, 5],
      ["BYTEARRAY8", 2, [0x61, 0x62]],
      ["NEXT_BUFFER", 13, null],
      ["READONLY_BUFFER", 14, null],
      ["TUPLE2", 15, null],
      ["STOP", 16, null],
    ]);
  });
});

describe("disassemble: long arguments are skipped, not read", () => {
  it("skips bytes and strings longer than maxDecodedArgument without reading them", async () => {
    const payload = new Uint8Array(1000).fill(0x41);
    const b = new PickleBuilder()
      .proto(4)
      .binbytes8Header(payload.length)
      .raw(payload)
      .binunicode("x".repeat(50))
      .op("BINUNICODE", 3, 0, 0, 0)
      .raw("abc")
      .op("TUPLE3")
      .op("STOP");
    const bytes = b.bytes();
    const source = recordingSource(bytes);
    const r = await disassembleToList(source, { maxDecodedArgument: 16, windowSize: 16 });
    expect(r.fault).toBeUndefined();
    expect(summary(r.ops)).toEqual([
      ["PROTO", 0, 4],
      ["BINBYTES8", 2, { kind: "skipped-bytes", length: 1000 }],
      ["BINUNICODE", 1011, { kind: "skipped-string", length: 50 }],
      ["BINUNICODE", 1066, "abc"],
      ["TUPLE3", 1074, null],
      ["STOP", 1075, null],
    ]);
    // No read touched the middle of either skipped argument.
    for (const [from, to] of source.reads) {
      expect(to <= 100 || from >= 1011).toBe(true);
      expect(to <= 1030 || from >= 1066).toBe(true);
    }
  });

  it("skips a protocol-0 STRING line longer than the limit by scanning for its newline", async () => {
    const long = `'${"z".repeat(500)}'`;
    const bytes = new PickleBuilder().string(long).string("'ok'").op("TUPLE2").op("STOP").bytes();
    const r = await list(bytes, { maxDecodedArgument: 64, windowSize: 32 });
    expect(r.fault).toBeUndefined();
    expect(summary(r.ops)).toEqual([
      ["STRING", 0, { kind: "skipped-string", length: 502 }],
      ["STRING", 504, [0x6f, 0x6b]],
      ["TUPLE2", 510, null],
      ["STOP", 511, null],
    ]);
  });

  it("skips INT/LONG lines longer than the limit, refuses other long lines", async () => {
    const long = await list(latin1(`I${"1".repeat(100)}\n.`), { maxDecodedArgument: 16 });
    expect(summary(long.ops)).toEqual([
      ["INT", 0, { kind: "skipped-int", length: 100 }],
      ["STOP", 102, null],
    ]);
    const r = await list(latin1(`c${"m".repeat(100)}\nx\n.`), { maxDecodedArgument: 16 });
    expect(r.ops).toEqual([]);
    expect(r.fault).toMatchObject({ offset: 0, code: "too-large", opcode: "GLOBAL" });
  });

  it("skips a huge BINBYTES8 by seeking: the source is never read past the header", async () => {
    const size = 300 * 1024 * 1024;
    const head = new PickleBuilder().proto(4).binbytes8Header(size).bytes();
    const reads: [number, number][] = [];
    const source: ByteSource = {
      size: head.length + size + 1,
      async read(offset, length) {
        reads.push([offset, length]);
        if (offset === head.length + size) return Uint8Array.of(0x2e);
        if (offset === 0) return head.subarray(0, Math.min(length, head.length));
        throw new Error(`unexpected read at ${offset}`);
      },
    };
    const r = await disassembleToList(source);
    expect(r.fault).toBeUndefined();
    expect(r.ops.map((o) => o.name)).toEqual(["PROTO", "BINBYTES8", "STOP"]);
    expect(r.ops[1]!.arg).toEqual({ kind: "skipped-bytes", length: size });
    expect(reads.map(([o]) => o)).toEqual([0, head.length + size]);
  });
});

describe("disassemble: faults keep what came before", () => {
  it("reports an unknown opcode byte with its offset", async () => {
    const r = await list(Uint8Array.of(0x80, 0x02, 0x4b, 0x01, 0x00, 0x2e));
    expect(r.ops.map((o) => o.name)).toEqual(["PROTO", "BININT1"]);
    expect(r.fault).toMatchObject({ offset: 4, code: "unknown-opcode" });
    expect(r.fault!.reason).toContain("0x00");
  });

  it("reports a truncated argument", async () => {
    const r = await list(Uint8Array.of(0x80, 0x02, 0x58, 5, 0, 0, 0, 0x61, 0x62));
    expect(r.ops.map((o) => o.name)).toEqual(["PROTO"]);
    expect(r.fault).toMatchObject({ offset: 2, code: "truncated", opcode: "BINUNICODE" });
  });

  it("reports a truncated fixed argument and a line without newline", async () => {
    expect((await list(Uint8Array.of(0x4a, 1, 2))).fault).toMatchObject({
      offset: 0,
      code: "truncated",
    });
    expect((await list(latin1("N I12"))).fault).toMatchObject({
      offset: 1,
      code: "unknown-opcode",
    });
    const r = await list(latin1("NI12"));
    expect(r.ops.map((o) => o.name)).toEqual(["NONE"]);
    expect(r.fault).toMatchObject({ offset: 1, code: "truncated", opcode: "INT" });
  });

  it("reports bad text arguments", async () => {
    for (const text of [
      "Iabc\n.",
      "L\n.",
      "Fx1\n.",
      "S'unterminated\n.",
      "S'a\\x4'\n.",
      "gx\n.",
      "c\nname\n.",
    ]) {
      const r = await list(latin1(text));
      expect(r.fault, text).toMatchObject({ offset: 0, code: "bad-argument" });
    }
    const utf8 = await list(Uint8Array.of(0x8c, 2, 0xc3, 0x28, 0x2e));
    expect(utf8.fault).toMatchObject({ code: "bad-argument", opcode: "SHORT_BINUNICODE" });
  });

  it("reports negative and impossible lengths", async () => {
    expect((await list(Uint8Array.of(0x8b, 0xff, 0xff, 0xff, 0xff))).fault).toMatchObject({
      code: "bad-argument",
      opcode: "LONG4",
    });
    const huge = Uint8Array.of(0x8e, 0, 0, 0, 0, 0, 0, 0, 0x80);
    expect((await list(huge)).fault).toMatchObject({ code: "too-large", opcode: "BINBYTES8" });
    const claim = Uint8Array.of(0x8e, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0);
    expect((await list(claim)).fault).toMatchObject({ code: "truncated", opcode: "BINBYTES8" });
  });

  it("reports a failing source as a read error", async () => {
    const source: ByteSource = {
      size: 10,
      read: () => Promise.reject(new Error("disk on fire")),
    };
    const r = await disassembleToList(source);
    expect(r.fault).toMatchObject({ offset: 0, code: "read-error" });
    expect(r.fault!.reason).toContain("disk on fire");
  });

  it("honours start and end", async () => {
    const bytes = latin1("garbageK\x05K\x06.more");
    const r = await list(bytes, { start: 7, end: 12 });
    expect(r.fault).toBeUndefined();
    expect(summary(r.ops)).toEqual([
      ["BININT1", 7, 5],
      ["BININT1", 9, 6],
      ["STOP", 11, null],
    ]);
    expect(r.end).toBe(12);
  });

  it("stops when the visitor says so", async () => {
    const seen: number[] = [];
    const r = await disassemble(memorySource(latin1("NNNN.")), {
      op(_code, _arg, offset) {
        seen.push(offset);
        return offset < 1;
      },
    });
    expect(seen).toEqual([0, 1]);
    expect(r).toMatchObject({ stopped: true, end: 2 });
  });
});

/** Valid pickles to mutate: a few shapes built by hand. */
const seeds: Uint8Array[] = [
  latin1("(dp0\nVa\np1\n(lp2\nI1\naF2.5\naVx\np3\nas."),
  latin1("cos\nsystem\n(S'echo hi'\ntR."),
  new PickleBuilder()
    .proto(4)
    .frame(30)
    .stackGlobal("builtins", "getattr")
    .op("MEMOIZE")
    .binget(0)
    .unicode("eval")
    .op("TUPLE2")
    .op("REDUCE")
    .op("STOP")
    .bytes(),
  new PickleBuilder()
    .proto(2)
    .op("EMPTY_LIST")
    .op("MARK")
    .int(1)
    .int(300)
    .int(70000)
    .op("LONG1", 2, 1, 2)
    .binunicode8("s")
    .op("APPENDS")
    .op("STOP")
    .bytes(),
];

function checkWalk(ops: DecodedOp[], end: number, size: number) {
  let last = -1;
  for (const o of ops) {
    expect(o.offset).toBeGreaterThan(last);
    expect(o.end).toBeGreaterThan(o.offset);
    expect(o.end).toBeLessThanOrEqual(size);
    last = o.offset;
  }
  expect(end).toBeLessThanOrEqual(size);
}

describe("disassemble: properties", () => {
  it("never throws on random bytes; offsets increase; it terminates", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 300 }),
        fc.integer({ min: 16, max: 64 }),
        async (bytes, windowSize) => {
          const r = await list(bytes, { windowSize, maxDecodedArgument: 32 });
          checkWalk(r.ops, r.end, bytes.length);
          if (!r.fault) expect(r.end).toBe(bytes.length);
        },
      ),
      { numRuns: 400 },
    );
  });

  it("never throws on mutated valid pickles, and the window size does not change the result", async () => {
    const mutation = fc.record({
      seed: fc.integer({ min: 0, max: seeds.length - 1 }),
      edits: fc.array(
        fc.tuple(
          fc.nat(),
          fc.integer({ min: 0, max: 255 }),
          fc.constantFrom("set", "insert", "cut"),
        ),
        { maxLength: 4 },
      ),
    });
    await fc.assert(
      fc.asyncProperty(mutation, async ({ seed, edits }) => {
        let bytes = [...seeds[seed]!];
        for (const [at, value, kind] of edits) {
          const i = at % (bytes.length + 1);
          if (kind === "set" && i < bytes.length) bytes[i] = value;
          else if (kind === "insert") bytes.splice(i, 0, value);
          else bytes = bytes.slice(0, i);
        }
        const data = Uint8Array.from(bytes);
        const small = await list(data, { windowSize: 16, maxDecodedArgument: 8 });
        const large = await list(data, { maxDecodedArgument: 8 });
        checkWalk(small.ops, small.end, data.length);
        expect(summary(small.ops)).toEqual(summary(large.ops));
        expect(small.fault).toEqual(large.fault);
      }),
      { numRuns: 400 },
    );
  });
});
