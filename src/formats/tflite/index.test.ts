import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { mutatedCopies } from "../../../test/mutations.js";
import {
  ctx,
  FIXTURES,
  PROTOBUF_FORMATS as FORMATS,
  otherFixtures,
  probeOf,
  readManifest,
  scanFixture,
} from "../../../test/protobuf-format-fixtures.js";
import { memorySource } from "../../core/byte-source.js";
import { collectFindings, scanArtifact } from "../../scan/scan-artifact.js";
import { ASSOCIATED_FILES_CHILD, analyseTflite, detectTflite } from "./index.js";
import { readTfliteModel } from "./read-model.js";

const { dir: DIR, fixtures } = readManifest("tflite");
const manifest = { fixtures };
const scan = scanFixture;

describe("tflite fixtures (manifest, through the engine)", () => {
  it("cover benign, suspicious and malformed files, labelled as not executed", () => {
    expect(new Set(manifest.fixtures.map((e) => e.expect))).toEqual(
      new Set(["safe", "suspicious", "error"]),
    );
    for (const e of manifest.fixtures) expect(e.proof, e.file).toMatch(/not executable here/);
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
    if (entry.op) expect(described).toContain(entry.op);
    if (entry.expect === "safe") {
      for (const f of findings) expect(["low", "info"], described).toContain(f.severity);
    }
  });

  it("reads operator codes like the interpreter (max of builtin and deprecated codes)", async () => {
    const { info, error } = await readTfliteModel(
      memorySource(readFileSync(join(DIR, "malicious/custom_op_deprecated_code.tflite"))),
    );
    expect(error).toBeUndefined();
    expect(info.operatorCodes).toMatchObject([{ builtinCode: 32, customCode: "EvilCustomOp" }]);
    expect(info.version).toBe(3);
  });

  it("hands an appended zip of associated files to the engine", async () => {
    const model = readFileSync(join(DIR, "malicious/custom_op.tflite"));
    const zip = readFileSync(join(FIXTURES, "torch/malicious/state_dict_payload.pt"));
    const bytes = new Uint8Array([...model, ...zip]);
    const result = await scanArtifact(
      { file: "m.tflite", member: [], source: memorySource(bytes) },
      ctx(),
      FORMATS,
    );
    expect(result.format).toBe("tflite");
    expect(result.children.map((c) => [c.member.at(-1), c.format])).toEqual([
      [ASSOCIATED_FILES_CHILD, "pytorch-zip"],
    ]);
    expect(result.verdict).toBe("malicious");
  });
});

describe("detectTflite", () => {
  it("detects every fixture", () => {
    for (const e of manifest.fixtures)
      expect(detectTflite(probeOf(readFileSync(join(DIR, e.file)))), e.file).toBe(true);
  });

  it("does not fire on other formats' fixtures or random bytes", () => {
    for (const p of otherFixtures(["tflite"]))
      expect(detectTflite(probeOf(readFileSync(p))), p).toBe(false);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => !detectTflite(probeOf(bytes))),
      { numRuns: 5000 },
    );
  });
});

describe("readTfliteModel on hostile input", () => {
  const base = readFileSync(join(DIR, "malicious/custom_op.tflite"));
  it("never throws and terminates on mutated models", async () => {
    await fc.assert(
      fc.asyncProperty(mutatedCopies(base, { truncate: true }), async (bytes) => {
        const a = await analyseTflite(
          { file: "m.tflite", member: [], source: memorySource(bytes) },
          ctx(),
        );
        expect(a.format).toBe("tflite");
      }),
      { numRuns: 500 },
    );
  });

  it("never throws on random bytes behind the identifier", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 512 }), async (rest) => {
        const bytes = new Uint8Array([8, 0, 0, 0, 0x54, 0x46, 0x4c, 0x33, ...rest]);
        await readTfliteModel(memorySource(bytes));
      }),
      { numRuns: 1000 },
    );
  });

  it("refuses an operator_codes vector claiming 2^32-1 entries without reading them", async () => {
    const bytes = new Uint8Array(64);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, 16, true); // root table at 16
    bytes.set([0x54, 0x46, 0x4c, 0x33], 4); // "TFL3"
    view.setUint16(8, 8, true); // vtable at 8: 8 bytes
    view.setUint16(10, 8, true); // table: 8 bytes
    view.setUint16(12, 0, true); // field 0 (version) absent
    view.setUint16(14, 4, true); // field 1 (operator_codes) at table + 4
    view.setInt32(16, 8, true); // soffset: vtable at 16 - 8
    view.setUint32(20, 12, true); // operator_codes vector at 20 + 12 = 32
    view.setUint32(32, 0xffffffff, true); // claimed length
    const { error } = await readTfliteModel(memorySource(bytes));
    expect(error?.message).toContain("operator_codes");
  });
});
