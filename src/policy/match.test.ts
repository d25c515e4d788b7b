import fc from "fast-check";
import { describe, expect, test } from "vitest";
import manifest from "../../test/fixtures/pickle/manifest.json" with { type: "json" };
import {
  ALLOWED_GLOBALS,
  BUILTIN_POLICY,
  createPolicy,
  KNOWN_GLOBALS,
  KNOWN_MODULES,
  parseImportable,
  RULES,
  ruleFor,
  validatePolicyOptions,
} from "./index.js";

const classify = (module: string, name: string) => BUILTIN_POLICY.classifyGlobal(module, name);
const classOf = (module: string, name: string) => classify(module, name).class;

describe("classifyGlobal", () => {
  test("collections.OrderedDict is allowed", () => {
    expect(classify("collections", "OrderedDict")).toMatchObject({
      class: "allowed",
      severity: null,
      rule: null,
      matched: "collections.OrderedDict",
    });
  });

  test("torch._utils._rebuild_tensor_v2 is allowed", () => {
    expect(classOf("torch._utils", "_rebuild_tensor_v2")).toBe("allowed");
  });

  test("builtins.getattr is dangerous", () => {
    expect(classify("builtins", "getattr")).toMatchObject({
      class: "dangerous",
      severity: "critical",
      rule: "pickle.dangerous-global",
      matched: "builtins.getattr",
    });
  });

  test("a scikit-learn estimator is a known library class, low", () => {
    expect(classify("sklearn.linear_model._base", "LinearRegression")).toMatchObject({
      class: "known",
      severity: "low",
      rule: "pickle.known-library-global",
      matched: "sklearn.*",
    });
  });

  test("anything else is unknown, medium", () => {
    const v = classify("foo", "bar");
    expect(v).toMatchObject({
      class: "unknown",
      severity: "medium",
      rule: "pickle.unknown-global",
    });
    expect(v.reason).toContain("`foo.bar`");
  });

  describe("parent modules", () => {
    test("os covers os.path", () => {
      const v = classify("os.path", "join");
      expect(v).toMatchObject({ class: "dangerous", matched: "os" });
      expect(v.reason).toContain("`os.path.join` is part of `os`");
    });

    test("posixpath and ntpath (os.path under their real names) are denied", () => {
      expect(classOf("posixpath", "join")).toBe("dangerous");
      expect(classOf("ntpath", "expanduser")).toBe("dangerous");
    });

    test("module boundaries are respected: `osx` is not `os`", () => {
      expect(classOf("osx", "system")).toBe("unknown");
      expect(classOf("httpx_like", "Client")).toBe("unknown");
      expect(classOf("sysconfig", "get_paths")).toBe("unknown");
    });

    test("stdlib names a project folder might share are denied by their dangerous parts only", () => {
      expect(classOf("code.models", "Net")).toBe("unknown");
      expect(classOf("profile.models", "UserProfile")).toBe("unknown");
      expect(classOf("signal.filters", "Butterworth")).toBe("unknown");
      expect(classOf("test.models", "Net")).toBe("unknown");
      expect(classOf("http", "HTTPStatus")).toBe("unknown");
      expect(classOf("code", "InteractiveInterpreter.runcode")).toBe("dangerous");
      expect(classOf("profile", "run")).toBe("dangerous");
      expect(classOf("signal", "signal")).toBe("dangerous");
      expect(classOf("test.support.script_helper", "assert_python_ok")).toBe("dangerous");
      expect(classOf("http.client", "HTTPSConnection")).toBe("dangerous");
    });

    test("a named entry covers what is reached through it", () => {
      expect(classify("builtins", "getattr.__call__")).toMatchObject({
        class: "dangerous",
        matched: "builtins.getattr",
      });
    });
  });

  describe("Python 2 names (fix_imports)", () => {
    test("__builtin__.eval is dangerous", () => {
      expect(classOf("__builtin__", "eval")).toBe("dangerous");
      expect(classOf("__builtin__", "apply")).toBe("dangerous");
      expect(classOf("__builtin__", "execfile")).toBe("dangerous");
    });

    test("__builtin__.set is allowed", () => {
      expect(classOf("__builtin__", "set")).toBe("allowed");
      expect(classOf("__builtin__", "unicode")).toBe("allowed");
      expect(classOf("copy_reg", "_reconstructor")).toBe("allowed");
    });

    test("the mapped name is classified too and the more severe verdict wins", () => {
      const v = classify("commands", "getoutput");
      expect(v.class).toBe("dangerous");
      // Only the mapped name is on the denylist (`sys` as a whole).
      const mappedOnly = classify("__builtin__", "intern");
      expect(mappedOnly).toMatchObject({ class: "dangerous", matched: "sys" });
      expect(mappedOnly.reason).toContain("loads as `sys.intern`");
    });
  });

  describe("attribute chains and dunders", () => {
    test.each([
      ["collections", "OrderedDict.__init__.__globals__"],
      ["builtins", "object.__subclasses__"],
      ["torch.nn", "Module.__dict__"],
      ["numpy", "__builtins__"],
      ["some.module", "__getattr__"],
    ])("%s + %s is dangerous (dunder)", (module, name) => {
      const v = classify(module, name);
      expect(v.class).toBe("dangerous");
      expect(v.reason).toContain("special attribute");
    });

    test.each([
      ["torch._utils", "os.system"],
      ["torch.serialization", "pickle.loads"],
      ["numpy", "testing._private.utils.runstring"],
      ["mymodule", "sp.check_output"],
      ["mymodule", "Trace.run"],
      ["pandas.core.frame", "DataFrame.eval"],
      ["pandas.core.frame", "DataFrame.query"],
      ["pathlib", "Path.write_text"],
      ["pathlib", "PosixPath.unlink"],
      ["numpy", "ndarray.tofile"],
      ["transformers", "AutoModel.from_pretrained"],
    ])("%s + %s is dangerous (chain)", (module, name) => {
      expect(classOf(module, name)).toBe("dangerous");
    });

    test("a module object re-exported by another module is dangerous", () => {
      const v = classify("torch._utils", "os");
      expect(v).toMatchObject({ class: "dangerous", matched: "os" });
      expect(classOf("some.module", "sys")).toBe("dangerous");
      expect(classOf("some.module", "subprocess")).toBe("dangerous");
    });

    test("a known module imported as a global (a module object) is dangerous", () => {
      expect(classify("torch", "_utils")).toMatchObject({
        class: "dangerous",
        matched: "torch._utils",
      });
      expect(classOf("numpy", "core.multiarray")).toBe("dangerous");
      expect(classOf("torch.nn", "modules")).toBe("dangerous");
      expect(classOf("torch", "device")).toBe("allowed");
    });

    test("no allowlisted or known name is itself a known module path", () => {
      for (const e of [...ALLOWED_GLOBALS, ...KNOWN_GLOBALS]) {
        expect(KNOWN_MODULES.has(e.name), e.name).toBe(false);
      }
    });

    test("a code-running callable re-exported under its own name is dangerous", () => {
      expect(classOf("some.module", "check_output")).toBe("dangerous");
      expect(classOf("some.module", "Popen")).toBe("dangerous");
      expect(classOf("some.module", "eval")).toBe("dangerous");
    });

    test("generic names are not flagged on their own", () => {
      expect(classOf("platform", "system")).toBe("unknown");
      expect(classOf("re", "compile")).toBe("unknown");
      expect(classOf("torch.profiler", "profile")).toBe("unknown");
      expect(classOf("torch.jit._trace", "TracedModule")).toBe("dangerous"); // torch.jit is denied
    });

    test("the allowlist is exact: an attribute chain to an allowed function is not allowed", () => {
      expect(classOf("torch", "_utils._rebuild_tensor_v2")).toBe("unknown");
      expect(classOf("collections", "OrderedDict.fromkeys")).toBe("unknown");
    });

    test("nested classes of known libraries stay known; __new__ is not traversal", () => {
      expect(classOf("sklearn.some_module", "Outer.Inner")).toBe("known");
      expect(classOf("foo", "Bar.__new__")).toBe("unknown");
    });
  });

  describe("odd names", () => {
    test.each([
      ["", "x"],
      ["x", ""],
      ["a..b", "c"],
      [".a", "b"],
      ["a", "b."],
      ["mod ule", "X"],
      ["mod", "na\nme"],
      ["mod", "name\u0000"],
      ["mоd", "X"], // Cyrillic о
      ["9mod", "X"],
      ["mod", "x".repeat(600)],
    ])("%j + %j is at least unknown", (module, name) => {
      const v = classify(module, name);
      expect(["unknown", "dangerous"]).toContain(v.class);
      expect(v.severity).not.toBeNull();
    });

    test("a malformed name is never allowed, even if it looks like an allowed one", () => {
      expect(classOf("collections ", "OrderedDict")).toBe("unknown");
      expect(classOf("collections", "Ordered\u200bDict")).toBe("unknown");
      expect(classify("collections", "OrderedDict\n").reason).toContain("not a valid Python");
    });

    test("invisible characters do not hide a dangerous name", () => {
      expect(classOf("os\n", "system")).toBe("dangerous");
      expect(classOf("o\u200bs", "system")).toBe("dangerous");
      expect(classOf("builtins", "ev al")).toBe("dangerous");
      expect(classOf("__builtin__ ", "eval")).toBe("dangerous");
    });

    test("reasons quote names safely: control characters escaped, long names clipped", () => {
      const v = classify("mod", "\u001b[31mred");
      expect(v.reason).not.toContain("\u001b");
      expect(v.reason).toContain("\\u001b");
      expect(classify("mod", "x".repeat(10_000)).reason.length).toBeLessThan(1000);
    });

    test("never throws and always answers consistently (property)", () => {
      const severityOf = { allowed: null, known: "low", unknown: "medium", dangerous: "critical" };
      const part = fc.oneof(
        fc.string(),
        fc.constantFrom("os", "builtins", "__builtin__", "torch._utils", "collections", "a.b"),
      );
      fc.assert(
        fc.property(part, part, (module, name) => {
          const v = classify(module, name);
          expect(v.severity).toBe(severityOf[v.class]);
          expect(v.rule === null).toBe(v.class === "allowed");
          expect(v.reason.length).toBeGreaterThan(0);
        }),
      );
    });

    test("homoglyphs stay unknown (Python cannot import them, so no real `os` is reached)", () => {
      expect(classOf("\u043es", "system")).toBe("unknown");
    });
  });

  test("answers are stable across calls (cache)", () => {
    const first = classify("os", "system");
    expect(classify("os", "system")).toEqual(first);
    expect(classify("o", "ssystem").class).toBe("unknown");
  });
});

