import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { memorySource } from "../../core/byte-source.js";
import { DEFAULT_LIMITS } from "../../core/limits.js";
import { BUILTIN_POLICY } from "../../policy/index.js";
import { findEndlessHeapWalk } from "./global-heap-check.js";
import { analyseHdf5, findHdf5Signature } from "./index.js";

const KERAS = join(import.meta.dirname, "../../../test/fixtures/keras");
const h5Files = ["benign", "malicious"].flatMap((d) =>
  readdirSync(join(KERAS, d))
    .filter((f) => f.endsWith(".h5"))
    .map((f) => join(KERAS, d, f)),
);

describe("findEndlessHeapWalk", () => {
  it("passes every genuine HDF5 fixture", () => {
    expect(h5Files.length).toBeGreaterThan(3);
    for (const file of h5Files) {
      const bytes = new Uint8Array(readFileSync(file));
      expect(findEndlessHeapWalk(bytes, findHdf5Signature(bytes)), file).toBeNull();
    }
  });

  it("finds a free-space heap object of size 0, which libhdf5 would walk forever", async () => {
    const bytes = Uint8Array.from(
      readFileSync(join(KERAS, "malicious/lambda_os_system_keras2.h5")),
    );
    // A heap object at 0xfa8 of the collection at 2048: index 0 (free space) with size 0.
    bytes.fill(0, 0xfa8, 0xfb8);
    expect(findEndlessHeapWalk(bytes, 0)).toMatch(/size 0/);
    const ctx = { limits: DEFAULT_LIMITS, policy: BUILTIN_POLICY, depth: 0 };
    const a = await analyseHdf5({ file: "x.h5", member: [], source: memorySource(bytes) }, ctx);
    expect(a.unanalysable).toBe(true);
    expect(a.findings[0]?.message).toMatch(/never finish/);
  });
});
