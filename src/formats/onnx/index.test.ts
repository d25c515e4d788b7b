import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { mutatedCopies } from "../../../test/mutations.js";
import {
  ctx,
  otherFixtures,
  probeOf,
  readManifest,
  scanFixture,
} from "../../../test/protobuf-format-fixtures.js";
import { memorySource } from "../../core/byte-source.js";
import { collectFindings } from "../../scan/scan-artifact.js";
import { externalPathProblems } from "./external-path.js";
import { analyseOnnx, detectOnnx } from "./index.js";

const { dir: DIR, fixtures } = readManifest("onnx");
const manifest = { fixtures };
const scan = scanFixture;

describe("onnx fixtures (manifest, through the engine)", () => {
  it("cover benign, malicious and malformed files; proofs are stated", () => {
    expect(new Set(manifest.fixtures.map((e) => e.expect))).toEqual(
      new Set(["safe", "suspicious", "error"]),
    );
    expect(
      manifest.fixtures.filter((e) => e.proof.startsWith("onnx.load ran")).length,
    ).toBeGreaterThanOrEqual(2);
    for (const e of manifest.fixtures) expect(e.proof, e.file).not.toMatch(/NOT PROVEN/);
  });

  it.each(manifest.fixtures.map((e) => [e.file, e] as const))("%s", async (file, entry) => {
    const result = await scan(join(DIR, file), file);
    const findings = collectFindings(result);
    const described = findings.map((f) => `${f.severity} ${f.rule}: ${f.message}`).join("\n");
    expect(result.format, described).toBe(entry.format);
    expect(result.verdict, `${entry.technique}\n${described}`).toBe(entry.expect);
    if (entry.rule)
      expect(
        findings.map((f) => f.rule),
        described,
      ).toContain(entry.rule);
    if (entry.op) {
      expect(
        findings.map((f) => f.evidence?.global),
        described,
      ).toContain(entry.op);
    }
    if (entry.expect === "safe") {
      for (const f of findings) expect(["low", "info"], described).toContain(f.severity);
    }
  });

  it("names the external-data path and CVEs in the evidence", async () => {
    const result = await scan(join(DIR, "malicious/external_data_sanitizer_bypass.onnx"));
    const f = collectFindings(result).find((x) => x.rule === "onnx.external-data-path")!;
    expect(f.evidence?.pseudocode).toContain("x/../../../etc/passwd");
    expect(f.references).toEqual(["CVE-2022-25882", "CVE-2024-27318"]);
    expect(f.location.offset).toBeGreaterThan(0);
  });

  it("reports the model's facts in details", async () => {
    const result = await scan(join(DIR, "benign/add_matmul_relu.onnx"));
    expect(result.details).toMatchObject({ irVersion: 8, nodes: 3, opsets: "ai.onnx:13" });
  });
});

describe("externalPathProblems", () => {
  it.each([
    ["weights.bin", []],
    ["sub/dir/weights.bin", []],
    ["..weights", []],
    ["../x", ["parent"]],
    ["a/../../x", ["parent"]],
    ["a\\..\\x", ["parent"]],
    ["/etc/passwd", ["absolute"]],
    ["\\\\server\\share", ["absolute"]],
    ["C:\\Windows\\x", ["drive"]],
    ["https://example.com/w.bin", ["url"]],
    ["file:///etc/passwd", ["url"]],
    ["w.bin\u0000.txt", ["nul"]],
  ])("%s → %j", (location, problems) => {
    expect(externalPathProblems(location)).toEqual(problems);
  });
});

describe("detectOnnx", () => {
  it("detects every onnx fixture, truncated ones included", () => {
    for (const e of manifest.fixtures) {
      expect(detectOnnx(probeOf(readFileSync(join(DIR, e.file)))), e.file).toBe(true);
    }
  });

  it("does not fire on other formats' fixtures (pickle, torch zips, numpy, tar, TF, TFLite, …)", () => {
    const files = otherFixtures(["onnx"]);
    expect(files.length).toBeGreaterThan(50);
    for (const p of files) expect(detectOnnx(probeOf(readFileSync(p))), p).toBe(false);
  });

  it("does not fire on random bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), (bytes) => !detectOnnx(probeOf(bytes))),
      { numRuns: 5000 },
    );
  });

  it("does not fire on random bytes behind a plausible first field", () => {
    // Worst case for the heuristic: the file starts like a ModelProto (ir_version 8).
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 512 }), (rest) => {
        const bytes = new Uint8Array([0x08, 0x08, ...rest]);
        const detected = detectOnnx(probeOf(bytes));
        return (
          !detected ||
          rest[0] === 0x12 ||
          rest[0] === 0x1a ||
          rest[0] === 0x22 ||
          rest[0] === 0x28 ||
          rest[0] === 0x32 ||
          rest[0] === 0x3a ||
          rest[0] === 0x42
        );
      }),
      { numRuns: 5000 },
    );
  });
});

describe("analyseOnnx on hostile input", () => {
  const base = readFileSync(join(DIR, "benign/local_function.onnx"));
  it("never throws on mutated models and always names a format", async () => {
    await fc.assert(
      fc.asyncProperty(mutatedCopies(base, { truncate: true }), async (bytes) => {
        const a = await analyseOnnx(
          { file: "m.onnx", member: [], source: memorySource(bytes) },
          ctx(),
        );
        expect(a.format).toBe("onnx");
      }),
      { numRuns: 300 },
    );
  });

  it("bounds nesting: 1 000 nested subgraphs are a limit, not a stack overflow", async () => {
    // ModelProto.graph → GraphProto.node → NodeProto.attribute → AttributeProto.g → … repeated.
    const enc = (field: number, payload: number[]): number[] => {
      const out = [field * 8 + 2];
      let n = payload.length;
      while (n >= 0x80) {
        out.push((n % 128) | 0x80);
        n = Math.floor(n / 128);
      }
      out.push(n);
      return out.concat(payload);
    };
    let graph: number[] = [];
    for (let i = 0; i < 1_000; i++) graph = enc(1, enc(5, enc(6, graph)));
    const bytes = new Uint8Array([0x08, 0x08, ...enc(7, graph)]);
    const a = await analyseOnnx({ file: "m.onnx", member: [], source: memorySource(bytes) }, ctx());
    expect(a.unanalysable).toBe(true);
    expect(a.findings.map((f) => f.rule)).toContain("limits.exceeded");
  });
});
