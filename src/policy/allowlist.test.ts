import { describe, expect, test } from "vitest";
import { ALLOWED_GLOBALS, REFUSED_GLOBALS } from "./allowlist.js";
import { BUILTIN_POLICY } from "./index.js";

const DOTTED = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$/;

function split(name: string): [string, string] {
  const dot = name.lastIndexOf(".");
  return [name.slice(0, dot), name.slice(dot + 1)];
}

describe.each([
  ["ALLOWED_GLOBALS", ALLOWED_GLOBALS],
  ["REFUSED_GLOBALS", REFUSED_GLOBALS],
])("%s entries", (_label, entries) => {
  test("are well-formed: `module.name`, a reason", () => {
    for (const e of entries) {
      expect(e.name, e.name).toMatch(DOTTED);
      expect(e.reason.trim().length, e.name).toBeGreaterThan(10);
    }
  });

  test("are unique", () => {
    const names = entries.map((e) => e.name);
    expect(names.length).toBeGreaterThan(0);
    expect(new Set(names).size).toBe(names.length);
  });
});

describe("allowlist", () => {
  test("allows every storage class torch.load accepts, float8 and unsigned ones included", () => {
    for (const name of ["Float8_e4m3fnStorage", "Float8_e5m2Storage", "UInt16Storage"]) {
      expect(BUILTIN_POLICY.classifyGlobal("torch", name).class, name).toBe("allowed");
    }
    expect(BUILTIN_POLICY.classifyGlobal("torch", "UntypedStorage").class).toBe("allowed");
    expect(BUILTIN_POLICY.classifyGlobal("torch.cuda", "Float8_e4m3fnStorage").class).toBe(
      "unknown",
    );
  });

  test("every entry is classified allowed (none is also denied or flagged)", () => {
    for (const e of ALLOWED_GLOBALS) {
      const [module, name] = split(e.name);
      const v = BUILTIN_POLICY.classifyGlobal(module, name);
      expect(v.class, `${e.name}: ${v.reason}`).toBe("allowed");
      expect(v.severity).toBeNull();
      expect(v.rule).toBeNull();
    }
  });

  test("refused entries are not allowlisted and classify as unknown with their reason", () => {
    const allowed = new Set(ALLOWED_GLOBALS.map((e) => e.name));
    for (const e of REFUSED_GLOBALS) {
      expect(allowed.has(e.name), e.name).toBe(false);
      const [module, name] = split(e.name);
      const v = BUILTIN_POLICY.classifyGlobal(module, name);
      expect(v.class, e.name).toBe("unknown");
      expect(v.reason).toBe(e.reason);
    }
  });

  test("every builtins entry has its Python 2 `__builtin__` twin", () => {
    const names = new Set(ALLOWED_GLOBALS.map((e) => e.name));
    for (const n of names) {
      if (n.startsWith("builtins.")) expect(names.has(`__builtin__.${n.slice(9)}`), n).toBe(true);
      if (n.startsWith("copyreg.")) expect(names.has(`copy_reg.${n.slice(8)}`), n).toBe(true);
    }
    expect(names.has("__builtin__.unicode")).toBe(true);
    expect(names.has("__builtin__.xrange")).toBe(true);
  });

  test("holds what a PyTorch state_dict and NumPy arrays need", () => {
    for (const n of [
      "collections.OrderedDict",
      "torch._utils._rebuild_tensor_v2",
      "torch._utils._rebuild_parameter",
      "torch.FloatStorage",
      "torch.BFloat16Storage",
      "torch.storage.UntypedStorage",
      "torch.bfloat16",
      "torch.Size",
      "numpy.core.multiarray._reconstruct",
      "numpy._core.multiarray._reconstruct",
      "numpy.dtype",
      "numpy.ndarray",
      "_codecs.encode",
      "copyreg._reconstructor",
    ]) {
      expect(
        ALLOWED_GLOBALS.some((e) => e.name === n),
        n,
      ).toBe(true);
    }
  });

  test("leaves out entries that take a callable or nest a loader", () => {
    const names = new Set(ALLOWED_GLOBALS.map((e) => e.name));
    for (const n of [
      "collections.defaultdict",
      "torch._tensor._rebuild_from_type_v2",
      "torch.storage._load_from_bytes",
      "functools.partial",
      "builtins.getattr",
      "builtins.type",
    ]) {
      expect(names.has(n), n).toBe(false);
    }
  });
});