describe("createPolicy options", () => {
  test("extraAllowed allows exact names", () => {
    const policy = createPolicy({
      extraAllowed: ["mypkg.models.MyNet", "mypkg.models:Outer.Inner"],
    });
    expect(policy.classifyGlobal("mypkg.models", "MyNet")).toMatchObject({
      class: "allowed",
      reason: "Allowed by your policy (extraAllowed).",
    });
    expect(policy.classifyGlobal("mypkg.models", "Outer.Inner").class).toBe("allowed");
    expect(policy.classifyGlobal("mypkg.models", "Other").class).toBe("unknown");
    expect(policy.classifyGlobal("mypkg", "models.MyNet").class).toBe("unknown");
    expect(BUILTIN_POLICY.classifyGlobal("mypkg.models", "MyNet").class).toBe("unknown");
  });

  test("deny beats allow, even a user allow", () => {
    const policy = createPolicy({
      extraAllowed: ["os.system", "builtins.getattr", "torch._utils:os.system"],
    });
    expect(policy.classifyGlobal("os", "system").class).toBe("dangerous");
    expect(policy.classifyGlobal("builtins", "getattr").class).toBe("dangerous");
    expect(policy.classifyGlobal("torch._utils", "os.system").class).toBe("dangerous");
  });

  test("extraAllowed can lift a refused or known entry", () => {
    const policy = createPolicy({ extraAllowed: ["functools.partial", "collections.defaultdict"] });
    expect(policy.classifyGlobal("functools", "partial").class).toBe("allowed");
    expect(policy.classifyGlobal("collections", "defaultdict").class).toBe("allowed");
  });

  test("extraDenied denies a module and everything under it", () => {
    const policy = createPolicy({ extraDenied: ["mypkg.loader", "other:thing"] });
    expect(policy.classifyGlobal("mypkg.loader.sub", "Load")).toMatchObject({
      class: "dangerous",
      matched: "mypkg.loader",
      reason:
        "`mypkg.loader.sub.Load` is part of `mypkg.loader`. Denied by your policy (extraDenied).",
    });
    expect(policy.classifyGlobal("other", "thing").class).toBe("dangerous");
    expect(policy.classifyGlobal("mypkg", "Fine").class).toBe("unknown");
  });

  test("extraDenied can deny an allowlisted name, but does not replace a built-in reason", () => {
    const policy = createPolicy({ extraDenied: ["torch._utils", "os"] });
    expect(policy.classifyGlobal("torch._utils", "_rebuild_tensor_v2").class).toBe("dangerous");
    expect(policy.classifyGlobal("os", "system").reason).toContain("Operating system access");
  });

  test("malformed options are reported, and rejected by createPolicy", () => {
    const bad = { extraAllowed: ["nodot", "a..b", ""], extraDenied: ["x y", ""] };
    expect(validatePolicyOptions(bad)).toHaveLength(5);
    expect(validatePolicyOptions({ extraAllowed: ["a.b"], extraDenied: ["a"] })).toEqual([]);
    expect(() => createPolicy(bad)).toThrow(RangeError);
  });

  test("parseImportable", () => {
    expect(parseImportable("a.b.C")).toEqual({ module: "a.b", name: "C" });
    expect(parseImportable("a.b:C.D")).toEqual({ module: "a.b", name: "C.D" });
    expect(parseImportable("abc")).toBeNull();
    expect(parseImportable("a.b c")).toBeNull();
  });
});

