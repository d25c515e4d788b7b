import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { memorySource } from "../../core/byte-source.js";
import { DEFAULT_LIMITS } from "../../core/limits.js";
import { BUILTIN_POLICY } from "../../policy/index.js";
import type { Probe } from "../types.js";
import { analyseNemoConfig, detectNemoConfig, findHydraTargets } from "./nemo-config.js";

const enc = new TextEncoder();
const probe = (s: string): Probe => {
  const b = enc.encode(s);
  return { head: b, tail: b, size: b.length };
};
const analyse = (s: string) =>
  analyseNemoConfig(
    { file: "x.nemo", member: ["./model_config.yaml"], source: memorySource(enc.encode(s)) },
    { limits: DEFAULT_LIMITS, policy: BUILTIN_POLICY, depth: 1 },
  );

describe("findHydraTargets", () => {
  it("reads block, flow, quoted and commented values", () => {
    const yaml = [
      "a:",
      "  _target_: os.system  # comment",
      "b: {_target_: 'builtins.exec', x: 1}",
      '- "_target_": "torch.nn.Linear"',
      "target: nemo.collections.asr.models.EncDecCTCModel",
      "target: 0.5",
      "my_target: os.system",
      "target_lang: en",
      "c:",
      "  _target_: $" + "{oc.env:X}",
      "d:",
      "  _target_: null",
    ].join("\n");
    expect(findHydraTargets(yaml).map((t) => [t.line, t.key, t.value])).toEqual([
      [2, "_target_", "os.system"],
      [3, "_target_", "builtins.exec"],
      [4, "_target_", "torch.nn.Linear"],
      [5, "target", "nemo.collections.asr.models.EncDecCTCModel"],
      [10, "_target_", null],
    ]);
  });
});

describe("detectNemoConfig", () => {
  it.each([
    ["sample_rate: 16000\nencoder:\n  _target_: nemo.X.Y\n", true],
    ["# header\ntarget: nemo.collections.asr.models.EncDecCTCModel\n", true],
    ["name: x\nvalue: 3\n", false],
    ["import os\nclass C:\n    target: str = 'a.b'\n", false],
    ["cos\nsystem\n_target_: a.b\n", false],
  ])("%j → %s", (s, expected) => {
    expect(detectNemoConfig(probe(s))).toBe(expected);
  });

  it("never throws and never fires on random bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1024 }), (b) => {
        expect(detectNemoConfig({ head: b, tail: b, size: b.length })).toBe(false);
      }),
      { numRuns: 500 },
    );
  });
});

describe("analyseNemoConfig", () => {
  it("classes targets with the policy", async () => {
    const a = await analyse(
      [
        "p:",
        "  _target_: os.system",
        "  _args_: ['touch x']",
        "q:",
        "  _target_: some_pkg.Thing",
        "r:",
        "  _target_: nemo.collections.asr.modules.ConvASREncoder",
        "s:",
        "  _target_: torch.optim.Adam",
        "t:",
        "  _target_: *alias",
      ].join("\n"),
    );
    expect(a.findings.map((f) => [f.severity, f.evidence?.global ?? null])).toEqual([
      ["critical", "os.system"],
      ["medium", "some_pkg.Thing"],
      ["low", "nemo.collections.asr.modules.ConvASREncoder"],
      ["low", "torch.optim.Adam"],
      ["medium", null],
    ]);
    expect(a.findings[0]?.message).toMatch(/^Line 2: restoring this model imports `os.system`/);
  });

  it("never throws on random text", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 300 }), async (s) => {
        await analyse(s);
      }),
      { numRuns: 200 },
    );
  });
});
