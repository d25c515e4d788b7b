import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type ByteSource, memorySource } from "../../core/byte-source.js";
import { DEFAULT_LIMITS } from "../../core/limits.js";
import { BUILTIN_POLICY } from "../../policy/index.js";
import { scanArtifact } from "../../scan/scan-artifact.js";
import { chatTemplateFormat } from "../chat-template/index.js";
import { pickleFormat } from "../pickle/index.js";
import { safetensorsFormat } from "../safetensors/index.js";
import type { Probe, ScanContext } from "../types.js";
import { analyseGguf, detectGguf, GGUF_TRAILING_CHILD, ggufFormat } from "./index.js";
import { readGguf } from "./read-gguf.js";

const FIXTURES = join(import.meta.dirname, "../../../test/fixtures/gguf");
interface Entry {
  file: string;
  expect: "safe" | "suspicious" | "malicious";
  rules: string[];
  technique: string;
}
const manifest: { fixtures: Entry[] } = JSON.parse(
  readFileSync(join(FIXTURES, "manifest.json"), "utf8"),
);
const fixture = (name: string) => new Uint8Array(readFileSync(join(FIXTURES, name)));
const artifact = (source: ByteSource) => ({ file: "model.gguf", member: [], source });
const probe = (bytes: Uint8Array): Probe => ({
  head: bytes.subarray(0, 65558),
  tail: bytes,
  size: bytes.length,
});
const ctx: ScanContext = { limits: DEFAULT_LIMITS, policy: BUILTIN_POLICY, depth: 0 };

describe("detectGguf", () => {
  it("needs the magic and a version 1–3 in either byte order", () => {
    expect(detectGguf(probe(fixture("benign/llama3_template_v3.gguf")))).toBe(true);
    expect(detectGguf(probe(fixture("benign/big_endian_v3.gguf")))).toBe(true);
    expect(detectGguf(probe(Uint8Array.of(0x47, 0x47, 0x55, 0x46, 4, 0, 0, 0)))).toBe(false);
    expect(detectGguf(probe(new TextEncoder().encode("GGUF is a file format")))).toBe(false);
  });
});

describe("fixtures (test/fixtures/gguf, built byte-exact from the GGUF specification)", () => {
  it.each(manifest.fixtures.map((e) => [e.file, e] as const))("%s", async (_f, entry) => {
    const bytes = fixture(entry.file);
    expect(detectGguf(probe(bytes))).toBe(true);
    const analysis = await analyseGguf(artifact(memorySource(bytes)));
    const found = analysis.findings.map((f) => f.rule);
    for (const rule of entry.rules) expect(found, entry.technique).toContain(rule);
    const worst = analysis.findings.map((f) => f.severity);
    if (entry.expect === "safe") {
      expect(
        analysis.findings.filter((f) => f.severity !== "info"),
        entry.technique,
      ).toEqual([]);
    } else if (entry.expect === "malicious") {
      expect(worst).toContain("critical");
    } else {
      expect(worst.some((s) => s === "high" || s === "medium")).toBe(true);
      expect(worst).not.toContain("critical");
    }
  });
});

