import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { memorySource } from "../core/byte-source.js";
import { materialise } from "./materialise.js";
import { planConversion } from "./plan.js";
import type { TensorPlan } from "./types.js";

const ROOT = join(import.meta.dirname, "../../test/fixtures/convert");

interface Expected {
  note: string;
  tensors?: Record<string, { dtype: string; shape: number[]; sha256: string }>;
  refuse?: string;
  dropped?: string[];
}
const EXPECTED = JSON.parse(readFileSync(join(ROOT, "expected.json"), "utf8")).fixtures as Record<
  string,
  Expected
>;

async function sha256(t: TensorPlan): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of materialise(t)) hash.update(chunk);
  return hash.digest("hex");
}

async function described(tensors: readonly TensorPlan[]) {
  const out: Record<string, { dtype: string; shape: number[]; sha256: string }> = {};
  for (const t of tensors)
    out[t.name] = { dtype: t.dtype, shape: t.shape, sha256: await sha256(t) };
  return out;
}

const plan = (file: string, dropNonTensors = false) =>
  planConversion(memorySource(readFileSync(join(ROOT, file))), { dropNonTensors });

describe("planConversion against torch's own tensors (expected.json)", () => {
  const convertible = Object.entries(EXPECTED).filter(([, e]) => e.refuse === undefined);
  it.each(convertible)("%s: every tensor's dtype, shape and SHA-256", async (file, expected) => {
    const result = await plan(file);
    if (!result.ok) throw new Error(result.error.reason);
    expect(await described(result.value.tensors)).toEqual(expected.tensors);
    expect(result.value.dropped).toEqual([]);
  });

  const refused = Object.entries(EXPECTED).filter(([, e]) => e.refuse !== undefined);
  it.each(refused)("%s: refused with the reason", async (file, expected) => {
    const result = await plan(file);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.reason).toContain(expected.refuse);
  });

  const droppable = refused.filter(([, e]) => e.dropped !== undefined);
  it.each(droppable)(
    "%s: --drop-non-tensors keeps the tensors, lists the rest",
    async (file, e) => {
      const result = await plan(file, true);
      if (!result.ok) throw new Error(result.error.reason);
      expect(result.value.dropped.map((d) => d.name).sort()).toEqual([...e.dropped!].sort());
      expect(await described(result.value.tensors)).toEqual(e.tensors);
    },
  );
});

describe("planConversion refusals", () => {
  it("names the global and its offset for a whole pickled module", async () => {
    const result = await plan("module.pt");
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.global).toBe("torch.nn.modules.container.Sequential");
      expect(result.error.offset).toBeGreaterThan(0);
      expect(result.error.member).toBe("module/data.pkl");
    }
  });

  it("refuses a module even with --drop-non-tensors", async () => {
    expect((await plan("module.pt", true)).ok).toBe(false);
  });

  it.each([
    "torch/malicious/state_dict_payload.pt",
    "torch/malicious/legacy_payload_in_object.pt",
    "torch/malicious/legacy_payload_in_sys_info.pt",
  ])("refuses the proven malicious %s on its own (no scan needed)", async (file) => {
    const bytes = readFileSync(join(ROOT, "..", file));
    const result = await planConversion(memorySource(bytes), { dropNonTensors: true });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.global).toBe("posix.system");
  });

  it("refuses bytes that are no model format", async () => {
    const result = await planConversion(memorySource(new TextEncoder().encode("hello")));
    expect(result.ok).toBe(false);
  });

  it("records shared storages (tied weights) and writes each tensor on its own", async () => {
    const result = await plan("hf/pytorch_model.bin");
    if (!result.ok) throw new Error(result.error.reason);
    expect(result.value.sharedStorages).toBe(2);
  });
});
