import { describe, expect, it } from "vitest";
import { memorySource } from "../../core/byte-source.js";
import { DEFAULT_LIMITS, type Limits } from "../../core/limits.js";
import { disassemble } from "./disassemble.js";
import { PickleMachine } from "./machine.js";
import { OPCODES } from "./opcodes.js";
import { PickleBuilder } from "./pickle-builder.js";
import type { SymValue } from "./values.js";

const latin1 = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));

async function run(
  bytes: Uint8Array,
  options: { limits?: Partial<Limits>; maxPickles?: number } = {},
) {
  const machine = new PickleMachine({
    limits: { ...DEFAULT_LIMITS, ...options.limits },
    ...(options.maxPickles === undefined ? {} : { maxPickles: options.maxPickles }),
  });
  const walk = await disassemble(memorySource(bytes), machine, {
    maxDecodedArgument: options.limits?.maxDecodedArgument ?? DEFAULT_LIMITS.maxDecodedArgument,
  });
  machine.finish(machine.fault?.offset ?? walk.fault?.offset ?? walk.end);
  return { machine, walk, fault: machine.fault ?? walk.fault };
}

const names = (m: PickleMachine) =>
  m.imports.map((g) => (g.constant ? `${g.module}.${g.name}` : `?${g.module}.${g.name}`));

const result = (m: PickleMachine, i = 0): SymValue => m.pickles[i]!.result!;

