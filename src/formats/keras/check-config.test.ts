import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { memorySource } from "../../core/byte-source.js";
import { DEFAULT_LIMITS } from "../../core/limits.js";
import { BUILTIN_POLICY } from "../../policy/index.js";
import type { Probe, ScanContext } from "../types.js";
import { checkKerasConfig } from "./check-config.js";
import { decodeBase64Lenient, funcLoadBytes, lambdaFinding } from "./decode-lambda.js";
import { detectKerasJson, topLevelKeys } from "./detect-json.js";
import { analyseKerasConfig, kerasConfigFormat } from "./index.js";
import { isKerasBuiltinClass } from "./known-layers.js";

const ctx: ScanContext = { limits: DEFAULT_LIMITS, policy: BUILTIN_POLICY, depth: 0 };
const text = (s: string) => new TextEncoder().encode(s);
const probe = (s: string): Probe => ({ head: text(s), tail: text(s), size: s.length });
const check = (config: unknown, origin: "h5" | "keras" | "json" = "keras") =>
  checkKerasConfig(config, ctx, { origin, source: "config" });
const rules = (config: unknown) =>
  check(config).findings.map((f) => `${f.severity} ${f.rule} ${f.evidence?.global ?? ""}`.trim());

const PAYLOAD_B64 = Buffer.from(
  readFileSync(
    join(import.meta.dirname, "../../../test/fixtures/keras/marshal/lambda_payload.py311.marshal"),
  ),
).toString("base64");

const layer = (className: string, config: Record<string, unknown>, module = "keras.layers") => ({
  module,
  class_name: className,
  config,
  registered_name: null,
});
const sequential = (...layers: unknown[]) => ({
  module: "keras",
  class_name: "Sequential",
  config: { name: "sequential", layers },
  registered_name: null,
});

describe("detectKerasJson", () => {
  it("recognises Keras 3 config.json, metadata.json, Keras 2 to_json and bare model_config", () => {
    expect(
      detectKerasJson(text('{"module": "keras", "class_name": "Sequential", "config": {}}')),
    ).toBe("config");
    expect(detectKerasJson(text('{"keras_version": "3.1.0", "date_saved": "x"}'))).toBe("metadata");
    expect(
      detectKerasJson(
        text(
          '{"class_name": "Model", "config": {}, "keras_version": "2.4.0", "backend": "tensorflow"}',
        ),
      ),
    ).toBe("config");
    expect(
      detectKerasJson(text('\ufeff {"class_name": "Sequential", "config": {"layers": []}}')),
    ).toBe("config");
  });

  it("ignores other JSON and non-JSON", () => {
    for (const s of [
      '{"architectures": ["BertModel"], "model_type": "bert"}',
      '{"class_name": "X", "config": {}, "architectures": []}',
      '{"config": {"class_name": "Dense"}}',
      "[1, 2]",
      "class_name config",
      "",
    ]) {
      expect(detectKerasJson(text(s)), s).toBeNull();
      expect(kerasConfigFormat.detect(probe(s))).toBe(false);
    }
  });

  it("finds top-level keys past nested objects and escaped quotes, in a cut head", () => {
    expect(
      topLevelKeys(text('{"a": {"class_name": 1}, "b\\"c": [{"d": 2}], "config": {"x": "y')),
    ).toEqual(new Set(["a", 'b"c', "config"]));
  });
});

