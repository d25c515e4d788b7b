import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { writeJson } from "../src/report/json.js";
import { ROOT, richReport } from "./report-helpers.js";

const schema = JSON.parse(readFileSync(join(ROOT, "docs/result-schema.json"), "utf8"));
const validator = () =>
  new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true }).compile(schema);

describe("JSON report with a policy and a baseline applied", () => {
  it("validates against docs/result-schema.json: policy, baseline, suppressed findings", async () => {
    const parsed = JSON.parse(writeJson(await richReport()));
    const validate = validator();
    expect(validate(parsed), JSON.stringify(validate.errors, null, 2)).toBe(true);
    expect(parsed.policy.source).toBe("modelvet.yaml");
    expect(parsed.baseline).toEqual({ file: "baseline.json", findings: 1 });
    const suppressed = parsed.files.flatMap((f: { suppressed?: unknown[] }) => f.suppressed ?? []);
    expect(suppressed.length).toBe(parsed.summary.suppressed);
    expect(
      suppressed.map((f: { suppression: { kind: string } }) => f.suppression.kind).sort(),
    ).toEqual(["baseline", "ignore", "ignore"]);
  });

  it("the golden examples report validates too", () => {
    const golden = JSON.parse(
      readFileSync(join(ROOT, "test/fixtures/golden/examples.json"), "utf8"),
    );
    expect(validator()(golden)).toBe(true);
  });

  it("rejects a suppressed finding without its reason", async () => {
    const parsed = JSON.parse(writeJson(await richReport()));
    const file = parsed.files.find((f: { suppressed?: unknown[] }) => f.suppressed);
    delete file.suppressed[0].suppression.reason;
    expect(validator()(parsed)).toBe(false);
  });
});
