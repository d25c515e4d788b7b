import { describe, expect, test } from "vitest";
import {
  mapPython2Name,
  PYTHON2_MODULE_RENAMES,
  PYTHON2_NAME_RENAMES,
  python2ModuleSpellings,
} from "./compat.js";

describe("mapPython2Name", () => {
  test("renames modules", () => {
    expect(mapPython2Name("__builtin__", "set")).toEqual({ module: "builtins", name: "set" });
    expect(mapPython2Name("copy_reg", "_reconstructor")).toEqual({
      module: "copyreg",
      name: "_reconstructor",
    });
    expect(mapPython2Name("cPickle", "loads")).toEqual({ module: "pickle", name: "loads" });
    expect(mapPython2Name("commands", "getoutput")).toEqual({
      module: "subprocess",
      name: "getoutput",
    });
    expect(mapPython2Name("urllib2", "urlopen")).toEqual({
      module: "urllib.request",
      name: "urlopen",
    });
  });

  test("per-name renames win over module renames", () => {
    expect(mapPython2Name("__builtin__", "xrange")).toEqual({ module: "builtins", name: "range" });
    expect(mapPython2Name("__builtin__", "unicode")).toEqual({ module: "builtins", name: "str" });
    expect(mapPython2Name("__builtin__", "reduce")).toEqual({
      module: "functools",
      name: "reduce",
    });
    expect(mapPython2Name("UserDict", "UserDict")).toEqual({
      module: "collections",
      name: "UserDict",
    });
    expect(mapPython2Name("exceptions", "ValueError")).toEqual({
      module: "builtins",
      name: "ValueError",
    });
    expect(mapPython2Name("urllib", "urlopen")).toEqual({
      module: "urllib.request",
      name: "urlopen",
    });
  });

  test("leaves other names alone", () => {
    expect(mapPython2Name("builtins", "set")).toBeNull();
    expect(mapPython2Name("torch._utils", "_rebuild_tensor_v2")).toBeNull();
    expect(mapPython2Name("exceptions", "NotAnException")).toBeNull();
    expect(mapPython2Name("urllib", "something_else")).toBeNull();
  });
});

describe("mapping data", () => {
  test("per-name renames are unique", () => {
    const keys = PYTHON2_NAME_RENAMES.map(([m, n]) => `${m} ${n}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  test("module renames have non-empty dotted names", () => {
    for (const [from, to] of PYTHON2_MODULE_RENAMES) {
      expect(from).toMatch(/^[A-Za-z_][\w.]*$/);
      expect(to).toMatch(/^[A-Za-z_][\w.]*$/);
    }
  });

  test("Python 2 spellings of allowlisted modules", () => {
    expect(python2ModuleSpellings("builtins")).toEqual(["__builtin__"]);
    expect(python2ModuleSpellings("copyreg")).toEqual(["copy_reg"]);
    expect(python2ModuleSpellings("collections")).toEqual([]);
  });
});
