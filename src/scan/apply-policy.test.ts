import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { memorySource } from "../core/byte-source.js";
import type { Finding } from "../core/finding.js";
import {
  applyBaseline,
  applyPolicy,
  FingerprintCounter,
  fingerprintOf,
  IGNORE_EXPIRED_RULE,
  normalisePath,
} from "./apply-policy.js";
import type { FileResult } from "./results.js";
import { type ScanReport, scan } from "./scan.js";

const ROOT = join(import.meta.dirname, "../..");
const MALICIOUS = "examples/malicious/reverse_shell_stand_in.pkl";
const GARBAGE = "examples/malicious/exec_after_garbage.bin";
const NESTED = "test/fixtures/torch/malicious/checkpoint_zip_in_zip.zip";
const CUSTOM = "test/fixtures/torch/benign/whole_module_custom_class.pt";

async function scanOf(...paths: string[]): Promise<ScanReport> {
  return scan(
    paths.map((path) => ({
      path,
      open: async () => ({ source: memorySource(readFileSync(join(ROOT, path))) }),
    })),
  );
}

const TODAY = "2026-01-15";

describe("applyPolicy", () => {
  it("changes nothing without overrides or ignores", async () => {
    const report = await scanOf(MALICIOUS);
    expect(applyPolicy(report, { today: TODAY })).toBe(report);
  });

  it("a severity override changes the finding, the verdict and the summary", async () => {
    const report = await scanOf(CUSTOM);
    expect(report.files[0]!.verdict).toBe("suspicious");
    const out = applyPolicy(report, { today: TODAY, severity: { "pickle.unknown-global": "low" } });
    const file = out.files[0]!;
    expect(file.findings.find((f) => f.rule === "pickle.unknown-global")?.severity).toBe("low");
    expect(file.children[0]!.findings[0]!.severity).toBe("low");
    expect(file.verdict).toBe("safe");
    expect(out.summary.verdicts).toMatchObject({ suspicious: 0, safe: 1 });
    expect(report.files[0]!.verdict).toBe("suspicious"); // the input is not modified
  });

  it("an ignore moves the finding to suppressed with its reason; the rest decides the verdict", async () => {
    const report = await scanOf(GARBAGE);
    const out = applyPolicy(report, {
      today: TODAY,
      ignore: [
        { rule: "pickle.dangerous-global", reason: "known test file", expires: "2026-12-31" },
      ],
    });
    const file = out.files[0]!;
    expect(file.findings.map((f) => f.rule)).toEqual(["pickle.malformed"]);
    expect(file.suppressed).toEqual([
      expect.objectContaining({
        rule: "pickle.dangerous-global",
        suppression: { kind: "ignore", reason: "known test file", expires: "2026-12-31" },
      }),
    ]);
    expect(file.verdict).toBe("suspicious");
    expect(out.summary).toMatchObject({ findings: 1, suppressed: 1 });
  });

  it("path globs match the path given by pathFor, or the archive member path inside it", async () => {
    const report = await scanOf(MALICIOUS, NESTED);
    const ignore = (path: string) =>
      applyPolicy(report, {
        today: TODAY,
        ignore: [{ rule: "pickle.dangerous-global", path, reason: "r" }],
        pathFor: (p) => normalisePath(p).replace(/^test\/fixtures\//, ""),
      }).files.map((f) => f.verdict);
    expect(ignore("torch/**/*.zip")).toEqual(["malicious", "safe"]);
    expect(ignore("**/checkpoint_zip_in_zip.zip/weights.zip/**")).toEqual(["malicious", "safe"]);
    expect(ignore("examples/**")).toEqual(["safe", "malicious"]);
    expect(ignore("nowhere/**")).toEqual(["malicious", "malicious"]);
    expect(ignore("**")).toEqual(["safe", "safe"]);
  });

  it("member verdicts are recomputed too", async () => {
    const report = await scanOf(NESTED);
    const out = applyPolicy(report, {
      today: TODAY,
      ignore: [{ rule: "pickle.dangerous-global", reason: "r" }],
    });
    const verdicts = (c: FileResult["children"]): string[] =>
      c.flatMap((a) => [a.verdict, ...verdicts(a.children)]);
    expect(verdicts(report.files[0]!.children)).toContain("malicious");
    expect(verdicts(out.files[0]!.children)).not.toContain("malicious");
  });

  it("global matches the finding's global exactly or by prefix", async () => {
    const report = await scanOf(CUSTOM);
    const run = (global: string) =>
      applyPolicy(report, {
        today: TODAY,
        ignore: [{ rule: "pickle.unknown-global", global, reason: "ours" }],
      }).files[0]!.verdict;
    expect(run("__main__.TinyNet")).toBe("safe");
    expect(run("__main__.*")).toBe("safe");
    expect(run("__main__.Other")).toBe("suspicious");
  });

  it("an expired ignore stops applying and adds an info finding saying so", async () => {
    const report = await scanOf(MALICIOUS);
    const out = applyPolicy(report, {
      today: TODAY,
      ignore: [{ rule: "pickle.dangerous-global", reason: "demo", expires: "2026-01-14" }],
    });
    const file = out.files[0]!;
    expect(file.verdict).toBe("malicious");
    expect(file.suppressed).toBeUndefined();
    const note = file.findings.find((f) => f.rule === IGNORE_EXPIRED_RULE);
    expect(note?.severity).toBe("info");
    expect(note?.message).toContain("expired on 2026-01-14");
    expect(note?.message).toContain('"demo"');
  });

  it("a file that could not be analysed stays error while any of its findings is left", async () => {
    const report = await scan([
      { path: "gone.pt", open: () => Promise.reject(new Error("ENOENT")) },
    ]);
    const lowered = applyPolicy(report, { today: TODAY, severity: { "scan.unreadable": "info" } });
    expect(lowered.files[0]!.verdict).toBe("error");
    const ignored = applyPolicy(report, {
      today: TODAY,
      ignore: [{ rule: "scan.unreadable", reason: "removed on purpose" }],
    });
    expect(ignored.files[0]!.verdict).toBe("safe");
  });
});

describe("baselines", () => {
  it("sets aside findings in the baseline; new ones remain", async () => {
    const old = await scanOf(MALICIOUS);
    const counter = new FingerprintCounter();
    const fingerprints = new Set(
      old.files.flatMap((file) => file.findings.map((f) => counter.next(f, file))),
    );
    const now = await scanOf(MALICIOUS, GARBAGE);
    const out = applyBaseline(now, { file: "base.json", fingerprints });
    expect(out.files.map((f) => f.verdict)).toEqual(["safe", "malicious"]);
    expect(out.files[0]!.suppressed?.[0]?.suppression).toEqual({
      kind: "baseline",
      reason: "in the baseline base.json",
    });
    expect(out.baseline).toEqual({ file: "base.json", findings: 1 });
  });

  it("a global finding's fingerprint ignores offsets and wording; repeats are numbered", () => {
    const f: Finding = {
      rule: "pickle.dangerous-global",
      severity: "critical",
      message: "one wording",
      location: { file: "a.pkl", offset: 10 },
      evidence: { global: "os.system" },
    };
    const moved = { ...f, message: "another", location: { file: "a.pkl", offset: 99 } };
    expect(fingerprintOf(moved, "a.pkl", 1)).toBe(fingerprintOf(f, "a.pkl", 1));
    const noGlobal = { ...f, evidence: {} };
    expect(fingerprintOf(noGlobal, "a.pkl", 1)).not.toBe(
      fingerprintOf({ ...noGlobal, location: { file: "a.pkl", offset: 11 } }, "a.pkl", 1),
    );
    const file = { path: "a.pkl" } as FileResult;
    const counter = new FingerprintCounter();
    expect(counter.next(f, file)).not.toBe(counter.next(moved, file));
  });

  it("normalisePath drops ./ and uses /", () => {
    expect(normalisePath("./a\\b/c.pt")).toBe("a/b/c.pt");
  });
});
