import { describe, expect, test } from "vitest";
import {
  CHAIN_DENIED_NAMES,
  DENYLIST,
  type DenyKind,
  denyKey,
  MODULE_HANDLE_NAMES,
  REEXPORT_NAMES,
} from "./denylist.js";
import { BUILTIN_POLICY } from "./index.js";

const DOTTED = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const REFERENCE = /^(CVE-\d{4}-\d{4,}|GHSA(-[23456789cfghjmpqrvwx]{4}){3}|https:\/\/\S+)$/;
const KINDS: readonly DenyKind[] = [
  "code-execution",
  "process",
  "file",
  "network",
  "import",
  "deserialisation",
  "attribute-access",
  "interpreter",
];

describe("DENYLIST entries", () => {
  test("are well-formed", () => {
    for (const e of DENYLIST) {
      const key = denyKey(e);
      expect(e.module, key).toMatch(DOTTED);
      if (e.name !== undefined) expect(e.name, key).toMatch(DOTTED);
      expect(KINDS, key).toContain(e.kind);
      expect(e.reason.trim().length, key).toBeGreaterThan(10);
      for (const r of e.references ?? []) expect(r, key).toMatch(REFERENCE);
    }
  });

  test("are unique", () => {
    const keys = DENYLIST.map(denyKey);
    expect(new Set(keys).size).toBe(keys.length);
  });

  test("none is shadowed by a broader entry (each one matters)", () => {
    const keys = new Set(DENYLIST.map(denyKey));
    for (const key of keys) {
      const parts = key.split(".");
      for (let i = 1; i < parts.length; i++) {
        const parent = parts.slice(0, i).join(".");
        expect(keys.has(parent), `${key} is already covered by ${parent}`).toBe(false);
      }
    }
  });

  test("every entry classifies as dangerous, matched on itself", () => {
    for (const e of DENYLIST) {
      const key = denyKey(e);
      const [module, name] = e.name === undefined ? [e.module, "anything"] : [e.module, e.name];
      const v = BUILTIN_POLICY.classifyGlobal(module, name);
      expect(v.class, key).toBe("dangerous");
      expect(v.severity).toBe("critical");
      expect(v.rule).toBe("pickle.dangerous-global");
      expect(v.matched, key).toBe(key);
      expect(v.references ?? [], key).toEqual(e.references ?? []);
    }
  });

  test("every builtins entry has its Python 2 `__builtin__` twin", () => {
    const keys = new Set(DENYLIST.map(denyKey));
    for (const e of DENYLIST) {
      if (e.module === "builtins") expect(keys.has(`__builtin__.${e.name}`), denyKey(e)).toBe(true);
    }
  });
});

describe("name sets", () => {
  test("hold identifiers only", () => {
    for (const set of [CHAIN_DENIED_NAMES, MODULE_HANDLE_NAMES, REEXPORT_NAMES]) {
      for (const n of set) expect(n).toMatch(IDENTIFIER);
    }
  });

  test("single-name re-export check skips names with harmless homonyms", () => {
    for (const n of ["system", "open", "compile", "run", "load", "call"]) {
      expect(REEXPORT_NAMES.has(n), n).toBe(false);
      expect(CHAIN_DENIED_NAMES.has(n), n).toBe(true);
    }
    for (const n of ["profile", "trace", "code", "signal", "types"]) {
      expect(MODULE_HANDLE_NAMES.has(n), n).toBe(false);
    }
  });
});

