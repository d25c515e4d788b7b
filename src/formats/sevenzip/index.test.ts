import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { readCorpusFile } from "../../../test/fixtures/zip/corpus.js";
import { memorySource, readAll } from "../../core/byte-source.js";
import { DEFAULT_LIMITS, type Limits } from "../../core/limits.js";
import type { Policy } from "../../policy/types.js";
import type { Analysis, ScanContext } from "../types.js";
import { analyseSevenZip, detectSevenZip, sevenZipFormat } from "./index.js";
import { createSevenZip } from "./seven-zip-wasm.js";

const policy: Policy = {
  classifyGlobal: () => ({ class: "unknown", severity: "medium", rule: null, reason: "test" }),
};
const PICKLE = Uint8Array.from([0x80, 0x04, 0x95, 0x03, 0, 0, 0, 0, 0, 0, 0, 0x4e, 0x2e]);

function ctx(limits: Partial<Limits> = {}): ScanContext {
  return { limits: { ...DEFAULT_LIMITS, ...limits }, policy, depth: 0 };
}

async function analyse(bytes: Uint8Array, limits: Partial<Limits> = {}): Promise<Analysis> {
  return sevenZipFormat.analyse(
    { file: "t.7z", member: [], source: memorySource(bytes) },
    ctx(limits),
  );
}

const rules = (a: Analysis): string[] => a.findings.map((f) => f.rule);

/** Builds a 7z with 7-Zip itself (in its memory FS), from `files` and extra `a` switches. */
async function make7z(
  files: Record<string, Uint8Array>,
  switches: string[] = [],
): Promise<Uint8Array> {
  const sz = await createSevenZip();
  sz.fs.mkdir("/src");
  for (const [name, data] of Object.entries(files)) {
    const parts = name.split("/");
    for (let i = 1; i < parts.length; i++) {
      try {
        sz.fs.mkdir(`/src/${parts.slice(0, i).join("/")}`);
      } catch {
        // exists
      }
    }
    sz.fs.writeFile(`/src/${name}`, data);
  }
  const run = sz.run(["a", "-t7z", ...switches, "/out.7z", "/src/*"]);
  if (run.exitCode !== 0) throw new Error(`7z a failed: ${run.stderr.join("\n")}`);
  return sz.fs.readFile("/out.7z");
}

describe("detectSevenZip", () => {
  it("matches the 7z signature only", () => {
    const head = Uint8Array.of(0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c, 0, 4);
    expect(detectSevenZip({ head, tail: head, size: head.length })).toBe(true);
    const zip = Uint8Array.of(0x50, 0x4b, 3, 4);
    expect(detectSevenZip({ head: zip, tail: zip, size: 4 })).toBe(false);
    expect(sevenZipFormat.id).toBe("7z");
  });
});

describe("sevenZipFormat.analyse", () => {
  let plain: Uint8Array;
  beforeAll(async () => {
    plain = await make7z({
      "model/data.pkl": PICKLE,
      "model/notes.txt": new TextEncoder().encode("notes ".repeat(100)),
    });
  });

  it("round-trips an archive made by 7-Zip: members come back as children", async () => {
    const a = await analyse(plain);
    expect(a.format).toBe("7z");
    expect(a.unanalysable).toBeUndefined();
    expect(a.findings).toEqual([]);
    expect(a.children.map((c) => c.name)).toEqual(["model/data.pkl", "model/notes.txt"]);
    expect(await readAll(a.children[0]!.source)).toEqual(PICKLE);
    expect(a.children.every((c) => c.hint === undefined)).toBe(true);
  });

  it("does not leak 7-Zip's exit code into the process", async () => {
    const before = process.exitCode;
    await analyse(Uint8Array.of(0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c, 0, 4, 9, 9, 9, 9));
    expect(process.exitCode).toBe(before);
  });

  it("reports password-protected members as encrypted and unanalysable", async () => {
    const bytes = await make7z({ "a.pkl": PICKLE }, ["-psecret"]);
    const a = await analyse(bytes);
    expect(a.unanalysable).toBe(true);
    expect(rules(a)).toContain("archive.encrypted");
    expect(a.findings.find((f) => f.rule === "archive.encrypted")!.severity).toBe("high");
    expect(a.children).toEqual([]);
  });

  it("reports encrypted headers as encrypted and unanalysable", async () => {
    const bytes = await make7z({ "a.pkl": PICKLE }, ["-psecret", "-mhe=on"]);
    const a = await analyse(bytes);
    expect(a.unanalysable).toBe(true);
    expect(rules(a)).toContain("archive.encrypted");
  });

  it("does not extract members over maxMemberBytes", async () => {
    const bytes = await make7z({
      "big.bin": new Uint8Array(100_000),
      "a b*?.pkl": PICKLE,
      "-dash.pkl": PICKLE,
    });
    const a = await analyse(bytes, { maxMemberBytes: 1000 });
    expect(rules(a)).toEqual(["limits.exceeded"]);
    // Selected by literal name: spaces, wildcards and leading dashes are not special.
    expect(a.children.map((c) => c.name)).toEqual(["-dash.pkl", "a b*?.pkl"]);
  });

  it("stops at maxTotalInflatedBytes", async () => {
    const bytes = await make7z({ "a.bin": new Uint8Array(5000), "b.bin": new Uint8Array(5000) });
    const a = await analyse(bytes, { maxTotalInflatedBytes: 6000 });
    expect(rules(a)).toEqual(["limits.exceeded"]);
    expect(a.children).toHaveLength(1);
  });

  it("refuses archives over the size bound without reading them", async () => {
    const a = await analyseSevenZip(
      { file: "t.7z", member: [], source: memorySource(plain) },
      ctx(),
      { maxArchiveBytes: 10 },
    );
    expect(a.unanalysable).toBe(true);
    expect(rules(a)).toEqual(["limits.exceeded"]);
  });

  it("reports a damaged archive as malformed and unanalysable", async () => {
    const a = await analyse(Uint8Array.of(0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c, 0, 4, 1, 2, 3));
    expect(a.unanalysable).toBe(true);
    expect(rules(a)).toContain("7z.malformed");
  });

  it("analyses what it can of a truncated archive, fail closed", async () => {
    const a = await analyse(plain.subarray(0, plain.length - 20));
    expect(rules(a)).toContain("7z.malformed");
  });
});

describe("robustness (fast-check)", () => {
  it("never throws on mutated archives", async () => {
    const seed = await make7z({ "a.pkl": PICKLE, "b.txt": new TextEncoder().encode("hello") });
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 6,
        }),
        fc.nat(),
        async (mutations, cut) => {
          const bytes = seed.slice();
          for (const [at, value] of mutations) bytes[6 + (at % (bytes.length - 6))] = value;
          const a = await analyse(bytes.subarray(0, Math.max(6, bytes.length - (cut % 64))));
          expect(a.format).toBe("7z");
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe("picklescan sample malicious1.7z (../shared/corpus; skipped when absent)", () => {
  const bytes = readCorpusFile("malicious1.7z");
  it.skipIf(bytes === undefined)(
    `extracts the pickle member${bytes ? "" : " (corpus absent)"}`,
    async () => {
      const a = await analyse(bytes!);
      expect(a.unanalysable).toBeUndefined();
      expect(a.children.map((c) => c.name)).toEqual(["data.pkl"]);
      const data = await readAll(a.children[0]!.source);
      expect(data[0]).toBe(0x80);
    },
  );
});
