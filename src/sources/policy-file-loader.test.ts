import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { findPolicyFile, loadPolicyFile, PolicyFileError } from "./policy-file-loader.js";

function tree(): string {
  const root = mkdtempSync(join(tmpdir(), "modelvet-policy-"));
  mkdirSync(join(root, "repo/.git"), { recursive: true });
  mkdirSync(join(root, "repo/models/sub"), { recursive: true });
  writeFileSync(join(root, "repo/models/sub/a.pt"), "x");
  return root;
}

describe("findPolicyFile", () => {
  it("finds modelvet.yaml in the folder of a file or any folder above it", async () => {
    const root = tree();
    writeFileSync(join(root, "repo/modelvet.yaml"), "allow: []\n");
    expect(await findPolicyFile(join(root, "repo/models/sub/a.pt"), "/")).toBe(
      join(root, "repo/modelvet.yaml").slice(1),
    );
    expect(await findPolicyFile("models/sub", join(root, "repo"))).toBe("modelvet.yaml");
  });

  it("takes the nearest one", async () => {
    const root = tree();
    writeFileSync(join(root, "repo/modelvet.yaml"), "");
    writeFileSync(join(root, "repo/models/modelvet.yaml"), "");
    expect(await findPolicyFile("models/sub/a.pt", join(root, "repo"))).toBe(
      "models/modelvet.yaml",
    );
  });

  it("stops at the root of a git checkout", async () => {
    const root = tree();
    writeFileSync(join(root, "modelvet.yaml"), "");
    expect(await findPolicyFile(join(root, "repo/models"))).toBeNull();
  });

  it("gives an absolute path for a file outside the working folder", async () => {
    const root = tree();
    writeFileSync(join(root, "repo/modelvet.yaml"), "");
    expect(await findPolicyFile(join(root, "repo/models"), join(root, "repo/models"))).toBe(
      join(root, "repo/modelvet.yaml"),
    );
  });
});

describe("loadPolicyFile", () => {
  it("reads and checks the file", async () => {
    const root = tree();
    const path = join(root, "modelvet.yaml");
    writeFileSync(path, "fail-on: high\n");
    expect((await loadPolicyFile(path)).failOn).toBe("high");
  });

  it("names a missing file", async () => {
    await expect(loadPolicyFile("/no/such/modelvet.yaml")).rejects.toThrow(
      new PolicyFileError("/no/such/modelvet.yaml: cannot read the policy file (no such file)"),
    );
  });

  it("names the file and the problem for an invalid policy", async () => {
    const root = tree();
    const path = join(root, "modelvet.yaml");
    writeFileSync(path, "severity: {pickle.nope: low}\n");
    await expect(loadPolicyFile(path, new Set(["pickle.unknown-global"]))).rejects.toThrow(
      `${path}: severity: unknown rule "pickle.nope"`,
    );
  });
});