describe("checkKerasConfig", () => {
  it("accepts Keras' own classes, modules and built-in functions", () => {
    const config = sequential(
      layer("InputLayer", { batch_shape: [null, 4], name: "in" }),
      layer("Dense", {
        name: "d",
        activation: "relu",
        kernel_initializer: layer("GlorotUniform", { seed: null }, "keras.initializers"),
      }),
      layer("Activation", {
        name: "act",
        activation: {
          module: "builtins",
          class_name: "function",
          config: "gelu",
          registered_name: "function",
        },
      }),
      layer("Backbone", { name: "b" }, "keras_hub.src.models.gemma.gemma_backbone"),
    );
    expect(rules(config)).toEqual([]);
    expect(
      rules({
        class_name: "Sequential",
        config: { layers: [{ class_name: "Dense", config: {} }] },
      }),
    ).toEqual([]);
    expect(isKerasBuiltinClass("Custom>Adam")).toBe(true);
    expect(isKerasBuiltinClass("Addons>GELU")).toBe(false);
  });

  it("reports classes and functions outside Keras once per name, medium", () => {
    const custom = layer("MyLayer", { name: "m1" }, "my_pkg.layers");
    const config = sequential(
      custom,
      { ...custom, config: { name: "m2" } },
      { class_name: "Unknown", config: {} },
    );
    const report = check(config);
    expect(report.findings.map((f) => [f.severity, f.rule, f.evidence?.global])).toEqual([
      ["medium", "keras.custom-object", "my_pkg.layers.MyLayer"],
      ["medium", "keras.custom-object", "Unknown"],
    ]);
    expect(report.findings[0]!.message).toContain('Used 2 time(s), by "m1", "m2"');
    expect(report.stats.customObjects).toBe(2);
  });

  it("reports denylisted module functions as critical (CVE-2025-1550) with the layer's arguments", () => {
    const config = sequential(
      layer("Lambda", {
        name: "x",
        function: {
          module: "subprocess",
          class_name: "function",
          config: "check_output",
          registered_name: "function",
        },
        arguments: { args: ["id"] },
      }),
    );
    const [f, ...rest] = check(config).findings;
    expect(rest).toEqual([]);
    expect(f).toMatchObject({
      rule: "keras.unsafe-reference",
      severity: "critical",
      evidence: {
        global: "subprocess.check_output",
        pseudocode: 'subprocess.check_output(inputs, **{"args":["id"]})',
      },
    });
    expect(f!.references).toContain("CVE-2025-1550");
    expect(rules(layer("Evil", {}, "builtins"))).toEqual([
      "medium keras.custom-object builtins.Evil",
    ]);
    expect(rules({ module: "builtins", class_name: "function", config: "eval" })).toEqual([
      "critical keras.unsafe-reference builtins.eval",
    ]);
  });

  it("reports Keras' own loaders and bypass helpers, wherever they sit", () => {
    expect(
      rules({ module: "keras.src.utils.file_utils", class_name: "function", config: "get_file" }),
    ).toEqual(["critical keras.unsafe-reference keras.src.utils.file_utils.get_file"]);
    expect(rules({ module: "keras.models", class_name: "function", config: "load_model" })).toEqual(
      ["critical keras.unsafe-reference keras.models.load_model"],
    );
    expect(rules({ class_name: "TFSMLayer", config: { filepath: "../x" } })).toEqual([
      "critical keras.unsafe-reference keras.layers.TFSMLayer",
    ]);
    expect(
      rules({ class_name: "TFOpLambda", config: { name: "w", function: "io.write_file" } }),
    ).toEqual(["high keras.unsafe-reference tf.io.write_file"]);
    expect(
      rules({ class_name: "TFOpLambda", config: { name: "w", function: "math.add" } }),
    ).toEqual([]);
  });

  it("decodes Keras 2 lambdas (function, output_shape, mask) and Keras 3 __lambda__ objects", () => {
    const k2 = {
      class_name: "Lambda",
      config: {
        name: "l",
        function: [PAYLOAD_B64, null, null],
        function_type: "lambda",
        module: "__main__",
        output_shape: PAYLOAD_B64,
        output_shape_type: "lambda",
        output_shape_module: null,
        mask: "system",
        mask_type: "function",
        mask_module: "posix",
      },
    };
    const r = check({ class_name: "Sequential", config: { layers: [k2] } }, "h5");
    expect(r.findings.map((f) => [f.rule, f.evidence?.global])).toEqual([
      ["keras.lambda-layer", "os.system"],
      ["keras.lambda-layer", "os.system"],
      ["keras.unsafe-reference", "posix.system"],
    ]);
    expect(r.findings[0]!.references).toEqual(["CVE-2024-3660", "CVE-2025-9905"]);
    expect(r.stats.lambdas).toBe(2);
    const k3 = { class_name: "__lambda__", config: { value: [PAYLOAD_B64, null, null] } };
    expect(
      rules({ module: "keras.losses", class_name: "LossFunctionWrapper", config: { fn: k3 } }),
    ).toEqual(["critical keras.lambda-layer os.system"]);
  });

  it("treats keys such as __proto__ as data", () => {
    const config = JSON.parse(
      '{"class_name": "Sequential", "config": {"__proto__": {"class_name": "Evil", "config": {}}}}',
    );
    expect(rules(config)).toEqual(["medium keras.custom-object Evil"]);
    expect(({} as Record<string, unknown>).class_name).toBeUndefined();
  });

  it("stops deep configs with a finding instead of failing", () => {
    let deep: unknown = { class_name: "Dense", config: {} };
    for (let i = 0; i < 5000; i++) deep = [deep];
    const r = check(deep);
    expect(r.stats.truncated).toBe(true);
    expect(r.findings.map((f) => f.rule)).toContain("limits.exceeded");
  });

  it("never throws on arbitrary JSON", () => {
    const key = fc.constantFrom(
      "class_name",
      "config",
      "module",
      "registered_name",
      "function",
      "function_type",
      "name",
      "code",
      "value",
      "arguments",
      "filepath",
      "spec_name",
      "x",
    );
    const leaf = fc.oneof(
      fc.constantFrom(
        "Lambda",
        "__lambda__",
        "function",
        "lambda",
        "os",
        "system",
        "keras.layers",
        "TFSMLayer",
        PAYLOAD_B64,
        "AAAA",
        null,
        true,
      ),
      fc.string(),
      fc.integer(),
    );
    const json = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: "small" },
        leaf,
        fc.array(tie("node"), { maxLength: 4 }),
        fc.dictionary(key, tie("node"), { maxKeys: 5 }),
      ),
    })).node;
    fc.assert(
      fc.property(json, (config) => {
        const r = check(config);
        for (const f of r.findings) expect(typeof f.message).toBe("string");
      }),
      { numRuns: 1500 },
    );
  });
});

