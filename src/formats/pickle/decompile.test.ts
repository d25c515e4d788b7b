import { describe, expect, it } from "vitest";
import { memorySource } from "../../core/byte-source.js";
import { DEFAULT_LIMITS } from "../../core/limits.js";
import { pyBytes, pyString, renderValue } from "./decompile.js";
import { disassemble } from "./disassemble.js";
import { PickleMachine } from "./machine.js";
import { PickleBuilder, reducePickle } from "./pickle-builder.js";
import type { SymValue } from "./values.js";

async function listing(bytes: Uint8Array) {
  const machine = new PickleMachine({ limits: DEFAULT_LIMITS });
  await disassemble(memorySource(bytes), machine);
  return machine;
}

describe("decompile: statements", () => {
  it('renders a REDUCE call as `_var0 = os.system("touch /tmp/x")`', async () => {
    const m = await listing(reducePickle("os", "system", "touch /tmp/x"));
    expect(m.listing).toEqual([
      "# pickle 0 at offset 0",
      '_var0 = os.system("touch /tmp/x")',
      "return _var0",
    ]);
    expect(m.usages[0]!.evidence).toEqual({
      pseudocode: '_var0 = os.system("touch /tmp/x")',
      offset: 28,
      opcode: "REDUCE",
    });
  });

  it("names nested calls `_varN` in listings and nests them in evidence", async () => {
    // getattr(__import__("builtins"), "eval")("print(1)")
    const bytes = new PickleBuilder()
      .proto(2)
      .global("builtins", "getattr")
      .global("builtins", "__import__")
      .unicode("builtins")
      .op("TUPLE1")
      .op("REDUCE")
      .unicode("eval")
      .op("TUPLE2")
      .op("REDUCE")
      .unicode("print(1)")
      .op("TUPLE1")
      .op("REDUCE")
      .op("STOP")
      .bytes();
    const m = await listing(bytes);
    expect(m.listing.slice(1)).toEqual([
      '_var0 = builtins.__import__("builtins")',
      '_var1 = builtins.getattr(_var0, "eval")',
      '_var2 = _var1("print(1)")',
      "return _var2",
    ]);
    const getattr = m.usages.find((u) => u.global.name === "getattr")!;
    expect(getattr.evidence?.pseudocode).toBe(
      '_var2 = builtins.getattr(builtins.__import__("builtins"), "eval")("print(1)")',
    );
    const imp = m.usages.find((u) => u.global.name === "__import__")!;
    expect(imp.evidence?.pseudocode).toBe(
      '_var2 = builtins.getattr(builtins.__import__("builtins"), "eval")("print(1)")',
    );
  });

  it("renders NEWOBJ, NEWOBJ_EX keyword arguments and BUILD", async () => {
    const bytes = new PickleBuilder()
      .proto(4)
      .global("collections", "OrderedDict")
      .op("EMPTY_TUPLE")
      .op("NEWOBJ")
      .op("EMPTY_DICT")
      .unicode("a")
      .op("BININT1", 1)
      .op("SETITEM")
      .op("BUILD")
      .global("m", "C")
      .op("EMPTY_TUPLE")
      .op("EMPTY_DICT")
      .unicode("key")
      .op("NONE")
      .op("SETITEM")
      .op("NEWOBJ_EX")
      .op("TUPLE2")
      .op("STOP")
      .bytes();
    const m = await listing(bytes);
    expect(m.listing.slice(1)).toEqual([
      "_var0 = collections.OrderedDict.__new__(collections.OrderedDict)",
      '_var0.__setstate__({"a": 1})',
      "_var1 = m.C.__new__(m.C, key=None)",
      "return (_var0, _var1)",
    ]);
  });

  it("renders BUILD on an imported object as attribute assignment", async () => {
    const bytes = new PickleBuilder()
      .global("m", "f")
      .op("EMPTY_DICT")
      .unicode("__code__")
      .unicode("x")
      .op("SETITEM")
      .op("BUILD")
      .op("STOP")
      .bytes();
    const m = await listing(bytes);
    expect(m.listing[1]).toBe('m.f.__code__ = "x"');
    expect(m.usages[0]!.buildEvidence?.pseudocode).toBe('m.f.__code__ = "x"');
  });

  it("renders implicit __setitem__ on an import, persistent ids and extension codes", async () => {
    const bytes = new PickleBuilder()
      .global("os", "environ")
      .unicode("LD_PRELOAD")
      .unicode("/tmp/x.so")
      .op("SETITEM")
      .op("POP")
      .unicode("storage")
      .op("TUPLE1")
      .op("BINPERSID")
      .op("EXT2", 1, 2)
      .op("TUPLE2")
      .op("STOP")
      .bytes();
    const m = await listing(bytes);
    expect(m.listing.slice(1)).toEqual([
      'os.environ["LD_PRELOAD"] = "/tmp/x.so"',
      'return (persistent_load(("storage",)), find_class(*copyreg._inverted_registry[513]))',
    ]);
  });

  it("renders a non-constant STACK_GLOBAL as find_class(...)", async () => {
    const bytes = new PickleBuilder()
      .proto(4)
      .unicode("os")
      .global("m", "name")
      .op("EMPTY_TUPLE")
      .op("REDUCE")
      .op("STACK_GLOBAL")
      .op("STOP")
      .bytes();
    const m = await listing(bytes);
    expect(m.listing.slice(1)).toEqual(["_var0 = m.name()", 'return find_class("os", _var0)']);
  });
});

describe("decompile: values", () => {
  it("escapes and cuts strings and bytes", () => {
    expect(pyString('a"b\\c\n\u0000\u202e')).toBe('"a\\"b\\\\c\\n\\x00\\u202e"');
    expect(pyString("é日本")).toBe('"é日本"');
    expect(pyString("x".repeat(10), 4)).toBe('"xxxx…"(+6 chars)');
    expect(pyBytes(Uint8Array.of(0, 0x41, 0x22, 0xff))).toBe('b"\\x00A\\"\\xff"');
  });

  it("summarises large containers and skipped arguments", () => {
    const list: SymValue = {
      kind: "list",
      items: [0, 1, 2].map((value) => ({ kind: "int", value })),
      count: 10_000_000,
    };
    expect(renderValue(list, { maxItems: 3 })).toBe("[0, 1, 2, … 10000000 items]");
    expect(renderValue({ kind: "tuple", items: [{ kind: "none" }], count: 1 })).toBe("(None,)");
    expect(renderValue({ kind: "set", items: [], count: 0 })).toBe("set()");
    expect(renderValue({ kind: "str", value: null, length: 5_000_000 })).toBe(
      "<str of 5000000 bytes, not read>",
    );
    expect(renderValue({ kind: "float", value: 2 })).toBe("2.0");
    expect(renderValue({ kind: "float", value: Number.NaN })).toBe('float("nan")');
    expect(renderValue({ kind: "int", value: 2n ** 70n })).toBe("1180591620717411303424");
  });

  it("cuts every rendering at maxLength", () => {
    const long: SymValue = { kind: "str", value: "y".repeat(1000), length: 1000 };
    const text = renderValue(
      { kind: "tuple", items: [long, long, long], count: 3 },
      { maxLength: 50 },
    );
    expect(text).toHaveLength(50);
    expect(text.endsWith("…")).toBe(true);
  });

  it("terminates on self-referencing lists", () => {
    const list = { kind: "list" as const, items: [] as SymValue[], count: 0 };
    list.items.push(list);
    list.count = 1;
    expect(renderValue(list, { maxDepth: 3 })).toBe("[[[[…]]]]");
  });
});
