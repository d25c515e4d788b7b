import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { memorySource } from "../../core/byte-source.js";
import { DEFAULT_LIMITS, type Limits } from "../../core/limits.js";
import { BUILTIN_POLICY } from "../../policy/index.js";
import type { GlobalVerdict, Policy } from "../../policy/types.js";
import type { ScanContext } from "../types.js";
import { analysePickle, type PickleAnalysisOptions } from "./analyse-pickle.js";
import { PickleBuilder, reducePickle } from "./pickle-builder.js";
import { PICKLE_RULES } from "./rules.js";

/** A tiny stand-in for the real policy (src/policy), enough to exercise every class. */
const stubPolicy: Policy = {
  classifyGlobal(module, name): GlobalVerdict {
    const dangerousModule = ["os", "posix", "nt", "subprocess"].includes(module);
    const dangerousBuiltin =
      module === "builtins" && ["eval", "exec", "getattr", "__import__"].includes(name);
    if (dangerousModule || dangerousBuiltin) {
      return {
        class: "dangerous",
        severity: "critical",
        rule: "pickle.dangerous-global",
        reason: "runs arbitrary code",
        matched: module,
        references: ["CWE-502"],
      };
    }
    if (module === "collections" && name === "OrderedDict") {
      return { class: "allowed", severity: null, rule: null, reason: "plain data" };
    }
    if (module === "torch._utils" || module === "torch") {
      return {
        class: "known",
        severity: "low",
        rule: "pickle.known-library-global",
        reason: "PyTorch",
      };
    }
    return {
      class: "unknown",
      severity: "medium",
      rule: "pickle.unknown-global",
      reason: "not on the allowlist",
    };
  },
};

function context(limits: Partial<Limits> = {}): ScanContext {
  return { limits: { ...DEFAULT_LIMITS, ...limits }, policy: stubPolicy, depth: 0 };
}

const analyse = (bytes: Uint8Array, options?: PickleAnalysisOptions, limits?: Partial<Limits>) =>
  analysePickle(memorySource(bytes), context(limits), options);

const rules = (r: { findings: { rule: string }[] }) => r.findings.map((f) => f.rule);