describe("RULES", () => {
  test("ids are unique and map one-to-one to policy classes and severities", () => {
    expect(RULES.map((r) => r.id)).toEqual([
      "pickle.dangerous-global",
      "pickle.unknown-global",
      "pickle.known-library-global",
    ]);
    expect(ruleFor("dangerous").severity).toBe("critical");
    expect(ruleFor("unknown").severity).toBe("medium");
    expect(ruleFor("known").severity).toBe("low");
    for (const r of RULES) expect(r.description.length).toBeGreaterThan(40);
  });

  test("verdict rule and severity agree with RULES", () => {
    for (const [m, n] of [
      ["os", "system"],
      ["foo", "bar"],
      ["sklearn.svm._classes", "SVC"],
    ] as const) {
      const v = classify(m, n);
      expect(v.class).not.toBe("allowed");
      if (v.class === "allowed") continue;
      expect(v.rule).toBe(ruleFor(v.class).id);
      expect(v.severity).toBe(ruleFor(v.class).severity);
    }
  });
});

describe("committed pickle fixtures (test/fixtures/pickle/manifest.json)", () => {
  const split = (g: string): [string, string] => {
    const dot = g.lastIndexOf(".");
    return [g.slice(0, dot), g.slice(dot + 1)];
  };
  const benign = manifest.fixtures.filter((f) => f.expect === "safe");
  const malicious = manifest.fixtures.filter((f) => f.expect === "malicious");

  test.each(benign.map((f) => [f.file, f.globals, f.allowLow] as const))(
    "%s: every global is allowed (or known where the fixture allows low)",
    (_file, globals, allowLow) => {
      for (const g of globals) {
        const v = classify(...split(g));
        expect(allowLow ? ["allowed", "known"] : ["allowed"], `${g}: ${v.reason}`).toContain(
          v.class,
        );
      }
    },
  );

  test.each(malicious.map((f) => [f.file, f.global] as const))(
    "%s: its payload global is dangerous",
    (_file, global) => {
      expect(global).not.toBeNull();
      if (global === null) return;
      expect(classOf(...split(global))).toBe("dangerous");
    },
  );
});