describe("machine: STACK_GLOBAL operands", () => {
  it("resolves module and name pushed directly", async () => {
    const { machine, fault } = await run(
      new PickleBuilder().proto(4).stackGlobal("os", "system").op("STOP").bytes(),
    );
    expect(fault).toBeUndefined();
    expect(names(machine)).toEqual(["os.system"]);
    expect(machine.imports[0]).toMatchObject({
      opcode: "STACK_GLOBAL",
      offset: 14,
      constant: true,
    });
  });

  it("resolves operands fetched from the memo (BINPUT/BINGET, LONG_BINPUT/LONG_BINGET)", async () => {
    const bytes = new PickleBuilder()
      .proto(4)
      .unicode("os")
      .binput(0)
      .op("POP")
      .unicode("system")
      .longBinput(70000)
      .op("POP")
      .binget(0)
      .longBinget(70000)
      .op("STACK_GLOBAL")
      .op("STOP")
      .bytes();
    const { machine, fault } = await run(bytes);
    expect(fault).toBeUndefined();
    expect(names(machine)).toEqual(["os.system"]);
  });

  it("numbers MEMOIZE entries by the memo's size, not its highest index", async () => {
    // BINPUT 5 "decoy"; MEMOIZE "os" → index 1; MEMOIZE "system" → index 2.
    const bytes = new PickleBuilder()
      .proto(4)
      .unicode("decoy")
      .binput(5)
      .op("POP")
      .unicode("os")
      .op("MEMOIZE")
      .op("POP")
      .unicode("system")
      .op("MEMOIZE")
      .op("POP")
      .binget(1)
      .binget(2)
      .op("STACK_GLOBAL")
      .op("STOP")
      .bytes();
    const { machine, fault } = await run(bytes);
    expect(fault).toBeUndefined();
    expect(names(machine)).toEqual(["os.system"]);
  });

  it("picks the right memo entries past decoys", async () => {
    const bytes = new PickleBuilder()
      .proto(4)
      .unicode("torch")
      .binput(0)
      .unicode("LongStorage")
      .binput(1)
      .unicode("os")
      .binput(2)
      .unicode("system")
      .binput(3)
      .op("POP")
      .op("POP")
      .op("POP")
      .op("POP")
      .binget(2)
      .binget(3)
      .op("STACK_GLOBAL")
      .binget(0)
      .binget(1)
      .op("STACK_GLOBAL")
      .op("TUPLE2")
      .op("STOP")
      .bytes();
    const { machine, fault } = await run(bytes);
    expect(fault).toBeUndefined();
    expect(names(machine)).toEqual(["os.system", "torch.LongStorage"]);
  });

  it("resolves BINUNICODE8, protocol-0 UNICODE and STRING operands exactly", async () => {
    const bytes = new PickleBuilder()
      .proto(4)
      .binunicode8("posix")
      .unicodeLine("sys\\u0074em")
      .op("STACK_GLOBAL")
      .string("'built\\x69ns'")
      .shortBinstring("eval")
      .op("STACK_GLOBAL")
      .op("TUPLE2")
      .op("STOP")
      .bytes();
    const { machine, fault } = await run(bytes);
    expect(fault).toBeUndefined();
    expect(names(machine)).toEqual(["posix.system", "builtins.eval"]);
  });

  it("marks a name computed by a call as non-constant, and goes on", async () => {
    // STACK_GLOBAL("os", str.lower("SYSTEM"))
    const bytes = new PickleBuilder()
      .proto(4)
      .unicode("os")
      .stackGlobal("builtins", "str.lower")
      .unicode("SYSTEM")
      .op("TUPLE1")
      .op("REDUCE")
      .op("STACK_GLOBAL")
      .op("EMPTY_TUPLE")
      .op("REDUCE")
      .op("STOP")
      .bytes();
    const { machine, fault } = await run(bytes);
    expect(fault).toBeUndefined();
    expect(machine.imports).toHaveLength(2);
    const hidden = machine.imports[1]!;
    expect(hidden).toMatchObject({ constant: false, module: "os", name: null });
    expect(hidden.nonConstantReason).toContain("name is the result of a call");
    expect(machine.calls).toHaveLength(2);
    expect(machine.calls[1]!.callable).toBe(hidden);
  });

  it("faults like CPython when an operand is certainly not a str (type confusion)", async () => {
    const bytes = new PickleBuilder()
      .proto(4)
      .op("BININT1", 7)
      .binput(0)
      .unicode("os")
      .binget(0)
      .op("STACK_GLOBAL")
      .op("STOP")
      .bytes();
    const { machine, fault } = await run(bytes);
    expect(machine.imports).toHaveLength(1);
    expect(machine.imports[0]).toMatchObject({ constant: false, module: "os", name: null });
    expect(fault).toMatchObject({ code: "type-error", opcode: "STACK_GLOBAL" });
    expect(fault!.reason).toContain("STACK_GLOBAL requires str");
  });

  it("treats a non-ASCII Python 2 string operand as non-constant (it depends on the encoding)", async () => {
    const bytes = new PickleBuilder()
      .proto(4)
      .shortBinstring("o\xe9")
      .unicode("x")
      .op("STACK_GLOBAL")
      .op("STOP")
      .bytes();
    const { machine, fault } = await run(bytes);
    expect(fault).toBeUndefined();
    expect(machine.imports[0]).toMatchObject({ constant: false, module: "o\u00e9", name: "x" });
  });
});

