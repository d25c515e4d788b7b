import { describe, expect, it } from "vitest";
import { readCorpusFile } from "../../../test/fixtures/zip/corpus.js";
import { makeZip, type ZipEntrySpec, type ZipSpec } from "../../../test/fixtures/zip/make-zip.js";
import { memorySource, readAll } from "../../core/byte-source.js";
import { DEFAULT_LIMITS } from "../../core/limits.js";
import type { Policy } from "../../policy/types.js";
import type { Analysis, Probe, ScanContext } from "../types.js";
import { detectZip, PREFIX_CHILD, WHOLE_FILE_CHILD, zipFormat } from "./index.js";

const PICKLE = Uint8Array.from([0x80, 0x04, 0x4e, 0x2e]);
const policy: Policy = {
  classifyGlobal: () => ({ class: "unknown", severity: "medium", rule: null, reason: "test" }),
};
const ctx: ScanContext = { limits: DEFAULT_LIMITS, policy, depth: 0 };

function probe(bytes: Uint8Array, window = 64 * 1024 + 22): Probe {
  return { head: bytes.subarray(0, window), tail: bytes.subarray(-window), size: bytes.length };
}

async function analyse(bytes: Uint8Array): Promise<Analysis> {
  return zipFormat.analyse({ file: "t.zip", member: [], source: memorySource(bytes) }, ctx);
}

async function analyseBuilt(entries: ZipEntrySpec[], spec?: ZipSpec): Promise<Analysis> {
  return analyse(await makeZip(entries, spec));
}

const rules = (a: Analysis): string[] => a.findings.map((f) => f.rule);

describe("detectZip", () => {
  it("detects a local header at the start and an end record behind prepended bytes", async () => {
    const zip = await makeZip([{ name: "a", data: "b" }]);
    expect(detectZip(probe(zip))).toBe(true);
    const prepended = await makeZip([{ name: "a", data: "b" }], { prepend: PICKLE });
    expect(prepended[0]).toBe(0x80);
    expect(detectZip(probe(prepended))).toBe(true);
    expect(detectZip(probe(new TextEncoder().encode("just some text, no zip")))).toBe(false);
    expect(detectZip(probe(new Uint8Array(0)))).toBe(false);
  });

  it("is the registered analyser with id zip", () => {
    expect(zipFormat.id).toBe("zip");
    expect(zipFormat.detect).toBe(detectZip);
  });
});