describe("Lambda bytecode decoding", () => {
  it("decodes base64 like binascii: skips junk and newlines, stops at padding", () => {
    expect(decodeBase64Lenient("aGVs\nbG8=")).toEqual(text("hello"));
    expect(decodeBase64Lenient("aGVsbG8=trailing junk")).toEqual(text("hello"));
    expect(decodeBase64Lenient("a!G#V$s")).toEqual(text("hel"));
    expect(decodeBase64Lenient("aGVsbG8")).toBeNull();
    expect(funcLoadBytes("aGVsbG8").encoding).toBe("raw");
    expect(funcLoadBytes("é\u0101").bytes).toEqual(Uint8Array.of(0xe9, ...text("\\u0101")));
  });

  it("reports undecodable or missing bytecode as critical all the same", () => {
    const site = { className: "Lambda", field: "function", origin: "keras" as const };
    for (const payload of ["AAAA", { code: 42 }, [null], "not base64 at all!"]) {
      const f = lambdaFinding(payload, site, ctx);
      expect(f.severity).toBe("critical");
      expect(f.evidence?.pseudocode).toMatch(/^lambda: </);
    }
  });
});

describe("analyseKerasConfig", () => {
  const artifact = (s: string) => ({
    file: "config.json",
    member: [],
    source: memorySource(text(s)),
  });

  it("fails closed on JSON Keras cannot read", async () => {
    const a = await analyseKerasConfig(artifact('{"class_name": "Sequential", "config": {'), ctx);
    expect(a.unanalysable).toBe(true);
    expect(a.findings.map((f) => [f.rule, f.severity])).toEqual([["keras.unreadable", "high"]]);
  });

  it("reads metadata.json as facts", async () => {
    const a = await analyseKerasConfig(
      artifact('{"keras_version": "3.15.1", "date_saved": "x"}'),
      ctx,
    );
    expect(a).toMatchObject({
      format: "keras-metadata",
      findings: [],
      details: { kerasVersion: "3.15.1" },
    });
  });

  it("refuses configs above the size limit", async () => {
    const small = { ...ctx, limits: { ...DEFAULT_LIMITS, maxMemberBytes: 10 } };
    const a = await analyseKerasConfig(
      artifact('{"class_name": "Sequential", "config": {}}'),
      small,
    );
    expect(a.unanalysable).toBe(true);
  });
});