describe("analysePickle: globals", () => {
  it("reports a dangerous global with the call that uses it", async () => {
    const r = await analyse(reducePickle("os", "system", "touch /tmp/x"));
    expect(r.findings).toEqual([
      {
        rule: "pickle.dangerous-global",
        severity: "critical",
        message: "os.system: runs arbitrary code. Imported at offset 2 by GLOBAL, called once.",
        offset: 28,
        evidence: {
          global: "os.system",
          pseudocode: '_var0 = os.system("touch /tmp/x")',
          opcode: "REDUCE",
        },
        references: ["CWE-502"],
      },
    ]);
    expect(r.pseudocode).toContain('_var0 = os.system("touch /tmp/x")');
    expect(r.pickles).toEqual([
      expect.objectContaining({ start: 0, end: 30, protocol: 2, complete: true }),
    ]);
    expect(r.endOffset).toBe(30);
    expect(r.fault).toBeUndefined();
    expect(r.actedOn).toBe(true);
  });

  it("reports one finding per distinct global per pickle, with the call count", async () => {
    const b = new PickleBuilder().proto(2);
    for (let i = 0; i < 3; i++)
      b.global("os", "system").unicode(`echo ${i}`).op("TUPLE1").op("REDUCE");
    const r = await analyse(b.op("TUPLE3").op("STOP").bytes());
    expect(rules(r)).toEqual(["pickle.dangerous-global"]);
    expect(r.findings[0]!.message).toContain("called 3 times");
    expect(r.calls).toHaveLength(3);
    expect(r.imports).toHaveLength(3);
  });

  it("classifies known, unknown and allowed globals; an unused import gets import pseudocode", async () => {
    const bytes = new PickleBuilder()
      .proto(2)
      .global("torch._utils", "_rebuild_tensor_v2")
      .global("collections", "OrderedDict")
      .op("EMPTY_TUPLE")
      .op("REDUCE")
      .global("mylib.models", "Net")
      .op("TUPLE3")
      .op("STOP")
      .bytes();
    const r = await analyse(bytes);
    expect(r.findings.map((f) => [f.rule, f.severity, f.evidence?.pseudocode])).toEqual([
      ["pickle.known-library-global", "low", "from torch._utils import _rebuild_tensor_v2"],
      ["pickle.unknown-global", "medium", "from mylib.models import Net"],
    ]);
  });

  it("judges Python 2 names as the loader renames them", async () => {
    const r = await analyse(new PickleBuilder().global("__builtin__", "eval").op("STOP").bytes());
    expect(r.findings[0]).toMatchObject({
      rule: "pickle.dangerous-global",
      evidence: { global: "builtins.eval" },
    });
    expect(r.findings[0]!.message).toContain("written as __builtin__.eval");
  });

  const computedName = (module: string) =>
    new PickleBuilder()
      .proto(4)
      .unicode(module)
      .global("mylib", "name_of")
      .op("EMPTY_TUPLE")
      .op("REDUCE")
      .op("STACK_GLOBAL")
      .unicode("id")
      .op("TUPLE1")
      .op("REDUCE")
      .op("STOP")
      .bytes();

  it("reports a non-constant STACK_GLOBAL (high) and still the globals it used", async () => {
    const r = await analyse(computedName("mypackage"));
    expect(rules(r)).toEqual(["pickle.unknown-global", "pickle.non-constant-global"]);
    const hidden = r.findings[1]!;
    expect(hidden.severity).toBe("high");
    expect(hidden.evidence?.pseudocode).toBe(
      '_var1 = find_class("mypackage", mylib.name_of())("id")',
    );
  });

  it("makes a non-constant STACK_GLOBAL critical when its constant module is denied", async () => {
    const r = await analyse(computedName("os"));
    const hidden = r.findings.find((f) => f.rule === "pickle.non-constant-global")!;
    expect(hidden.severity).toBe("critical");
    expect(hidden.message).toContain("attribute of the module `os`");
    expect(hidden.evidence?.pseudocode).toBe('_var1 = find_class("os", mylib.name_of())("id")');
  });

  it("makes a non-constant STACK_GLOBAL critical when its constant name runs code", async () => {
    const bytes = new PickleBuilder()
      .proto(4)
      .global("mylib", "name_of")
      .op("EMPTY_TUPLE")
      .op("REDUCE")
      .unicode("check_output")
      .op("STACK_GLOBAL")
      .op("STOP")
      .bytes();
    const ctx = { limits: DEFAULT_LIMITS, policy: BUILTIN_POLICY, depth: 0 };
    const r = await analysePickle(memorySource(bytes), ctx);
    const hidden = r.findings.find((f) => f.rule === "pickle.non-constant-global")!;
    expect(hidden.severity).toBe("critical");
    expect(hidden.message).toContain("its name is `check_output`");
  });

  it("reports EXT codes, BUILD on a global and implicit calls on a global", async () => {
    const bytes = new PickleBuilder()
      .proto(2)
      .op("EXT1", 42)
      .global("mylib", "helper")
      .op("EMPTY_DICT")
      .unicode("__defaults__")
      .op("NONE")
      .op("SETITEM")
      .op("BUILD")
      .global("os", "environ")
      .unicode("LD_PRELOAD")
      .unicode("/tmp/x.so")
      .op("SETITEM")
      .op("TUPLE3")
      .op("STOP")
      .bytes();
    const r = await analyse(bytes);
    expect(r.findings.map((f) => [f.rule, f.severity])).toEqual([
      ["pickle.extension-code", "high"],
      ["pickle.unknown-global", "medium"],
      ["pickle.build-on-global", "high"],
      ["pickle.dangerous-global", "critical"],
      ["pickle.method-on-global", "high"],
    ]);
    expect(r.findings[2]!.evidence?.pseudocode).toBe("mylib.helper.__defaults__ = None");
    expect(r.findings[4]!.evidence?.pseudocode).toBe('os.environ["LD_PRELOAD"] = "/tmp/x.so"');
    for (const f of r.findings) expect(f.evidence?.pseudocode).toBeTruthy();
  });

  it("reports an import that resolves to what the pickle stored in its place", async () => {
    // mylib.helper.attr = os.system by BUILD, then mylib.helper.attr("id")
    const bytes = new PickleBuilder()
      .proto(4)
      .stackGlobal("mylib", "helper")
      .op("EMPTY_DICT")
      .unicode("attr")
      .stackGlobal("os", "system")
      .op("SETITEM")
      .op("BUILD")
      .op("POP")
      .stackGlobal("mylib", "helper.attr")
      .unicode("id")
      .op("TUPLE1")
      .op("REDUCE")
      .op("STOP")
      .bytes();
    const r = await analyse(bytes);
    const replaced = r.findings.find((f) => f.rule === "pickle.replaced-global")!;
    expect(replaced.severity).toBe("high");
    expect(replaced.message).toContain("mylib.helper.attr does not load what its name says");
    expect(replaced.evidence).toMatchObject({
      global: "os.system",
      pseudocode: '_var0 = os.system("id")',
    });
    const critical = r.findings.find((f) => f.rule === "pickle.dangerous-global")!;
    expect(critical.evidence?.pseudocode).toBe('_var0 = os.system("id")');
  });

  it("reports BUILD on what an importer returned, not on instances it constructed", async () => {
    const onImport = new PickleBuilder()
      .proto(4)
      .stackGlobal("builtins", "__import__")
      .unicode("mylib")
      .op("TUPLE1")
      .op("REDUCE")
      .op("EMPTY_DICT")
      .op("BUILD")
      .op("STOP")
      .bytes();
    const build = (await analyse(onImport)).findings.find(
      (f) => f.rule === "pickle.build-on-global",
    )!;
    expect(build.severity).toBe("high");
    expect(build.message).toContain("what builtins.__import__ returned");
    // an instance of a (here unknown) class: only the class itself is reported
    const onInstance = new PickleBuilder()
      .proto(2)
      .global("mylib", "Model")
      .op("EMPTY_TUPLE")
      .op("NEWOBJ")
      .op("EMPTY_DICT")
      .op("BUILD")
      .op("STOP")
      .bytes();
    expect(rules(await analyse(onInstance))).toEqual(["pickle.unknown-global"]);
  });

  it("hands back constant bytes passed to a dangerous callable as nested payloads", async () => {
    const inner = reducePickle("os", "system", "id");
    const ctx = { limits: DEFAULT_LIMITS, policy: BUILTIN_POLICY, depth: 0 };
    const loads = new PickleBuilder()
      .proto(4)
      .stackGlobal("pickle", "loads")
      .binbytes(inner)
      .op("TUPLE1")
      .op("REDUCE")
      .op("STOP")
      .bytes();
    const r = await analysePickle(memorySource(loads), ctx);
    expect(r.nestedPayloads).toEqual([
      { callee: "pickle.loads", offset: expect.any(Number), bytes: inner },
    ]);
    // torch.load(io.BytesIO(b"…")): found inside the argument's call
    const bytesIO = new PickleBuilder()
      .proto(4)
      .stackGlobal("torch", "load")
      .stackGlobal("io", "BytesIO")
      .binbytes(inner)
      .op("TUPLE1")
      .op("REDUCE")
      .op("TUPLE1")
      .op("REDUCE")
      .op("STOP")
      .bytes();
    const nested = (await analysePickle(memorySource(bytesIO), ctx)).nestedPayloads;
    expect(nested.map((n) => n.callee)).toEqual(["torch.load"]);
    // bytes handed to an allowlisted constructor are data, not a payload
    const data = new PickleBuilder()
      .proto(4)
      .stackGlobal("builtins", "bytearray")
      .binbytes(inner)
      .op("TUPLE1")
      .op("REDUCE")
      .op("STOP")
      .bytes();
    expect((await analysePickle(memorySource(data), ctx)).nestedPayloads).toEqual([]);
  });

  it("uses only rule ids from the rules list (plus limits.exceeded)", () => {
    const ids = PICKLE_RULES.map((rule) => rule.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const rule of PICKLE_RULES) expect(rule.description.length).toBeGreaterThan(10);
  });
});

