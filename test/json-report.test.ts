import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { memorySource } from "../src/core/byte-source.js";
import { writeJson } from "../src/report/json.js";
import { scan } from "../src/scan/scan.js";

const ROOT = join(import.meta.dirname, "..");
const schema = JSON.parse(readFileSync(join(ROOT, "docs/result-schema.json"), "utf8"));

describe("JSON report", () => {
  it("validates against docs/result-schema.json for benign, malicious, archive and unreadable files", async () => {
    const files = [
      "examples/benign/state_dict.pt",
      "examples/malicious/reverse_shell_stand_in.pkl",
      "examples/malicious/exec_after_garbage.bin",
      "examples/README.md",
    ];
    const report = await scan([
      ...files.map((path) => ({
        path,
        open: async () => ({
          source: memorySource(readFileSync(join(ROOT, path))),
          sha256: async () => "0".repeat(64),
        }),
      })),
      { path: "missing.pt", open: () => Promise.reject(new Error("ENOENT")) },
    ]);
    const parsed = JSON.parse(writeJson(report));
    const validate = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true }).compile(
      schema,
    );
    expect(validate(parsed), JSON.stringify(validate.errors, null, 2)).toBe(true);
    expect(parsed.files.map((f: { verdict: string }) => f.verdict)).toEqual([
      "safe",
      "malicious",
      "malicious",
      "safe",
      "error",
    ]);
    expect(parsed.summary.unrecognised).toBe(1);
  });

  it("rejects a report that breaks the schema (the check can fail)", () => {
    const validate = new Ajv2020({ strict: true, allowUnionTypes: true }).compile(schema);
    expect(validate({ schemaVersion: 1, tool: { name: "modelvet", version: "x" } })).toBe(false);
  });
});