describe("readGguf", () => {
  it("reads every version alike", async () => {
    for (const name of [
      "llama3_template_v1",
      "llama3_template_v2",
      "llama3_template_v3",
      "big_endian_v3",
    ]) {
      const report = await readGguf(memorySource(fixture(`benign/${name}.gguf`)), {
        readString: (k) => k === "tokenizer.chat_template",
      });
      expect(report.findings, name).toEqual([]);
      expect(report.tensors.map((t) => t.name)).toEqual([
        "token_embd.weight",
        "output_norm.weight",
        "blk.0.attn_q.weight",
      ]);
      expect(report.strings[0]?.text).toContain("<|start_header_id|>");
      expect(report.kvs.find((k) => k.key === "tokenizer.ggml.tokens")?.count).toBe(7n);
      expect(report.metadataComplete && report.tensorsComplete).toBe(true);
    }
  });

  it("keeps __proto__ keys as data", async () => {
    const enc = new TextEncoder();
    const str = (s: string) => {
      const b = enc.encode(s);
      const out = new Uint8Array(8 + b.length);
      new DataView(out.buffer).setBigUint64(0, BigInt(b.length), true);
      out.set(b, 8);
      return out;
    };
    const u32 = (n: number) => Uint8Array.of(n & 255, (n >> 8) & 255, (n >> 16) & 255, n >>> 24);
    const u64 = (n: number) => new Uint8Array([...u32(n), 0, 0, 0, 0]);
    const bytes = new Uint8Array([
      ...enc.encode("GGUF"),
      ...u32(3),
      ...u64(0),
      ...u64(2),
      ...str("__proto__"),
      ...u32(8),
      ...str("polluted"),
      ...str("constructor"),
      ...u32(4),
      ...u32(7),
    ]);
    const report = await readGguf(memorySource(bytes));
    expect(report.findings).toEqual([]);
    expect(report.kvs.map((k) => k.key)).toEqual(["__proto__", "constructor"]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("reads headers of huge files without touching tensor data", async () => {
    const real = fixture("benign/llama3_template_v3.gguf");
    let bytesRead = 0;
    const size = 8 * 1024 ** 3;
    const source: ByteSource = {
      size,
      read(offset, length) {
        const n = Math.max(0, Math.min(length, size - offset));
        bytesRead += n;
        const out = new Uint8Array(n);
        if (offset < real.length) out.set(real.subarray(offset, Math.min(real.length, offset + n)));
        return Promise.resolve(out);
      },
    };
    const report = await readGguf(source);
    expect(report.tensorsComplete).toBe(true);
    expect(bytesRead).toBeLessThanOrEqual(2 * 1024 * 1024);
    expect(report.trailing?.size).toBeGreaterThan(1024 ** 3);
  });

  it("turns hostile counts into findings, not allocations", async () => {
    for (const name of [
      "kv_count_2pow63",
      "tensor_count_max",
      "string_length_4gb",
      "v1_string_length_max",
      "array_count_huge",
    ]) {
      const report = await readGguf(memorySource(fixture(`malformed/${name}.gguf`)));
      expect(
        report.findings.map((f) => f.rule),
        name,
      ).toContain("gguf.malformed");
    }
  });

  it("never throws on mutated or truncated files", async () => {
    const base = fixture("benign/llama3_template_v2.gguf");
    const v1 = fixture("benign/llama3_template_v1.gguf");
    await fc.assert(
      fc.asyncProperty(
        fc.boolean(),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
        fc.nat(),
        async (useV1, edits, cut) => {
          const bytes = (useV1 ? v1 : base).slice();
          for (const [at, b] of edits) bytes[8 + (at % (bytes.length - 8))] = b;
          const end = 8 + (cut % (bytes.length - 7));
          const report = await readGguf(memorySource(bytes.subarray(0, end)), {
            readString: () => true,
          });
          expect(Array.isArray(report.findings)).toBe(true);
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe("through the engine", () => {
  const formats = [safetensorsFormat, ggufFormat, chatTemplateFormat, pickleFormat];
  const scan = (bytes: Uint8Array) =>
    scanArtifact({ file: "model.gguf", member: [], source: memorySource(bytes) }, ctx, formats);

  it("vouches for a benign model with a real chat template", async () => {
    const result = await scan(fixture("benign/llama3_template_v3.gguf"));
    expect(result.format).toBe("gguf");
    expect(result.verdict).toBe("safe");
  });

  it("calls the CVE-2024-34359 template malicious, at the template's offset", async () => {
    const bytes = fixture("malicious/cve_2024_34359_v3.gguf");
    const result = await scan(bytes);
    expect(result.verdict).toBe("malicious");
    const critical = result.findings.find((f) => f.severity === "critical");
    expect(critical?.rule).toBe("chat-template.sandbox-escape");
    expect(critical?.message).toContain('GGUF metadata "tokenizer.chat_template"');
    const at = critical?.location.offset ?? 0;
    expect(new TextDecoder().decode(bytes.subarray(at, at + 9))).toBe("{% for x ");
    expect(critical?.references).toContain("CVE-2024-34359");
  });

  it("analyses bytes after the tensor data as a separate artifact", async () => {
    const result = await scan(fixture("malformed/trailing_data.gguf"));
    expect(result.verdict).toBe("suspicious");
    expect(result.children.map((c) => [c.member.at(-1), c.format])).toEqual([
      [GGUF_TRAILING_CHILD, "pickle"],
    ]);
  });

  it("fails closed when the metadata cannot be read to the end", async () => {
    const result = await scan(fixture("malformed/bad_value_type.gguf"));
    expect(result.verdict).toBe("error");
  });
});
