import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { MODEL_EXTENSIONS } from "../src/scan/model-extensions.js";
import { VERSION } from "../src/version.js";
import { ROOT } from "./report-helpers.js";

const read = (name: string) => parse(readFileSync(join(ROOT, name), "utf8"));

describe("action.yml (composite GitHub Action)", () => {
  const action = read("action.yml");
  const steps: { uses?: string; run?: string; with?: Record<string, unknown> }[] =
    action.runs.steps;

  it("sets up Node 20, runs this version of modelvet to SARIF, and uploads it", () => {
    expect(action.runs.using).toBe("composite");
    expect(steps[0]).toMatchObject({ uses: "actions/setup-node@v4", with: { "node-version": 20 } });
    expect(action.inputs.version.default).toBe(VERSION);
    const scan = steps.find((s) => s.run?.includes("scan"))!;
    expect(scan.run).toContain(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: bash syntax, not a template
      'npx --yes "modelvet@${MODELVET_VERSION}" scan "${paths[@]}" --format sarif -o "$MODELVET_SARIF"',
    );
    const upload = steps.find((s) => s.uses?.startsWith("github/codeql-action/upload-sarif@"));
    // biome-ignore lint/suspicious/noTemplateCurlyInString: GitHub Actions expression syntax
    expect(upload?.with).toMatchObject({ sarif_file: "${{ inputs.sarif-file }}" });
  });

  it("passes inputs through the environment, never into the script text", () => {
    for (const step of steps) expect(step.run ?? "").not.toContain("${{");
  });
});

describe(".pre-commit-hooks.yaml", () => {
  const [hook] = read(".pre-commit-hooks.yaml");

  it("defines the modelvet hook", () => {
    expect(hook).toMatchObject({ id: "modelvet", entry: "modelvet scan", language: "node" });
  });

  it("matches exactly the model extensions modelvet knows", () => {
    const files = new RegExp(String(hook.files).replace(/^\(\?i\)/, ""), "i");
    for (const ext of MODEL_EXTENSIONS) expect(files.test(`models/x.${ext}`), ext).toBe(true);
    expect(files.test("models/X.PT")).toBe(true);
    expect(files.test("README.md")).toBe(false);
    expect(files.test("bin/modelvet.js")).toBe(false);
    const listed = String(hook.files)
      .match(/\(([^()]+)\)\$$/)![1]!
      .split("|");
    expect(new Set(listed)).toEqual(new Set(MODEL_EXTENSIONS));
  });
});
