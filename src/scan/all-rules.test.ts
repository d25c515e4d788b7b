import { describe, expect, it } from "vitest";
import { allRules } from "./all-rules.js";

describe("allRules", () => {
  const rules = allRules();
  it("lists unique, well-formed ids with descriptions", () => {
    const ids = rules.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const r of rules) {
      expect(r.id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*(\.[a-z0-9-]+)+$/);
      expect(r.description.length).toBeGreaterThan(10);
    }
  });
  it("includes the rules of the engine, policy and each format", () => {
    const ids = rules.map((r) => r.id);
    for (const id of [
      "scan.unrecognised-format",
      "pickle.dangerous-global",
      "pickle.malformed",
      "zip.crc-mismatch",
      "archive.encrypted",
      "pytorch.storage-layout",
      "limits.exceeded",
    ]) {
      expect(ids).toContain(id);
    }
  });
});