describe("machine: memo, stack and marks like CPython", () => {
  it("faults on a missing memo key, keeping the import before it", async () => {
    const bytes = new PickleBuilder().proto(2).global("os", "system").binget(9).op("STOP").bytes();
    const { machine, fault } = await run(bytes);
    expect(names(machine)).toEqual(["os.system"]);
    expect(fault).toMatchObject({ offset: 13, code: "missing-memo", opcode: "BINGET" });
  });

  it("hides the stack below a MARK: REDUCE right after MARK underflows", async () => {
    const bytes = new PickleBuilder()
      .global("os", "system")
      .unicode("x")
      .op("TUPLE1")
      .op("MARK")
      .op("REDUCE")
      .bytes();
    const { fault } = await run(bytes);
    expect(fault).toMatchObject({ code: "stack-underflow", opcode: "REDUCE" });
  });

  it("POP on an empty frame pops the MARK; POP_MARK without MARK faults", async () => {
    const ok = await run(latin1("N(0."));
    expect(ok.fault).toBeUndefined();
    expect(result(ok.machine)).toEqual({ kind: "none" });
    const bad = await run(latin1("N1."));
    expect(bad.fault).toMatchObject({ offset: 1, code: "missing-mark" });
  });

  it("faults on STOP with an empty stack, DUP/PUT on an empty frame, odd DICT", async () => {
    expect((await run(latin1("."))).fault).toMatchObject({ code: "stack-underflow" });
    expect((await run(latin1("(2"))).fault).toMatchObject({
      code: "stack-underflow",
      opcode: "DUP",
    });
    expect((await run(latin1("(p0\n"))).fault).toMatchObject({ opcode: "PUT" });
    expect((await run(latin1("(K\x01d."))).fault).toMatchObject({
      code: "bad-value",
      opcode: "DICT",
    });
    expect((await run(latin1("Np-1\n."))).fault).toMatchObject({
      code: "bad-value",
      opcode: "PUT",
    });
  });

  it("rejects an unsupported protocol", async () => {
    const { fault } = await run(Uint8Array.of(0x80, 6, 0x4e, 0x2e));
    expect(fault).toMatchObject({ offset: 0, code: "bad-value", opcode: "PROTO" });
  });

  it("handles every opcode of the table", async () => {
    // Each opcode, fed on an empty stack, either works or faults with a reason: none is unhandled.
    for (const info of OPCODES) {
      const machine = new PickleMachine({ limits: DEFAULT_LIMITS });
      const arg = info.name === "GLOBAL" || info.name === "INST" ? { module: "m", name: "n" } : 1;
      machine.op(info.code, arg, 0, 1);
      expect(machine.fault?.code, info.name).not.toBe("unknown-opcode");
    }
  });
});

