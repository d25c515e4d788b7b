import { describe, expect, test } from "vitest";
import { ALLOWED_GLOBALS, REFUSED_GLOBALS } from "./allowlist.js";
import { BUILTIN_POLICY } from "./index.js";
import { KNOWN_GLOBALS } from "./known-classes.js";

const EXACT = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$/;
const PREFIX = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*\.\*$/;

function split(name: string): [string, string] {
  const dot = name.lastIndexOf(".");
  return [name.slice(0, dot), name.slice(dot + 1)];
}

describe("KNOWN_GLOBALS entries", () => {
  test("are well-formed: exact `module.name` or `module.*`, a reason", () => {
    for (const e of KNOWN_GLOBALS) {
      expect(EXACT.test(e.name) || PREFIX.test(e.name), e.name).toBe(true);
      expect(e.reason.trim().length, e.name).toBeGreaterThan(10);
    }
  });

  test("are unique", () => {
    const names = KNOWN_GLOBALS.map((e) => e.name);
    expect(new Set(names).size).toBe(names.length);
  });

  test("exact entries classify as known/low: none is allowed, refused or denied", () => {
    const elsewhere = new Set([...ALLOWED_GLOBALS, ...REFUSED_GLOBALS].map((e) => e.name));
    for (const e of KNOWN_GLOBALS) {
      if (e.name.endsWith(".*")) continue;
      expect(elsewhere.has(e.name), e.name).toBe(false);
      const [module, name] = split(e.name);
      const v = BUILTIN_POLICY.classifyGlobal(module, name);
      expect(v.class, `${e.name}: ${v.reason}`).toBe("known");
      expect(v.severity).toBe("low");
      expect(v.rule).toBe("pickle.known-library-global");
      expect(v.matched).toBe(e.name);
    }
  });

  test("prefix entries match classes, not functions", () => {
    for (const e of KNOWN_GLOBALS) {
      if (!e.name.endsWith(".*")) continue;
      const module = `${e.name.slice(0, -2)}.some_submodule`;
      expect(BUILTIN_POLICY.classifyGlobal(module, "SomeClass").class, e.name).toBe("known");
      expect(BUILTIN_POLICY.classifyGlobal(module, "_PrivateClass").class, e.name).toBe("known");
      expect(BUILTIN_POLICY.classifyGlobal(module, "some_function").class, e.name).toBe("unknown");
    }
  });
});

describe("library classes real checkpoints contain", () => {
  test.each([
    ["sklearn.linear_model._base", "LinearRegression"],
    ["sklearn.linear_model._logistic", "LogisticRegression"],
    ["sklearn.tree._tree", "Tree"],
    ["torch.nn.modules.linear", "Linear"],
    ["torch.optim.adamw", "AdamW"],
    ["transformers.training_args", "TrainingArguments"],
    ["transformers.trainer_utils", "IntervalStrategy"],
    ["accelerate.state", "PartialState"],
    ["pandas.core.frame", "DataFrame"],
    ["pandas._libs.internals", "_unpickle_block"],
    ["numpy.random._pcg64", "PCG64"],
    ["numpy.dtypes", "Float64DType"],
    ["collections", "Counter"],
    ["collections", "defaultdict"],
    ["datetime", "datetime"],
    ["argparse", "Namespace"],
    ["pathlib", "PosixPath"],
    ["omegaconf.dictconfig", "DictConfig"],
    ["scipy.sparse._csr", "csr_matrix"],
    ["scipy.sparse.csr", "csr_matrix"],
    ["scipy.sparse._coo", "coo_array"],
  ])("%s.%s is known", (module, name) => {
    const v = BUILTIN_POLICY.classifyGlobal(module, name);
    expect(v.class, v.reason).toBe("known");
  });

  test("a denylist match wins over a known prefix", () => {
    expect(BUILTIN_POLICY.classifyGlobal("sklearn.datasets._openml", "OpenMLError").class).toBe(
      "dangerous",
    );
    expect(BUILTIN_POLICY.classifyGlobal("sklearn.externals.joblib", "Memory").class).toBe(
      "dangerous",
    );
    expect(BUILTIN_POLICY.classifyGlobal("pandas.core.computation.eval", "Engine").class).toBe(
      "dangerous",
    );
  });

  test("library functions and attribute chains stay unknown", () => {
    expect(
      BUILTIN_POLICY.classifyGlobal("sklearn.metrics._scorer", "_passthrough_scorer").class,
    ).toBe("unknown");
    expect(
      BUILTIN_POLICY.classifyGlobal("sklearn", "linear_model._base.LinearRegression").class,
    ).toBe("unknown");
  });
});
