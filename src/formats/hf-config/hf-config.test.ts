import { describe, expect, it } from "vitest";
import { memorySource } from "../../core/byte-source.js";
import type { Analysis, Probe } from "../types.js";
import { analyseHfConfig, detectHfConfig } from "./hf-config.js";
import { parseClassReference } from "./remote-code.js";

const enc = new TextEncoder();
const probe = (s: string): Probe => {
  const b = enc.encode(s);
  return { head: b, tail: b, size: b.length };
};
const analyse = (s: string): Promise<Analysis> =>
  analyseHfConfig({ file: "config.json", member: [], source: memorySource(enc.encode(s)) });

describe("detectHfConfig", () => {
  it.each([
    ['{\n  "architectures": ["BertForMaskedLM"]}', true],
    [' \n{"auto_map": {}}', true],
    ['{"tokenizer_class": "LlamaTokenizer"}', true],
    ['{"do_lower_case": true}', false],
    ['["model_type"]', false],
    ['{"archiverVersion": "0.9", "model": {}}', false],
    ["model_type: bert", false],
  ])("%j → %s", (s, expected) => {
    expect(detectHfConfig(probe(s))).toBe(expected);
  });
});

describe("parseClassReference", () => {
  it("splits repo, module and class as transformers does", () => {
    expect(parseClassReference("k", "other/repo--modeling.Model")).toMatchObject({
      repo: "other/repo",
      module: "modeling",
      className: "Model",
    });
    expect(parseClassReference("k", "modeling_x.sub.X")).toMatchObject({
      repo: null,
      module: "modeling_x.sub",
      className: "X",
    });
  });
});

describe("analyseHfConfig", () => {
  it("names each remote-code class with its module, high", async () => {
    const a = await analyse(
      JSON.stringify({
        model_type: "x",
        auto_map: { AutoConfig: "configuration_x.XConfig", AutoModel: "modeling_x.XModel" },
      }),
    );
    expect(a.findings.map((f) => [f.rule, f.severity, f.evidence?.global])).toEqual([
      ["hf.remote-code", "high", "configuration_x.XConfig"],
      ["hf.remote-code", "high", "modeling_x.XModel"],
    ]);
    expect(a.findings[1]?.message).toContain("`modeling_x.py` from this repository");
    expect(a.findings[1]?.offset).toBeGreaterThan(0);
  });

  it("says when the code comes from another repository", async () => {
    const a = await analyse('{"model_type": "x", "auto_map": {"AutoModel": "evil/repo--m.M"}}');
    expect(a.findings[0]?.message).toContain("ANOTHER repository, `evil/repo`");
    expect(a.findings[0]?.evidence?.global).toBe("evil/repo--m.M");
  });

  it("reads tokenizer [slow, fast] lists, custom pipelines and trust_remote_code hints", async () => {
    const a = await analyse(
      JSON.stringify({
        tokenizer_class: "XTokenizer",
        auto_map: { AutoTokenizer: ["tokenization_x.XTokenizer", null] },
        custom_pipelines: { "text-x": { impl: "pipeline_x.XPipeline", pt: ["AutoModel"] } },
        model_kwargs: { trust_remote_code: true },
      }),
    );
    expect(a.findings.map((f) => f.evidence?.global ?? f.rule)).toEqual([
      "tokenization_x.XTokenizer",
      "pipeline_x.XPipeline",
      "hf.trust-remote-code",
    ]);
  });

  it("finds nothing in an ordinary config and gives details", async () => {
    const a = await analyse(
      '{"architectures": ["LlamaForCausalLM"], "model_type": "llama", "x": NaN}',
    );
    expect(a.findings).toEqual([]);
    expect(a.details).toMatchObject({ model_type: "llama", architectures: "LlamaForCausalLM" });
  });

  it("is not this format when the marker was only inside a value", async () => {
    const a = await analyse('{"note": "\\"model_type\\": here"}');
    expect(a.notThisFormat).toBe(true);
  });

  it("reports JSON Python would refuse", async () => {
    const a = await analyse('{"model_type": "x",}');
    expect(a.findings.map((f) => f.rule)).toEqual(["hf.malformed-config"]);
    const bad = await analyseHfConfig({
      file: "c.json",
      member: [],
      source: memorySource(Uint8Array.of(0x7b, 0xff, 0x7d)),
    });
    expect(bad.findings.map((f) => f.rule)).toEqual(["hf.malformed-config"]);
  });

  it("keeps prototype keys as data", async () => {
    const a = await analyse('{"model_type": "x", "__proto__": {"auto_map": {"A": "m.C"}}}');
    expect(a.findings).toEqual([]);
    expect(({} as Record<string, unknown>).auto_map).toBeUndefined();
  });
});