describe("machine: calls, builds, persistent ids", () => {
  it("records REDUCE, INST, OBJ, NEWOBJ and NEWOBJ_EX as calls with their arguments", async () => {
    const bytes = new PickleBuilder()
      .proto(4)
      .op("MARK")
      .op("MARK")
      .unicode("a")
      .inst("mod", "Inst")
      .op("MARK")
      .global("mod", "Obj")
      .op("BININT1", 1)
      .op("OBJ")
      .global("mod", "New")
      .op("EMPTY_TUPLE")
      .op("NEWOBJ")
      .global("mod", "NewEx")
      .op("BININT1", 2)
      .op("TUPLE1")
      .op("EMPTY_DICT")
      .unicode("k")
      .op("NEWTRUE")
      .op("SETITEM")
      .op("NEWOBJ_EX")
      .global("mod", "f")
      .op("EMPTY_TUPLE")
      .op("REDUCE")
      .op("MARK")
      .op("LIST")
      .op("TUPLE")
      .op("STOP")
      .bytes();
    const { machine, fault } = await run(bytes);
    expect(fault).toBeUndefined();
    expect(machine.calls.map((c) => c.opcode)).toEqual([
      "INST",
      "OBJ",
      "NEWOBJ",
      "NEWOBJ_EX",
      "REDUCE",
    ]);
    expect(machine.calls.map((c) => c.id)).toEqual([0, 1, 2, 3, 4]);
    expect(machine.calls[0]!.args).toMatchObject({ kind: "tuple", count: 1 });
    expect(machine.calls[1]!.args).toMatchObject({ kind: "tuple", count: 1 });
    expect(machine.calls[3]!.kwargs).toMatchObject({ kind: "dict", count: 1 });
    expect(names(machine)).toEqual(["mod.Inst", "mod.Obj", "mod.New", "mod.NewEx", "mod.f"]);
    const top = result(machine);
    expect(top).toMatchObject({ kind: "tuple", count: 6 });
  });

  it("records BUILD with its target and state", async () => {
    const bytes = new PickleBuilder()
      .global("mod", "C")
      .op("EMPTY_TUPLE")
      .op("NEWOBJ")
      .op("EMPTY_DICT")
      .unicode("x")
      .op("BININT1", 1)
      .op("SETITEM")
      .op("BUILD")
      .op("STOP")
      .bytes();
    const { machine, fault } = await run(bytes);
    expect(fault).toBeUndefined();
    expect(machine.builds).toHaveLength(1);
    expect(machine.builds[0]!.target).toBe(machine.calls[0]);
    expect(machine.builds[0]!.state).toMatchObject({ kind: "dict", count: 1 });
    expect(result(machine)).toBe(machine.calls[0]);
  });

  it("records implicit method calls on an imported object (os.environ[...] = ...)", async () => {
    const bytes = new PickleBuilder()
      .global("os", "environ")
      .string("'LD_PRELOAD'")
      .string("'/tmp/x.so'")
      .op("SETITEM")
      .op("STOP")
      .bytes();
    const { machine, fault } = await run(bytes);
    expect(fault).toBeUndefined();
    expect(machine.calls).toHaveLength(1);
    expect(machine.calls[0]).toMatchObject({ opcode: "SETITEM", method: "__setitem__" });
    expect(machine.usages[0]!.methodCalls).toBe(1);
  });

  it("gives later imports the attributes a BUILD assigned to an imported module", async () => {
    // BUILD sets torch._utils._rebuild_tensor = "builtins", then = "eval"; each later import of
    // that attribute yields the string, so STACK_GLOBAL resolves builtins.eval.
    const assign = (b: PickleBuilder, value: string) =>
      b
        .binget(0)
        .op("NONE")
        .op("EMPTY_DICT")
        .unicode("_rebuild_tensor")
        .unicode(value)
        .op("SETITEM")
        .op("TUPLE2")
        .op("BUILD")
        .op("POP")
        .stackGlobal("torch._utils", "_rebuild_tensor");
    const b = new PickleBuilder().proto(4).stackGlobal("torch", "_utils").binput(0).op("POP");
    assign(b, "builtins");
    assign(b, "eval");
    const bytes = b.op("STACK_GLOBAL").unicode("1+1").op("TUPLE1").op("REDUCE").op("STOP").bytes();
    const { machine, fault } = await run(bytes);
    expect(fault).toBeUndefined();
    expect(names(machine)).toEqual([
      "torch._utils",
      "torch._utils._rebuild_tensor",
      "torch._utils._rebuild_tensor",
      "builtins.eval",
    ]);
    expect(machine.imports[1]!.replacedBy).toBeDefined();
    expect(machine.calls[0]!.callable).toBe(machine.imports[3]);
  });

  it("resolves a later import through a stored attribute that is itself an import", async () => {
    // numpy.size.shape = numpy.__builtins__ (slot state), then numpy.size.shape.get: the loader
    // fetches .get from the builtins dict, so the import is numpy.__builtins__.get as written
    // numpy.size.shape.get (modelscan#89's chain).
    const bytes = new PickleBuilder()
      .proto(4)
      .stackGlobal("numpy", "size")
      .op("NONE")
      .op("EMPTY_DICT")
      .unicode("shape")
      .stackGlobal("numpy", "__builtins__")
      .op("SETITEM")
      .op("TUPLE2")
      .op("BUILD")
      .op("POP")
      .stackGlobal("numpy", "size.shape.get")
      .op("STOP")
      .bytes();
    const { machine, fault } = await run(bytes);
    expect(fault).toBeUndefined();
    const g = machine.imports[2]!;
    const at = machine.builds[0]!.offset;
    expect(g).toMatchObject({
      module: "numpy",
      name: "__builtins__.get",
      written: { module: "numpy", name: "size.shape.get" },
      replacedBy: { offset: at },
    });
    expect(machine.usages.at(-1)!.replaced).toEqual({
      written: "numpy.size.shape.get",
      offset: at,
    });
    expect(result(machine)).toBe(g);
  });

  it("lets sys.modules[...] = value replace later imports from that module", async () => {
    const bytes = new PickleBuilder()
      .proto(4)
      .stackGlobal("sys", "modules")
      .unicode("collections")
      .stackGlobal("types", "SimpleNamespace")
      .op("EMPTY_TUPLE")
      .op("REDUCE")
      .op("SETITEM")
      .op("POP")
      .stackGlobal("collections", "OrderedDict")
      .op("STOP")
      .bytes();
    const { machine, fault } = await run(bytes);
    expect(fault).toBeUndefined();
    expect(machine.calls[1]).toMatchObject({ opcode: "SETITEM", method: "__setitem__" });
    const g = machine.imports.at(-1)!;
    expect(`${g.module}.${g.name}`).toBe("collections.OrderedDict");
    expect(g.replacedBy).toBeDefined();
    expect(g.written).toBeUndefined(); // the stored value is not an import: nothing to resolve
    expect(machine.usages.at(-1)!.replaced?.written).toBe("collections.OrderedDict");
  });

  it("treats BUILD on importlib.import_module(name) like BUILD on that module", async () => {
    const bytes = new PickleBuilder()
      .proto(4)
      .stackGlobal("importlib", "import_module")
      .unicode("numpy")
      .op("TUPLE1")
      .op("REDUCE")
      .op("EMPTY_DICT")
      .unicode("prod")
      .stackGlobal("os", "system")
      .op("SETITEM")
      .op("BUILD")
      .op("POP")
      .stackGlobal("numpy", "prod")
      .op("STOP")
      .bytes();
    const { machine, fault } = await run(bytes);
    expect(fault).toBeUndefined();
    const g = machine.imports.at(-1)!;
    expect(g).toMatchObject({
      module: "os",
      name: "system",
      written: { module: "numpy", name: "prod" },
    });
    expect(g.replacedBy).toBeDefined();
  });

  it("records persistent ids with their symbolic tuples (PyTorch storages)", async () => {
    const bytes = new PickleBuilder()
      .proto(2)
      .global("torch._utils", "_rebuild_tensor_v2")
      .op("MARK")
      .unicode("storage")
      .global("torch", "FloatStorage")
      .unicode("0")
      .unicode("cpu")
      .op("BININT1", 4)
      .op("TUPLE")
      .op("BINPERSID")
      .op("BININT1", 0)
      .op("TUPLE2")
      .op("REDUCE")
      .op("PERSID")
      .raw("abc\n")
      .op("TUPLE2")
      .op("STOP")
      .bytes();
    const { machine } = await run(bytes);
    expect(machine.persistentIds).toHaveLength(2);
    const pid = machine.persistentIds[0]!.pid;
    expect(pid.kind).toBe("tuple");
    if (pid.kind !== "tuple") return;
    expect(pid.items.map((v) => v.kind)).toEqual(["str", "global", "str", "str", "int"]);
    expect(pid.items[1]).toMatchObject({ module: "torch", name: "FloatStorage" });
    expect(machine.persistentIds[1]).toMatchObject({ opcode: "PERSID", pid: { value: "abc" } });
    expect(machine.calls[0]!.args).toMatchObject({ kind: "tuple", count: 2 });
  });

  it("records EXT codes as extension imports", async () => {
    const { machine } = await run(Uint8Array.of(0x80, 2, 0x82, 0x05, 0x2e));
    expect(machine.imports[0]).toMatchObject({ opcode: "EXT1", extensionCode: 5, constant: false });
    expect((await run(Uint8Array.of(0x82, 0x00, 0x2e))).fault).toMatchObject({ code: "bad-value" });
  });

  it("applies Python 2 renames below protocol 3 only", async () => {
    const old = await run(new PickleBuilder().global("__builtin__", "eval").op("STOP").bytes());
    expect(old.machine.imports[0]).toMatchObject({
      module: "builtins",
      name: "eval",
      written: { module: "__builtin__", name: "eval" },
    });
    const renamed = await run(
      new PickleBuilder().proto(2).global("commands", "getoutput").op("STOP").bytes(),
    );
    expect(names(renamed.machine)).toEqual(["subprocess.getoutput"]);
    const p3 = await run(
      new PickleBuilder().proto(3).global("__builtin__", "eval").op("STOP").bytes(),
    );
    expect(p3.machine.imports[0]).toMatchObject({ module: "__builtin__", name: "eval" });
    expect(p3.machine.imports[0]!.written).toBeUndefined();
  });
});