describe("analysePickle: structure", () => {
  it("reports a fault as malformed, after the payload before it", async () => {
    const payload = reducePickle("os", "system", "id").subarray(0, -1); // drop STOP
    const r = await analyse(Uint8Array.from([...payload, 0xff, 0x2e]));
    expect(rules(r)).toEqual(["pickle.dangerous-global", "pickle.malformed"]);
    const malformed = r.findings[1]!;
    expect(malformed.severity).toBe("high");
    expect(malformed.offset).toBe(payload.length);
    expect(malformed.message).toContain("unknown opcode byte 0xff");
    expect(malformed.message).toContain("would already have run");
    expect(r.fault).toMatchObject({ offset: payload.length, code: "unknown-opcode" });
    expect(r.pickles[0]).toMatchObject({ complete: false });
    expect(r.endOffset).toBe(0);
  });

  it("reports a stream without STOP and an empty stream as malformed", async () => {
    const noStop = await analyse(new PickleBuilder().proto(2).op("NONE").bytes());
    expect(rules(noStop)).toEqual(["pickle.malformed"]);
    expect(noStop.findings[0]!.message).toContain("ends before the STOP");
    const empty = await analyse(new Uint8Array(0));
    expect(rules(empty)).toEqual(["pickle.malformed"]);
    expect(empty.actedOn).toBe(false);
  });

  it("reports bytes after STOP that are not a pickle as trailing data", async () => {
    const r = await analyse(Uint8Array.from([...reducePickle("m", "f", "x"), 0, 0, 0]));
    expect(rules(r)).toEqual(["pickle.unknown-global", "pickle.trailing-data"]);
    expect(r.findings[1]).toMatchObject({ severity: "high", offset: 13 });
    expect(r.findings[1]!.message).toContain("3 bytes follow");
  });

  it("analyses a partial pickle after STOP and reports its payload", async () => {
    const hidden = new PickleBuilder()
      .global("os", "system")
      .unicode("id")
      .op("TUPLE1")
      .op("REDUCE")
      .bytes();
    const r = await analyse(
      Uint8Array.from([...new PickleBuilder().op("NONE").op("STOP").bytes(), ...hidden]),
    );
    expect(rules(r)).toEqual(["pickle.dangerous-global", "pickle.trailing-data"]);
    expect(r.findings[0]!.message).toContain("in pickle 1");
  });

  it("analyses stacked pickles and notes them", async () => {
    const one = reducePickle("m", "f", "x");
    const two = reducePickle("os", "system", "id");
    const r = await analyse(Uint8Array.from([...one, ...two]));
    expect(rules(r)).toEqual([
      "pickle.unknown-global",
      "pickle.dangerous-global",
      "pickle.stacked",
    ]);
    expect(r.findings[2]).toMatchObject({ severity: "info", offset: one.length });
    expect(r.pickles.map((p) => [p.start, p.end])).toEqual([
      [0, one.length],
      [one.length, one.length + two.length],
    ]);
    expect(r.pseudocode).toContain("# pickle 1 at offset 13");
  });

  it("stops after maxPickles and leaves the rest to the caller", async () => {
    const one = new PickleBuilder().op("NONE").op("STOP").bytes();
    const raw = new Uint8Array(100).fill(0xab);
    const r = await analyse(Uint8Array.from([...one, ...one, ...raw]), { maxPickles: 2 });
    expect(r.findings).toEqual([]);
    expect(r.endOffset).toBe(4);
    expect(r.pickles).toHaveLength(2);
  });

  it("treats a fault in an expected pickle as malformed when maxPickles asks for more", async () => {
    const one = new PickleBuilder().op("NONE").op("STOP").bytes();
    const r = await analyse(Uint8Array.from([...one, 0xff]), { maxPickles: 5 });
    expect(rules(r)).toEqual(["pickle.malformed"]);
  });

  it("skips raw bytes after a BUILD when asked (joblib arrays)", async () => {
    const head = new PickleBuilder()
      .proto(2)
      .global("joblib.numpy_pickle", "NumpyArrayWrapper")
      .op("EMPTY_TUPLE")
      .op("NEWOBJ")
      .op("EMPTY_DICT")
      .op("BUILD")
      .bytes();
    const raw = new Uint8Array(10).fill(0xff);
    const bytes = Uint8Array.from([...head, ...raw, 0x2e]);
    const seen: number[] = [];
    const r = await analyse(bytes, {
      rawBytesAfterBuild: (build, offset) => {
        seen.push(build.offset, offset);
        return build.target.kind === "call" ? raw.length : 0;
      },
    });
    expect(seen).toEqual([head.length - 1, head.length]);
    expect(r.fault).toBeUndefined();
    expect(r.pickles[0]).toMatchObject({ complete: true, end: bytes.length });
    const without = await analyse(bytes);
    expect(without.fault).toMatchObject({ offset: head.length, code: "unknown-opcode" });
  });

  it("honours start and end", async () => {
    const pickle = reducePickle("os", "system", "id");
    const bytes = Uint8Array.from([1, 2, 3, ...pickle, 9, 9]);
    const r = await analyse(bytes, { start: 3, end: 3 + pickle.length });
    expect(rules(r)).toEqual(["pickle.dangerous-global"]);
    expect(r.findings[0]!.offset).toBe(3 + 18);
    expect(r.endOffset).toBe(3 + pickle.length);
  });

  it("reports limits as limits.exceeded", async () => {
    const r = await analyse(
      new PickleBuilder().op("MARK").op("MARK").op("MARK").op("NONE").op("STOP").bytes(),
      {},
      {
        maxStackDepth: 2,
      },
    );
    expect(rules(r)).toEqual(["limits.exceeded"]);
    expect(r.findings[0]).toMatchObject({ severity: "high", offset: 2 });
  });

  it("caps the number of findings", async () => {
    const b = new PickleBuilder().proto(2).op("MARK");
    for (let i = 0; i < 30; i++) b.global("mylib", `f${i}`);
    const r = await analyse(b.op("TUPLE").op("STOP").bytes(), {}, { maxFindingsPerArtifact: 10 });
    expect(r.findings).toHaveLength(10);
    expect(r.findings[9]).toMatchObject({ rule: "limits.exceeded" });
    expect(r.findings[9]!.message).toContain("21 more");
  });

  it("never throws on random or mutated input", async () => {
    const seed = [...reducePickle("os", "system", "touch /tmp/x")];
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }),
          fc
            .array(fc.tuple(fc.nat(seed.length - 1), fc.integer({ min: 0, max: 255 })), {
              maxLength: 3,
            })
            .map((edits) => {
              const copy = [...seed];
              for (const [i, v] of edits) copy[i] = v;
              return Uint8Array.from(copy);
            }),
        ),
        async (bytes) => {
          const r = await analyse(bytes, {}, { maxOpcodes: 10_000, maxDecodedArgument: 64 });
          expect(r.opcodeCount).toBeLessThanOrEqual(10_000);
          for (const f of r.findings)
            expect(PICKLE_RULES.some((x) => x.id === f.rule) || f.rule === "limits.exceeded").toBe(
              true,
            );
          if (r.fault)
            expect(
              rules(r).some((x) => x === "pickle.malformed" || x === "pickle.trailing-data"),
            ).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});
