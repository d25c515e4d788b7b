import { describe, expect, it } from "vitest";
import type { Finding } from "../core/finding.js";
import type { FileResult } from "../scan/results.js";
import type { GateStore, ScanRecord } from "./gate-store.js";
import { decide, type ScanQueue, Vetter } from "./vetter.js";

function result(verdict: FileResult["verdict"], findings: Partial<Finding>[]): FileResult {
  return {
    path: "f",
    size: 1,
    format: "pickle",
    verdict,
    findings: findings.map((f) => ({
      rule: "r",
      severity: "info",
      message: "m",
      location: { file: "f" },
      ...f,
    })),
    children: [],
    timings: { analyseMs: 0 },
  };
}

describe("decide", () => {
  it("refuses at or above fail-on and names the worst finding", () => {
    const r = result("malicious", [
      { rule: "pickle.unknown-global", severity: "medium", message: "odd" },
      {
        rule: "pickle.dangerous-global",
        severity: "critical",
        message: "runs a shell",
        evidence: { global: "posix.system" },
        location: { file: "f", member: ["archive", "data.pkl"] },
      },
    ]);
    const d = decide(r, "medium");
    expect(d).toMatchObject({
      blocked: true,
      rule: "pickle.dangerous-global",
      global: "posix.system",
    });
    expect(d.message).toBe(
      "pickle.dangerous-global (critical) posix.system in archive/data.pkl: runs a shell",
    );
    expect(decide(r, "critical").blocked).toBe(true);
    expect(decide(r, "none").blocked).toBe(false);
    const medium = result("suspicious", [{ rule: "pickle.unknown-global", severity: "medium" }]);
    expect(decide(medium, "medium").blocked).toBe(true);
    expect(decide(medium, "high").blocked).toBe(false);
  });

  it("fails closed: a file that could not be analysed counts as high", () => {
    const unreadable = result("error", []);
    expect(decide(unreadable, "medium").blocked).toBe(true);
    expect(decide(unreadable, "high").blocked).toBe(true);
    expect(decide(unreadable, "critical").blocked).toBe(false);
  });

  it("lets a clean file through and says so", () => {
    const d = decide(result("safe", [{ severity: "info" }]), "low");
    expect(d.blocked).toBe(false);
    expect(decide(result("safe", []), "low")).toMatchObject({ blocked: false, rule: null });
  });
});

describe("Vetter", () => {
  const target = {
    repoType: "model" as const,
    repo: "a/b",
    revision: "c",
    path: "f",
    contentHash: "h",
    size: 1,
    url: "http://x/a/b/resolve/c/f",
  };
  const record = { id: "s1", blocked: false } as unknown as ScanRecord;

  it("asks the store and the queue once for concurrent callers, then answers from memory", async () => {
    let lookups = 0;
    let scans = 0;
    const store = {
      getScan: async () => {
        lookups++;
        return null;
      },
    } as unknown as GateStore;
    const queue: ScanQueue = {
      scan: async () => {
        scans++;
        await new Promise((r) => setTimeout(r, 10));
        return record;
      },
      start: async () => {},
      stop: async () => {},
    };
    const vetter = new Vetter(store, queue, 1);
    const all = await Promise.all(
      Array.from({ length: 5 }, () => vetter.verdict(target, undefined)),
    );
    expect(all.every((r) => r === record)).toBe(true);
    expect([lookups, scans]).toEqual([1, 1]);
    await vetter.verdict(target, undefined);
    expect([lookups, scans]).toEqual([1, 1]);
    // A cache of one entry: another file evicts the first, which is then looked up again.
    await vetter.verdict({ ...target, path: "g" }, undefined);
    await vetter.verdict(target, undefined);
    expect([lookups, scans]).toEqual([3, 3]);
  });
});