describe("zipFormat.analyse", () => {
  it("returns every member as a child, without hints, skipping directories", async () => {
    const a = await analyseBuilt([
      { name: "dir/", data: "" },
      { name: "dir/model.bin", data: PICKLE },
      { name: "dir/inner.zip", data: await makeZip([{ name: "x", data: "y" }]), method: 8 },
    ]);
    expect(a.format).toBe("zip");
    expect(a.unanalysable).toBeUndefined();
    expect(a.findings).toEqual([]);
    expect(a.children.map((c) => c.name)).toEqual(["dir/model.bin", "dir/inner.zip"]);
    expect(a.children.every((c) => c.hint === undefined)).toBe(true);
    expect(await readAll(a.children[0]!.source)).toEqual(PICKLE);
    expect(a.details).toMatchObject({ members: 3, read: 2, directories: 1 });
  });

  it("treats a zip with <root>/data.pkl as PyTorch and never reads tensor storage", async () => {
    const a = await analyseBuilt([
      { name: "archive/data.pkl", data: PICKLE },
      { name: "archive/data/0", data: new Uint8Array(4096) },
      { name: "archive/data/1", data: new Uint8Array(4096), method: 8 },
      { name: "archive/version", data: "3\n" },
    ]);
    expect(a.format).toBe("pytorch-zip");
    expect(a.children.map((c) => c.name)).toEqual(["archive/data.pkl", "archive/version"]);
    expect(a.details).toMatchObject({ tensorStorageSkipped: 2 });
  });

  it("names duplicate members apart and reports them", async () => {
    const a = await analyseBuilt([
      { name: "a/data.pkl", data: PICKLE },
      { name: "a/data.pkl", data: PICKLE },
    ]);
    expect(a.children.map((c) => c.name)).toEqual(["a/data.pkl", "a/data.pkl#2"]);
    expect(rules(a)).toEqual(["zip.duplicate-name", "pytorch.multiple-data-pkl"]);
  });

  it("marks an archive with encrypted members unanalysable", async () => {
    const a = await analyseBuilt([
      { name: "ok.txt", data: "fine" },
      { name: "secret.pkl", data: new Uint8Array(20).fill(7), flags: 0x1, declaredSize: 8 },
    ]);
    expect(a.unanalysable).toBe(true);
    expect(rules(a)).toEqual(["zip.encrypted", "archive.unanalysable"]);
    expect(a.findings.every((f) => f.severity === "high")).toBe(true);
    expect(a.children.map((c) => c.name)).toEqual(["ok.txt"]);
  });

  it("marks an archive unanalysable when no member can be read", async () => {
    const a = await analyseBuilt([{ name: "a.pkl", data: PICKLE, method: 14 }]);
    expect(a.unanalysable).toBe(true);
    expect(rules(a)).toEqual(["zip.unsupported-method", "archive.unanalysable"]);
  });

  it("is not unanalysable when one of several members cannot be read", async () => {
    const a = await analyseBuilt([
      { name: "a.pkl", data: PICKLE, method: 14 },
      { name: "b.pkl", data: PICKLE },
    ]);
    expect(a.unanalysable).toBeUndefined();
    expect(rules(a)).toEqual(["zip.unsupported-method"]);
  });

  it("hands a prepended pickle back as the whole file, read as a pickle from offset 0", async () => {
    const a = await analyseBuilt([{ name: "x.txt", data: "hi" }], { prepend: PICKLE });
    expect(rules(a)).toEqual(["zip.prepended-data"]);
    expect(a.children.map((c) => c.name)).toEqual(["x.txt", WHOLE_FILE_CHILD]);
    const whole = a.children[1]!;
    expect(whole.hint).toBe("pickle");
    expect(whole.source.size).toBeGreaterThan(PICKLE.length);
    expect((await readAll(whole.source)).subarray(0, PICKLE.length)).toEqual(PICKLE);
  });

  it("hands other prepended bytes back as a child of their own", async () => {
    const prefix = new Uint8Array([0x00, 0xff, 0xfe, 0x01]);
    const a = await analyseBuilt([{ name: "x.txt", data: "hi" }], { prepend: prefix });
    expect(a.children.map((c) => c.name)).toEqual(["x.txt", PREFIX_CHILD]);
    expect(await readAll(a.children[1]!.source)).toEqual(prefix);
  });

  it("reports not-a-zip as unanalysable rather than throwing", async () => {
    const a = await analyse(new TextEncoder().encode("PK\x03\x04 but nothing else"));
    expect(a.unanalysable).toBe(true);
    expect(a.findings.length).toBeGreaterThan(0);
  });
});

describe("picklescan / ModelScan samples (../shared/corpus; skipped when absent)", () => {
  const cases: [file: string, expectUnanalysable: boolean, rule?: string][] = [
    ["malicious1.zip", false],
    ["malicious1_0x1.zip", false, "zip.flag-bits"],
    ["malicious1_0x20.zip", false, "zip.flag-bits"],
    ["malicious1_0x40.zip", false, "zip.flag-bits"],
    ["malicious1_central_directory.zip", false, "zip.name-mismatch"],
    ["malicious1_wrong_ext.zip", false],
    ["modelscan_unsafe_zip_pytorch.pt", false],
    ["new_pytorch_model.bin", false],
    ["benign_password_protected.zip", true, "zip.encrypted"],
    ["modelscan_password_protected.zip", true, "zip.encrypted"],
  ];
  for (const [file, expectUnanalysable, rule] of cases) {
    const bytes = readCorpusFile(file);
    it.skipIf(bytes === undefined)(`${file}${bytes ? "" : " (corpus absent)"}`, async () => {
      const a = await analyse(bytes!);
      expect(a.unanalysable === true).toBe(expectUnanalysable);
      if (rule) expect(rules(a)).toContain(rule);
      if (!expectUnanalysable) {
        const heads = await Promise.all(
          a.children.map(async (c) => (await c.source.read(0, 1))[0]),
        );
        expect(heads).toContain(0x80);
      }
    });
  }
});