describe("coverage of published bypasses", () => {
  // Globals of picklescan/modelscan/fickling advisories and test fixtures (module, name as pickled).
  const bypasses: readonly [string, string][] = [
    ["builtins", "eval"],
    ["builtins", "exec"],
    ["__builtin__", "apply"],
    ["builtins", "__import__"],
    ["posix", "system"],
    ["nt", "system"],
    ["subprocess", "run"],
    ["sys", "exit"],
    ["httplib", "HTTPSConnection"],
    ["http.client", "HTTPSConnection"],
    ["requests.api", "get"],
    ["aiohttp.client", "ClientSession"],
    ["socket", "create_connection"],
    ["runpy", "_run_code"],
    ["bdb", "Bdb.run"],
    ["pip", "main"],
    ["torch._inductor.codecache", "compile_file"],
    ["pydoc", "pipepager"],
    ["pydoc", "locate"],
    ["venv", "create"],
    ["timeit", "timeit"],
    ["numpy.testing._private.utils", "runstring"],
    ["torch.serialization", "load"],
    ["torch", "load"],
    ["torch.utils.bottleneck.__main__", "run_cprofile"],
    ["torch.utils.bottleneck.__main__", "run_autograd_prof"],
    ["torch._dynamo.guards", "GuardBuilder.get"],
    ["torch.fx.experimental.symbolic_shapes", "ShapeEnv.evaluate_guards_expression"],
    ["torch.utils.collect_env", "run"],
    ["torch.utils.collect_env", "run_and_read_all"],
    ["torch.utils.data.datapipes.utils.decoder", "basichandlers"],
    ["torch.jit.unsupported_tensor_ops", "execWrapper"],
    ["torch.utils._config_module", "ConfigModule.load_config"],
    ["trace", "Trace.run"],
    ["trace", "Trace.runctx"],
    ["profile", "Profile.run"],
    ["profile", "run"],
    ["cProfile", "run"],
    ["cProfile", "runctx"],
    ["lib2to3.pgen2.grammar", "Grammar.loads"],
    ["lib2to3.pgen2.pgen", "ParserGenerator.make_label"],
    ["idlelib.debugobj", "ObjectTreeItem.SetText"],
    ["idlelib.autocomplete", "AutoComplete.get_entity"],
    ["idlelib.calltip", "get_entity"],
    ["idlelib.run", "Executive.runcode"],
    ["idlelib.pyshell", "ModifiedInterpreter.runcommand"],
    ["code", "InteractiveInterpreter.runcode"],
    ["doctest", "debug_script"],
    ["ensurepip", "_run_pip"],
    ["asyncio.unix_events", "_UnixSubprocessTransport._start"],
    ["distutils.file_util", "write_file"],
    ["ctypes", "CDLL"],
    ["operator", "attrgetter"],
    ["operator", "methodcaller"],
    ["_operator", "methodcaller"],
    ["_operator", "attrgetter"],
    ["pty", "spawn"],
    ["numpy.f2py.crackfortran", "getlincoef"],
    ["_io", "FileIO"],
    ["logging", "FileHandler"],
    ["urllib.request", "urlopen"],
    ["ssl", "get_server_certificate"],
    ["linecache", "getline"],
    ["pkgutil", "resolve_name"],
    ["importlib", "import_module"],
    ["uuid", "_get_command_stdout"],
    ["_osx_support", "_read_output"],
    ["_aix_support", "_read_cmd_output"],
    ["_pyrepl.pager", "pipe_pager"],
    ["imaplib", "IMAP4_stream"],
    ["test.support.script_helper", "assert_python_ok"],
    ["cloudpickle.cloudpickle", "_make_function"],
    ["types", "CodeType"],
    ["pickle", "loads"],
    ["_pickle", "loads"],
    ["cPickle", "loads"],
    ["dill", "loads"],
    ["joblib", "load"],
    ["numpy", "load"],
    ["torch.storage", "_load_from_bytes"],
    ["torch.hub", "load"],
    ["shutil", "rmtree"],
    ["webbrowser", "open"],
    ["marshal", "loads"],
    ["codeop", "compile_command"],
    ["compileall", "compile_file"],
    ["py_compile", "compile"],
    ["smtplib", "SMTP"],
    ["socketserver", "TCPServer"],
    ["signal", "signal"],
    ["sqlite3", "connect"],
    // issue 4's gadget families (test/fixtures/evasion): proven or labelled there
    ["typing", "_eval_type"],
    ["typing", "get_type_hints"],
    ["typing", "ForwardRef._evaluate"],
    ["dataclasses", "_create_fn"],
    ["mailcap", "findmatch"],
    ["pipes", "Template"],
    ["pipes", "Template.copy"],
    ["keras.utils", "get_file"],
    ["tensorflow.keras.utils", "get_file"],
    ["mlflow.projects", "run"],
    ["ctypes", "pythonapi.PyRun_SimpleString"],
    ["multiprocessing.util", "spawnv_passfds"],
    ["_posixsubprocess", "fork_exec"],
    ["os", "popen"],
    ["os", "execv"],
    ["os", "spawnv"],
    ["asyncio", "create_subprocess_shell"],
    ["transformers.dynamic_module_utils", "get_class_from_dynamic_module"],
    ["torch.hub", "_load_entry_from_hubconf"],
    ["torch.hub", "os"],
    ["torch.utils.cpp_extension", "load_inline"],
    ["setuptools._distutils.spawn", "spawn"],
    ["distutils.spawn", "spawn"],
    ["pip._internal.utils.subprocess", "call_subprocess"],
    ["webbrowser", "GenericBrowser.open"],
    ["socket", "socket.bind"],
    ["urllib.request", "urlretrieve"],
    ["tempfile", "mkstemp"],
    ["codecs", "open"],
    ["numpy", "__builtins__"],
  ];

  test.each(bypasses)("%s.%s is dangerous", (module, name) => {
    const v = BUILTIN_POLICY.classifyGlobal(module, name);
    expect(v.class, v.reason).toBe("dangerous");
  });
});

describe("indirect callers", () => {
  test.each([
    ["operator", "call"],
    ["_operator", "call"],
    ["functools", "partial"],
  ])("%s.%s is refused (unknown, with a reason), not allowed", (module, name) => {
    const v = BUILTIN_POLICY.classifyGlobal(module, name);
    expect(v.class).toBe("unknown");
    expect(v.matched).toBe(`${module}.${name}`);
  });

  test("typing's plain constructs stay known library classes", () => {
    expect(BUILTIN_POLICY.classifyGlobal("typing", "Optional").class).toBe("known");
  });
});
