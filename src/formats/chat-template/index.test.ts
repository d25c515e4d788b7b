import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { memorySource } from "../../core/byte-source.js";
import { DEFAULT_LIMITS } from "../../core/limits.js";
import { BUILTIN_POLICY } from "../../policy/index.js";
import { scanArtifact } from "../../scan/scan-artifact.js";
import { ggufFormat } from "../gguf/index.js";
import { pickleFormat } from "../pickle/index.js";
import { safetensorsFormat } from "../safetensors/index.js";
import type { Probe, ScanContext } from "../types.js";
import { analyseChatTemplateFile, chatTemplateFormat, detectChatTemplate } from "./index.js";

const FIXTURES = join(import.meta.dirname, "../../../test/fixtures/chat-template");
interface Entry {
  file: string;
  expect: "safe" | "malicious";
  technique: string;
}
const manifest: { fixtures: Entry[] } = JSON.parse(
  readFileSync(join(FIXTURES, "manifest.json"), "utf8"),
);
const enc = new TextEncoder();
const PROBE = 64 * 1024 + 22;
const probe = (bytes: Uint8Array): Probe => ({
  head: bytes.subarray(0, PROBE),
  tail: bytes.length > PROBE ? bytes.subarray(bytes.length - PROBE) : bytes.subarray(0, PROBE),
  size: bytes.length,
});
const detect = (s: string | Uint8Array) =>
  detectChatTemplate(probe(typeof s === "string" ? enc.encode(s) : s));
const ctx: ScanContext = { limits: DEFAULT_LIMITS, policy: BUILTIN_POLICY, depth: 0 };
const formats = [safetensorsFormat, ggufFormat, chatTemplateFormat, pickleFormat];
const scan = (bytes: Uint8Array, file = "tokenizer_config.json") =>
  scanArtifact({ file, member: [], source: memorySource(bytes) }, ctx, formats);

describe("detectChatTemplate", () => {
  it("finds JSON with a chat_template key, however spelled, in the head or the tail", () => {
    expect(detect('{"chat_template": "{{ x }}"}')).toBe(true);
    expect(detect('{"chat\\u005ftemplate": "x"}')).toBe(true);
    expect(detect('\ufeff  {\n "a": 1, "chat_template": []}')).toBe(true);
    const padding = JSON.stringify("x".repeat(200_000));
    expect(detect(`{"added_tokens": ${padding}, "chat_template": "t"}`)).toBe(true);
    expect(detect('{"model_type": "llama", "template": "chat_template"}')).toBe(false);
  });

  it("finds raw Jinja chat templates by their variables", () => {
    expect(detect("{% for message in messages %}{{ message.content }}{% endfor %}")).toBe(true);
    expect(detect("<|im_start|>{{ add_generation_prompt }}")).toBe(true);
    expect(detect("{{ user }} said hi")).toBe(false);
    expect(detect("import os\nT = '{% for m in messages %}'\n")).toBe(false);
    expect(detect("def f():\n    return '{{ messages }}'\n")).toBe(false);
    expect(detect(Uint8Array.of(0, 0x7b, 0x7b, ...enc.encode(" messages }}")))).toBe(false);
  });
});

describe("fixtures (test/fixtures/chat-template, malicious ones proven with jinja2)", () => {
  it.each(manifest.fixtures.map((e) => [e.file, e] as const))("%s", async (file, entry) => {
    const bytes = readFileSync(join(FIXTURES, file));
    expect(detect(bytes), "detected").toBe(file.endsWith(".jinja") || file.endsWith(".json"));
    const result = await scan(bytes, file);
    expect(result.format).toBe("chat-template");
    expect(result.verdict, entry.technique).toBe(entry.expect);
  });
});

describe("analyseChatTemplateFile", () => {
  const analyse = (text: string) =>
    analyseChatTemplateFile({ file: "f", member: [], source: memorySource(enc.encode(text)) });

  it("analyses every copy of a duplicated key, at the value's byte offset", async () => {
    const text = '{"chat_template": "{{ m }}", "chat_template": "{{ lipsum.__globals__ }}"}';
    const analysis = await analyse(text);
    expect(analysis.findings.map((f) => [f.rule, f.severity])).toEqual([
      ["chat-template.malformed", "medium"],
      ["chat-template.sandbox-escape", "critical"],
    ]);
    expect(analysis.findings[1]?.offset).toBe(text.lastIndexOf('"{{ lipsum'));
    expect(analysis.details).toEqual({ kind: "json", templates: 2 });
  });

  it("names the template of a list", async () => {
    const analysis = await analyse(
      '{"chat_template": [{"name": "tool_use", "template": "{{ x.__class__ }}"}, {"name": "x"}]}',
    );
    expect(analysis.findings.map((f) => f.message.slice(0, 25)).sort()).toEqual([
      "An entry of the chat_temp",
      'chat_template "tool_use":',
    ]);
  });

  it("reports a chat_template of the wrong type and broken JSON", async () => {
    expect((await analyse('{"chat_template": 3}')).findings.map((f) => f.rule)).toEqual([
      "chat-template.malformed",
    ]);
    expect((await analyse('{"chat_template": "x",}')).findings.map((f) => f.rule)).toEqual([
      "chat-template.malformed",
    ]);
  });

  it("gives up JSON that holds no template after all", async () => {
    const analysis = await analyse('{"a": "{% for m in messages %}"}');
    expect(analysis.notThisFormat).toBe(true);
  });

  it("reads Python's JSON extensions", async () => {
    const analysis = await analyse('{"x": NaN, "chat_template": "{{ messages }}"}');
    expect(analysis.findings).toEqual([]);
    expect(analysis.notThisFormat).toBeUndefined();
  });
});
