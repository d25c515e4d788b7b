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
import { analyseTensorflow, detectTensorflow, sniffTensorflow } from "./index.js";
import { TF_OP_CLASSES } from "./op-classes.js";
import { isStandardTfOp, TF_STANDARD_OPS } from "./standard-ops.js";

const { dir: DIR, fixtures } = readManifest("tensorflow");
const manifest = { fixtures };
const scan = scanFixture;

describe("tensorflow fixtures (manifest, through the engine)", () => {
  it("cover benign, suspicious, malicious and malformed files, labelled as not executed", () => {
    expect(new Set(manifest.fixtures.map((e) => e.expect))).toEqual(
      new Set(["safe", "suspicious", "malicious", "error"]),
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
    if (entry.op) {
      expect(
        findings.map((f) => f.evidence?.global),
        described,
      ).toContain(`tf.raw_ops.${entry.op}`);
    }
    if (entry.expect === "safe") {
      for (const f of findings) expect(["low", "info"], described).toContain(f.severity);
    }
  });

  it("resolves file names through Const and Identity nodes, in functions too", async () => {
    const result = await scan(join(DIR, "malicious/read_file_in_function/saved_model.pb"));
    const f = collectFindings(result).find((x) => x.rule === "tf.file-op")!;
    expect(f.evidence?.pseudocode).toBe('tf.raw_ops.ReadFile("/etc/passwd")');
    expect(f.message).toContain("function __inference_serving_default_30");
  });

  it("names the PyFunc token", async () => {
    const result = await scan(join(DIR, "malicious/py_func/saved_model.pb"));
    const f = collectFindings(result).find((x) => x.severity === "critical")!;
    expect(f.rule).toBe("tf.python-op");
    expect(f.evidence?.pseudocode).toBe('tf.raw_ops.PyFunc(token="pyfunc_0")');
  });

  it("reports SavedModel facts in details", async () => {
    const result = await scan(join(DIR, "benign/saved_model/saved_model.pb"));
    expect(result.details).toMatchObject({ metaGraphs: 1, tags: "serve", functions: 3 });
  });
});

describe("TensorFlow op data", () => {
  it("lists the standard ops of real SavedModels and Keras graphs", () => {
    expect(TF_STANDARD_OPS.size).toBeGreaterThan(1400);
    for (const op of [
      "Const",
      "Placeholder",
      "MatMul",
      "AddV2",
      "StatefulPartitionedCall",
      "PartitionedCall",
      "VarHandleOp",
      "ReadVariableOp",
      "AssignVariableOp",
      "SaveV2",
      "RestoreV2",
      "DisableCopyOnRead",
      "StatelessRandomUniformV2",
      "XlaCallModule",
      "If",
      "While",
      "Einsum",
      "_Arg",
      "_Retval",
    ]) {
      expect(isStandardTfOp(op), op).toBe(true);
    }
    expect(isStandardTfOp("EvilCustomOp")).toBe(false);
    expect(isStandardTfOp("Addons>GatherTree")).toBe(false);
  });

  it("classifies only real TensorFlow ops, Python ones as python", () => {
    for (const [op, cls] of TF_OP_CLASSES) {
      expect(TF_STANDARD_OPS.has(op), op).toBe(true);
      expect(cls.kind === "python", op).toBe(
        ["PyFunc", "PyFuncStateless", "EagerPyFunc"].includes(op),
      );
    }
  });
});

describe("detectTensorflow", () => {
  it("detects every fixture, with its kind", () => {
    for (const e of manifest.fixtures) {
      const kind = sniffTensorflow(probeOf(readFileSync(join(DIR, e.file))));
      const want = {
        "tf-savedmodel": "saved-model",
        "tf-graphdef": "graph-def",
        "tf-keras-metadata": "keras-metadata",
      }[e.format];
      expect(kind, e.file).toBe(want);
    }
  });

  it("does not fire on other formats' fixtures (ONNX, pickle, torch zips, numpy, tar, TFLite, …)", () => {
    const files = otherFixtures(["tensorflow"]);
    expect(files.length).toBeGreaterThan(50);
    for (const p of files) expect(detectTensorflow(probeOf(readFileSync(p))), p).toBe(false);
  });

  it("does not fire on random bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), (bytes) => !detectTensorflow(probeOf(bytes))),
      { numRuns: 5000 },
    );
  });

  it("does not fire on random bytes behind a plausible start", () => {
    fc.assert(
      fc.property(
        fc.constantFrom([0x08, 0x01], [0x0a], [0x0a, 0x05]),
        fc.uint8Array({ minLength: 1, maxLength: 512 }),
        (prefix, rest) => !detectTensorflow(probeOf(new Uint8Array([...prefix, ...rest]))),
      ),
      { numRuns: 5000 },
    );
  });
});

describe("analyseTensorflow on hostile input", () => {
  for (const file of [
    "benign/saved_model/saved_model.pb",
    "benign/saved_model/keras_metadata.pb",
    "malicious/debug_and_print.pb",
  ]) {
    const base = readFileSync(join(DIR, file));
    it(`never throws on mutations of ${file}`, async () => {
      await fc.assert(
        fc.asyncProperty(mutatedCopies(base, { truncate: true }), async (bytes) => {
          const a = await analyseTensorflow(
            { file: "x.pb", member: [], source: memorySource(bytes) },
            ctx(),
          );
          expect(a.format.startsWith("tf-")).toBe(true);
        }),
        { numRuns: 200 },
      );
    });
  }
});