describe("machine: stacked pickles, faults and limits", () => {
  it("runs stacked pickles with a fresh memo and protocol each", async () => {
    const first = new PickleBuilder().proto(2).op("NONE").binput(0).op("STOP").bytes();
    const second = new PickleBuilder().proto(4).op("NEWTRUE").op("STOP").bytes();
    const third = new PickleBuilder().binget(0).op("STOP").bytes();
    const { machine, fault } = await run(Uint8Array.from([...first, ...second, ...third]));
    expect(machine.pickles.map((p) => [p.start, p.end, p.protocol, p.complete])).toEqual([
      [0, 6, 2, true],
      [6, 10, 4, true],
      [10, 10, undefined, false],
    ]);
    expect(fault).toMatchObject({ offset: 10, code: "missing-memo" });
    expect(machine.endOffset).toBe(10);
  });

  it("stops after maxPickles", async () => {
    const one = new PickleBuilder().op("NONE").op("STOP").bytes();
    const { machine, walk } = await run(Uint8Array.from([...one, ...one, ...one, 0xff]), {
      maxPickles: 2,
    });
    expect(machine.pickles).toHaveLength(2);
    expect(walk.stopped).toBe(true);
    expect(machine.endOffset).toBe(4);
  });

  it("keeps the payload before a fault", async () => {
    const bytes = Uint8Array.from([
      ...new PickleBuilder().global("os", "system").unicode("id").op("TUPLE1").op("REDUCE").bytes(),
      0x00,
      ...new PickleBuilder().global("os", "unseen").bytes(),
    ]);
    const { machine, fault } = await run(bytes);
    expect(machine.calls).toHaveLength(1);
    expect(names(machine)).toEqual(["os.system"]);
    expect(fault).toMatchObject({ code: "unknown-opcode" });
  });

  it("keeps a 10^6-element list small: a count and the first items", async () => {
    const b = new PickleBuilder().proto(2).op("EMPTY_LIST");
    for (let batch = 0; batch < 1000; batch++) {
      b.op("MARK");
      for (let i = 0; i < 1000; i++) b.op("BININT1", i & 0xff);
      b.op("APPENDS");
    }
    const { machine, fault } = await run(b.op("STOP").bytes());
    expect(fault).toBeUndefined();
    const list = result(machine);
    expect(list.kind).toBe("list");
    if (list.kind !== "list") return;
    expect(list.count).toBe(1_000_000);
    expect(list.items.length).toBeLessThanOrEqual(16);
    expect(machine.opcodeCount).toBe(1_002_003);
  });

  it("reports limits instead of crashing", async () => {
    const deep = await run(latin1(`${"(".repeat(50)}N.`), { limits: { maxStackDepth: 10 } });
    expect(deep.machine.limitHit).toMatchObject({ limit: "maxStackDepth", offset: 10 });
    const many = await run(latin1("NNNNN."), { limits: { maxOpcodes: 3 } });
    expect(many.machine.limitHit).toMatchObject({ limit: "maxOpcodes", offset: 3 });
    const memo = await run(latin1("Np0\np1\np2\n."), { limits: { maxMemoEntries: 2 } });
    expect(memo.machine.limitHit).toMatchObject({ limit: "maxMemoEntries", offset: 7 });
    const stacked = await run(latin1("N.N.N."), { limits: { maxStackedPickles: 2 } });
    expect(stacked.machine.limitHit).toMatchObject({ limit: "maxStackedPickles", offset: 4 });
    expect(stacked.machine.pickles).toHaveLength(2);
  });
});
