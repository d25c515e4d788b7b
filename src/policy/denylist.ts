/**
 * The denylist (DESIGN.md principle 4, "denylist to explain"): callables and modules that run code,
 * start processes, touch files or the network, import modules, or deserialise nested payloads. A
 * pickle that reaches one is *malicious* (critical, `pickle.dangerous-global`), with the reason.
 *
 * An entry without `name` covers the whole module and every submodule (`os` covers `os.path`); an
 * entry with `name` covers that attribute and anything reached through it (`builtins.getattr`
 * covers `builtins.getattr.__call__`). The allowlist, not this list, decides what is safe: a name
 * missing here is still reported as unknown.
 *
 * Sources cross-checked (facts only, entries written here): picklescan's `_unsafe_globals` and its
 * advisories, modelscan's `unsafe_globals`, fickling's unsafe imports, PyTorch's weights-only
 * unpickler (`_blocklisted_modules`), and published bypass write-ups.
 */

export type DenyKind =
  | "code-execution"
  | "process"
  | "file"
  | "network"
  | "import"
  | "deserialisation"
  | "attribute-access"
  | "interpreter"
  /** Added by the user's policy (`extraDenied`). */
  | "policy";

export interface DenyEntry {
  /** Module, matched with every submodule (`os` matches `os.path`). */
  module: string;
  /** Attribute inside `module` (may be dotted: `Trace.run`); omitted = the whole module. */
  name?: string;
  kind: DenyKind;
  /** What loading it lets the file do, in the user's terms. */
  reason: string;
  /** CVE/GHSA ids or URLs. */
  references?: string[];
}

const PICKLE_WARNING = "https://docs.python.org/3/library/pickle.html";

function mod(module: string, kind: DenyKind, reason: string, references?: string[]): DenyEntry {
  return references === undefined ? { module, kind, reason } : { module, kind, reason, references };
}

function fns(
  module: string,
  names: readonly string[],
  kind: DenyKind,
  reason: string,
  references?: string[],
): DenyEntry[] {
  return names.map((name) =>
    references === undefined
      ? { module, name, kind, reason }
      : { module, name, kind, reason, references },
  );
}

// ---------------------------------------------------------------------------------------------
// builtins

const BUILTINS: DenyEntry[] = [
  ...fns(
    "builtins",
    ["eval", "exec"],
    "code-execution",
    "Runs Python source code given as a string.",
    [PICKLE_WARNING],
  ),
  ...fns(
    "builtins",
    ["compile"],
    "code-execution",
    "Turns source text into a code object, the first step of running it with `eval`/`exec`.",
  ),
  ...fns(
    "builtins",
    ["open"],
    "file",
    "Opens any file for reading or writing (overwrite, or read secrets).",
  ),
  ...fns(
    "builtins",
    ["__import__"],
    "import",
    "Imports any module by name, handing the pickle `os`, `subprocess` or anything else.",
  ),
  ...fns(
    "builtins",
    ["getattr"],
    "attribute-access",
    "Fetches any attribute by name: the standard way to reach `os.system` from an innocent-looking " +
      "object without naming it as a global.",
  ),
  ...fns(
    "builtins",
    ["setattr", "delattr"],
    "attribute-access",
    "Changes or removes attributes on any object, e.g. monkeypatching a library the victim calls next.",
  ),
  ...fns(
    "builtins",
    ["globals", "locals", "vars"],
    "attribute-access",
    "Hands out a namespace dict: read and write access to every global of a module.",
  ),
  ...fns(
    "builtins",
    ["breakpoint"],
    "code-execution",
    "Starts a debugger (and `PYTHONBREAKPOINT` can name any callable to run instead).",
  ),
  ...fns(
    "builtins",
    ["input"],
    "interpreter",
    "Blocks reading the terminal; in Python 2 it also evaluated what was typed.",
  ),
  ...fns(
    "builtins",
    ["help"],
    "process",
    "Starts the interactive help system, which can launch a pager process.",
  ),
  ...fns(
    "builtins",
    ["exit", "quit"],
    "interpreter",
    "Terminates the interpreter that is loading the file.",
  ),
  ...fns(
    "builtins",
    ["__build_class__"],
    "code-execution",
    "Builds a class by running a function body: the machinery behind the `class` statement.",
  ),
];

/** Python 2-only builtins (no `builtins.` twin exists in Python 3). */
const PYTHON2_BUILTINS: DenyEntry[] = [
  ...fns(
    "__builtin__",
    ["apply"],
    "code-execution",
    "Python 2 `apply(f, args)`: calls any callable with any arguments.",
  ),
  ...fns("__builtin__", ["execfile"], "code-execution", "Python 2: runs a Python source file."),
  ...fns(
    "__builtin__",
    ["file"],
    "file",
    "Python 2 file constructor: opens any file for reading or writing.",
  ),
  ...fns("__builtin__", ["reload"], "import", "Python 2: re-executes a module's code."),
  ...fns("__builtin__", ["raw_input"], "interpreter", "Python 2: blocks reading the terminal."),
];

/** `__builtin__` spellings of the `builtins` entries, so the raw Python 2 name matches too. */
const BUILTIN_TWINS: DenyEntry[] = BUILTINS.map((e) => ({ ...e, module: "__builtin__" }));

// ---------------------------------------------------------------------------------------------
// Processes, shell, operating system

const GHSA_G38G = "GHSA-g38g-8gr9-h9xp";
const CPYTHON_LIB = "https://github.com/python/cpython/blob/3.11/Lib/";

const PROCESS: DenyEntry[] = [
  mod(
    "os",
    "process",
    "Operating system access: `os.system`, `os.popen`, `exec*`/`spawn*`, file writes and deletes.",
    [PICKLE_WARNING],
  ),
  mod(
    "posix",
    "process",
    "The POSIX name of `os` (what `os.system` pickles as on Linux and macOS).",
  ),
  mod("nt", "process", "The Windows name of `os` (what `os.system` pickles as on Windows)."),
  mod(
    "posixpath",
    "file",
    "`os.path` on POSIX: file system queries (`exists`, `expanduser`, `realpath`); never model data.",
  ),
  mod("ntpath", "file", "`os.path` on Windows: file system queries; never model data."),
  mod("genericpath", "file", "Shared `os.path` helpers: file system queries; never model data."),
  mod("macpath", "file", "Classic Mac OS `os.path`: file system queries; never model data."),
  mod(
    "sys",
    "interpreter",
    "Interpreter internals: `sys.modules` can be overwritten to hijack later imports; `sys.exit`, `sys.settrace`, `sys.setprofile` run or stop code.",
    [
      "https://github.com/mmaitre314/picklescan/blob/main/tests/data/sys_module_override_sploit.pkl",
    ],
  ),
  mod(
    "subprocess",
    "process",
    "Runs programs and shell commands (`Popen`, `run`, `call`, `check_output`, `getoutput`).",
  ),
  mod(
    "_posixsubprocess",
    "process",
    "The C core of `subprocess` on POSIX (`fork_exec`): runs programs.",
  ),
  mod(
    "_winapi",
    "process",
    "Windows API bindings used by `subprocess` (`CreateProcess`): runs programs.",
  ),
  mod(
    "commands",
    "process",
    "Python 2 shell helpers (`getoutput`, `getstatusoutput`): run shell commands.",
  ),
  mod("popen2", "process", "Python 2 process helpers: run shell commands."),
  mod("pty", "process", "`pty.spawn` runs a program attached to a pseudo-terminal.", [
    "GHSA-vqmv-47xg-9wpr",
  ]),
  mod("pexpect", "process", "Spawns and drives programs."),
  mod("sh", "process", "Runs any program as a function call (`sh.curl(...)`)."),
  mod("multiprocessing", "process", "Starts processes and servers; its helpers fork and exec."),
  mod("concurrent.futures", "process", "Process and thread pools that run submitted callables."),
  mod(
    "asyncio",
    "process",
    "`create_subprocess_shell`/`_UnixSubprocessTransport` run commands; also opens network connections.",
    ["GHSA-q77w-mwjj-7mqx", "GHSA-jgw4-cr84-mqxg"],
  ),
  mod("_thread", "process", "Starts a thread running a callable, hiding the call from the load."),
  mod("threading", "process", "Starts threads and timers that run a callable in the background."),
  ...fns(
    "signal",
    [
      "signal",
      "alarm",
      "setitimer",
      "pthread_kill",
      "raise_signal",
      "pidfd_send_signal",
      "set_wakeup_fd",
      "siginterrupt",
    ],
    "process",
    "Installs signal handlers (deferred calls) and sends signals to processes.",
    ["GHSA-mhc9-48gj-9gp3"],
  ),
  mod("_signal", "process", "The C core of `signal`: handlers and signals."),
  mod("atexit", "process", "Registers a callable to run when the interpreter exits."),
  ...fns(
    "platform",
    ["popen", "_syscmd_ver", "_syscmd_file", "_syscmd_uname", "architecture"],
    "process",
    "Runs an external command (`platform.popen` is a shell; the others spawn `file`/`ver`/`uname`).",
  ),
  ...fns(
    "uuid",
    [
      "_get_command_stdout",
      "_popen",
      "_find_mac",
      "_find_mac_near_keyword",
      "_find_mac_under_heading",
      "_ifconfig_getnode",
      "_ip_getnode",
      "_arp_getnode",
      "_lanscan_getnode",
      "_netstat_getnode",
      "_ipconfig_getnode",
      "_netbios_getnode",
      "_unix_getnode",
      "_windll_getnode",
      "getnode",
      "uuid1",
    ],
    "process",
    "MAC-address discovery that runs external commands (`ifconfig`, `arp`, …); " +
      "`_get_command_stdout` runs any command it is given. (`uuid.UUID` itself is harmless.)",
    [GHSA_G38G],
  ),
  mod(
    "_osx_support",
    "process",
    "macOS build helpers that run shell commands (`_read_output`, `_find_build_tool`).",
    [GHSA_G38G],
  ),
  mod(
    "_aix_support",
    "process",
    "AIX build helpers that run shell commands (`_read_cmd_output`).",
    [GHSA_G38G],
  ),
  mod(
    "_pyrepl",
    "process",
    "The Python 3.13+ REPL: its pagers run shell commands (`pipe_pager`).",
    [GHSA_G38G],
  ),
  ...fns(
    "imaplib",
    ["IMAP4_stream"],
    "process",
    "Runs a shell command to talk IMAP over its pipes.",
    [GHSA_G38G],
  ),
  mod(
    "mailcap",
    "process",
    "`findmatch` runs each entry's `test` command with `os.system` (a mailcap dict the file supplies).",
    ["https://docs.python.org/3.11/library/mailcap.html", "https://peps.python.org/pep-0594/"],
  ),
  mod(
    "pipes",
    "process",
    "`Template` builds shell pipelines from command strings and runs them (`copy`, `open`: `os.system`/`os.popen`).",
    ["https://docs.python.org/3.11/library/pipes.html", "https://peps.python.org/pep-0594/"],
  ),
  mod(
    "ctypes",
    "code-execution",
    "Foreign function interface: loads native libraries and calls arbitrary C functions (`CDLL`).",
    ["GHSA-4675-36f9-wf6r"],
  ),
  mod(
    "_ctypes",
    "code-execution",
    "The C core of `ctypes`: loads native libraries, calls C functions.",
  ),
  mod(
    "cffi",
    "code-execution",
    "Foreign function interface: loads native libraries, calls C code.",
  ),
  mod("winreg", "file", "Reads and writes the Windows registry (persistence, secrets)."),
  mod("_winreg", "file", "Python 2 name of `winreg`: reads and writes the Windows registry."),
];

// ---------------------------------------------------------------------------------------------
// Running code, importing modules, interpreter internals

const CODE: DenyEntry[] = [
  mod(
    "runpy",
    "code-execution",
    "Runs a module or script (`run_path`, `run_module`, `_run_code`).",
    [GHSA_G38G],
  ),
  // Named entries only where the module name is one a user's own package might have (`code`,
  // `test`, `profile`, `trace`, `signal`, `site`, `http`): the stdlib's dangerous parts are
  // listed, so `code.models.Net` from a project folder called `code` stays unknown, not critical.
  ...fns(
    "code",
    ["InteractiveInterpreter", "InteractiveConsole", "interact", "compile_command"],
    "code-execution",
    "Interactive interpreter: `InteractiveInterpreter.runcode`/`runsource` execute code.",
    ["GHSA-cj3c-v495-4xqh", GHSA_G38G],
  ),
  mod("codeop", "code-execution", "Compiles source text into code objects.", [GHSA_G38G]),
  mod("compileall", "code-execution", "Compiles source files and writes `.pyc` files.", [
    GHSA_G38G,
  ]),
  mod("py_compile", "code-execution", "Compiles a source file and writes the `.pyc`.", [GHSA_G38G]),
  mod(
    "importlib",
    "import",
    "Imports any module by name (`import_module`), loads modules from files, reloads modules.",
  ),
  mod("imp", "import", "Legacy import machinery: loads modules from files and sources."),
  mod(
    "pkgutil",
    "import",
    '`resolve_name` turns any `"module:attr"` string into the object (e.g. `os.system`), bypassing a blocklist; `get_data` reads files.',
    ["GHSA-vvpj-8cmc-gx39"],
  ),
  mod("zipimport", "import", "Imports modules from a zip archive on disk."),
  mod("modulefinder", "import", "Imports and runs modules to find their dependencies."),
  ...fns(
    "site",
    [
      "main",
      "addsitedir",
      "addpackage",
      "addsitepackages",
      "addusersitepackages",
      "execsitecustomize",
      "execusercustomize",
      "venv",
    ],
    "import",
    "Site setup: `addsitedir` processes `.pth` files, which execute code; the customize hooks import modules.",
  ),
  mod(
    "pkg_resources",
    "import",
    "Loads entry points, i.e. imports and returns arbitrary callables.",
  ),
  mod(
    "marshal",
    "code-execution",
    "Deserialises code objects, which can then be turned into functions and run.",
  ),
  ...fns(
    "types",
    ["FunctionType", "LambdaType", "CodeType", "MethodType", "CellType", "new_class"],
    "code-execution",
    "Builds functions, code objects or classes from raw parts: arbitrary bytecode becomes a callable.",
  ),
  ...fns(
    "typing",
    ["_eval_type", "get_type_hints", "evaluate_forward_ref", "ForwardRef._evaluate"],
    "code-execution",
    "Evaluates forward references: `eval` of a string the file supplies (`typing.ForwardRef(expr)`).",
    [`${CPYTHON_LIB}typing.py`],
  ),
  ...fns(
    "dataclasses",
    ["_create_fn", "_FuncBuilder"],
    "code-execution",
    "Generates function source from its arguments and runs it with `exec`; a default value such as `x=__import__('os').system(...)` runs at once.",
    [`${CPYTHON_LIB}dataclasses.py`],
  ),
  mod(
    "inspect",
    "attribute-access",
    "Introspection that returns any attribute (`getattr_static`, `getmembers`) and reads source files.",
  ),
  mod(
    "gc",
    "attribute-access",
    "`gc.get_objects`/`get_referrers` hand out any live object in the process (e.g. the `os` module).",
  ),
  ...fns(
    "operator",
    ["attrgetter", "methodcaller", "itemgetter"],
    "attribute-access",
    "Gadgets that fetch attributes or call methods by name: `attrgetter('system')(os_module)`.",
    ["GHSA-84r2-jw7c-4r5q", "CVE-2025-71320"],
  ),
  ...fns(
    "_operator",
    ["attrgetter", "methodcaller", "itemgetter"],
    "attribute-access",
    "C module behind `operator`: the same attribute and method-call gadgets.",
    ["GHSA-955r-x9j8-7rhh", "GHSA-46h3-79wf-xr6c"],
  ),
  ...fns(
    "copyreg",
    [
      "add_extension",
      "remove_extension",
      "clear_extension_cache",
      "pickle",
      "dispatch_table",
      "_extension_registry",
      "_inverted_registry",
      "_extension_cache",
    ],
    "interpreter",
    "Changes how later pickles are read or written in this process (extension-code registry, " +
      "reducer table): the `EXT` opcodes of a later file would then load globals no scanner saw.",
  ),
  mod("pdb", "code-execution", "Debugger: `pdb.run`/`runeval` execute code strings.", [GHSA_G38G]),
  mod("bdb", "code-execution", "Debugger base: `Bdb.run` executes code strings."),
  ...fns(
    "trace",
    ["Trace", "main"],
    "code-execution",
    "`Trace.run`/`runctx` execute code strings.",
    ["GHSA-5qwp-399c-mjwf", "GHSA-g344-hcph-8vgg"],
  ),
  ...fns(
    "trace",
    ["CoverageResults"],
    "deserialisation",
    "Unpickles the results file it is given (`infile`) and writes report files.",
  ),
  ...fns(
    "profile",
    ["run", "runctx", "Profile", "main"],
    "code-execution",
    "`profile.run`/`Profile.runctx` execute code strings.",
    ["GHSA-x696-vm39-cp64", "GHSA-6vqj-c2q5-j97w", "GHSA-7wx9-6375-f5wh"],
  ),
  mod("cProfile", "code-execution", "`cProfile.run`/`runctx` execute code strings.", [
    "GHSA-49gj-c84q-6qm9",
    "GHSA-9w88-8rmg-7g2p",
  ]),
  mod("timeit", "code-execution", "`timeit.timeit`/`Timer` compile and run statement strings."),
  mod(
    "doctest",
    "code-execution",
    "Runs examples found in text (`debug_script`, `run_docstring_examples`).",
    ["GHSA-fqq6-7vqf-w3fg"],
  ),
  mod(
    "unittest",
    "code-execution",
    "Test runner (imports tests by name) and `unittest.mock.patch`, which monkeypatches any object named by a string.",
  ),
  ...["test.support", "test.libregrtest", "test.regrtest", "test.__main__"].map((module) =>
    mod(
      module,
      "code-execution",
      "CPython's test package: helpers spawn Python subprocesses (`script_helper.assert_python_ok`) and run tests.",
      [GHSA_G38G],
    ),
  ),
  mod(
    "lib2to3",
    "deserialisation",
    "`Grammar.loads` unpickles data; `ParserGenerator.make_label` evaluates strings.",
    ["GHSA-f54q-57x4-jg88", "GHSA-p9w7-82w4-7q8m"],
  ),
  mod(
    "idlelib",
    "code-execution",
    "IDLE internals that evaluate or execute code (`runcode`, `get_entity`, `fetch_tip`).",
    [
      "GHSA-3vg9-h568-4w9m",
      "GHSA-6w4w-5w54-rjvr",
      "GHSA-7cq8-mj8x-j263",
      "GHSA-8r4j-24qv-fmq9",
      "GHSA-9xph-j2h6-g47v",
      "GHSA-m869-42cg-3xwr",
      "GHSA-j343-8v2j-ff7w",
      "GHSA-3gf5-cxq9-w223",
    ],
  ),
  mod(
    "pydoc",
    "process",
    "`pydoc.pipepager` runs a shell command; `pydoc.locate` imports any object by name.",
    ["GHSA-84r2-jw7c-4r5q", "CVE-2025-71320"],
  ),
  mod(
    "tkinter",
    "code-execution",
    "Tk bindings: `Tk().eval` runs Tcl code, which can run programs.",
  ),
  mod("_tkinter", "code-execution", "C core of `tkinter`: evaluates Tcl code."),
  mod("webbrowser", "process", "Opens a URL by launching a browser process."),
  mod("antigravity", "process", "Opens a web browser on import."),
  mod(
    "jinja2",
    "code-execution",
    "Template engine: rendering an attacker template is a known route to code execution.",
  ),
  mod("mako", "code-execution", "Template engine that compiles templates to Python code."),
  mod(
    "IPython",
    "code-execution",
    "Interactive shell: runs cells, shell commands (`system`) and magics.",
  ),
];

// ---------------------------------------------------------------------------------------------
// Nested deserialisation (a payload the scan of this file would not see)

const NESTED = "Deserialises another payload with a loader that can run code";

const DESERIALISE: DenyEntry[] = [
  mod("pickle", "deserialisation", `${NESTED}: \`pickle.loads\`/\`Unpickler\` run any pickle.`, [
    PICKLE_WARNING,
  ]),
  mod("_pickle", "deserialisation", `${NESTED}: the C \`pickle\` (\`_pickle.loads\`).`),
  mod("cPickle", "deserialisation", `${NESTED}: Python 2 \`cPickle.loads\`.`),
  mod("dill", "deserialisation", `${NESTED}; dill also rebuilds functions from raw code objects.`),
  mod(
    "cloudpickle",
    "deserialisation",
    `${NESTED}; cloudpickle also rebuilds functions from code objects (\`_make_function\`, \`subimport\`).`,
  ),
  mod(
    "jsonpickle",
    "deserialisation",
    `${NESTED}: \`jsonpickle.decode\` instantiates and calls any class named in the JSON.`,
  ),
  mod("shelve", "deserialisation", `${NESTED}: opens a shelf file and unpickles its values.`),
  ...fns(
    "yaml",
    ["load", "load_all", "unsafe_load", "unsafe_load_all", "full_load", "full_load_all"],
    "deserialisation",
    `${NESTED}: YAML \`!!python/object\` tags call any callable.`,
  ),
  ...fns(
    "yaml",
    ["Loader", "UnsafeLoader", "FullLoader"],
    "deserialisation",
    "YAML loaders that construct arbitrary Python objects.",
  ),
  mod(
    "yaml.constructor",
    "deserialisation",
    "PyYAML's Python-object constructors: call any callable named in YAML.",
  ),
  mod("yaml.loader", "deserialisation", "PyYAML loaders, including the unsafe ones."),
  ...fns(
    "joblib",
    ["load", "dump"],
    "deserialisation",
    `${NESTED} (\`joblib.load\` is pickle) or writes a file (\`dump\`).`,
  ),
  // Not the whole module: joblib's own dumps name `joblib.numpy_pickle.NumpyArrayWrapper` (allowed).
  ...fns(
    "joblib.numpy_pickle",
    ["load", "dump", "NumpyUnpickler", "NumpyPickler", "load_compatibility", "_unpickle"],
    "deserialisation",
    `${NESTED}: joblib's pickle reader and writer.`,
  ),
  mod("joblib.numpy_pickle_compat", "deserialisation", `${NESTED}: joblib's legacy pickle reader.`),
  mod(
    "joblib.memory",
    "deserialisation",
    "Disk cache that writes files and unpickles cached results from disk.",
  ),
  ...fns(
    "joblib",
    ["Memory"],
    "deserialisation",
    "Disk cache that writes files and unpickles cached results from disk.",
  ),
  mod("joblib._store_backends", "file", "Cache store backends: read, write and unpickle files."),
  mod("joblib._memmapping_reducer", "file", "Memory-maps files on disk for worker processes."),
  mod("joblib.externals", "process", "Vendored cloudpickle and loky (process pools)."),
  mod(
    "sklearn.externals.joblib",
    "deserialisation",
    `${NESTED}: old scikit-learn's vendored joblib.`,
  ),
  mod(
    "sklearn.utils._joblib",
    "deserialisation",
    `${NESTED}: scikit-learn's re-export of \`joblib.load\`/\`dump\`.`,
  ),
  ...fns(
    "numpy",
    ["load", "loads"],
    "deserialisation",
    `${NESTED}: \`numpy.load(..., allow_pickle=True)\` unpickles object arrays; old \`numpy.loads\` is \`pickle.loads\`.`,
    ["CVE-2019-6446"],
  ),
  ...fns("numpy.lib.npyio", ["load"], "deserialisation", `${NESTED}: \`numpy.load\`.`),
  ...fns(
    "numpy.lib._npyio_impl",
    ["load"],
    "deserialisation",
    `${NESTED}: \`numpy.load\` (NumPy 2).`,
  ),
  ...fns(
    "numpy.lib.format",
    ["read_array", "open_memmap"],
    "deserialisation",
    "Reads an array from a file (`allow_pickle` unpickles object arrays) or creates a memory-mapped file.",
  ),
  ...fns(
    "numpy.core.numeric",
    ["load", "loads"],
    "deserialisation",
    `${NESTED}: old NumPy aliases of \`pickle.load\`/\`loads\`.`,
  ),
  ...fns(
    "numpy.ma",
    ["load", "loads"],
    "deserialisation",
    `${NESTED}: old NumPy masked-array aliases of \`pickle.load\`/\`loads\`.`,
  ),
  ...fns(
    "numpy.ma.core",
    ["load", "loads"],
    "deserialisation",
    `${NESTED}: old NumPy masked-array aliases of \`pickle.load\`/\`loads\`.`,
  ),
  ...fns(
    "pandas",
    ["read_pickle"],
    "deserialisation",
    `${NESTED}: \`pandas.read_pickle\` unpickles a file or URL.`,
  ),
  mod(
    "pandas.compat.pickle_compat",
    "deserialisation",
    `${NESTED}: pandas' pickle compatibility loader.`,
  ),
];

// ---------------------------------------------------------------------------------------------
// Files

const FILES: DenyEntry[] = [
  mod("shutil", "file", "Copies, moves and deletes files and trees (`rmtree`), unpacks archives."),
  mod("tempfile", "file", "Creates files and directories."),
  mod("glob", "file", "Lists the file system."),
  mod("fileinput", "file", "Reads files and can rewrite them in place."),
  mod("linecache", "file", "Reads any text file (used to exfiltrate `/etc/passwd` lines)."),
  mod("mmap", "file", "Maps files into memory for reading and writing."),
  mod("dbm", "file", "Opens or creates database files."),
  mod("sqlite3", "file", "Opens or creates database files; `load_extension` loads native code."),
  mod("_sqlite3", "file", "C core of `sqlite3`."),
  mod("tarfile", "file", "Opens archives on disk and extracts them anywhere (path traversal)."),
  mod("zipfile", "file", "Opens, creates and extracts zip archives on disk."),
  ...fns("io", ["open", "FileIO", "open_code"], "file", "Opens any file for reading or writing."),
  ...fns(
    "_io",
    ["open", "FileIO", "open_code"],
    "file",
    "Opens any file for reading or writing (`io.FileIO` pickles as `_io.FileIO`).",
  ),
  ...fns("_pyio", ["open", "FileIO", "open_code"], "file", "Pure-Python `io`: opens any file."),
  ...fns("codecs", ["open", "EncodedFile"], "file", "Opens any file for reading or writing."),
  ...fns("gzip", ["open", "GzipFile"], "file", "Opens any file for reading or writing."),
  ...fns("bz2", ["open", "BZ2File"], "file", "Opens any file for reading or writing."),
  ...fns("lzma", ["open", "LZMAFile"], "file", "Opens any file for reading or writing."),
  ...fns("logging", ["FileHandler", "basicConfig"], "file", "Creates or appends to any file."),
  mod(
    "logging.handlers",
    "network",
    "Log handlers that write files, open sockets, send mail or HTTP requests.",
  ),
  mod(
    "logging.config",
    "code-execution",
    "`fileConfig` evaluates expressions from a config file; `listen` accepts configs over a socket.",
  ),
  mod(
    "distutils",
    "file",
    "Build tooling: `file_util.write_file` writes any file, `spawn` runs commands.",
    ["GHSA-m273-6v24-x4m4"],
  ),
  ...fns(
    "numpy",
    ["save", "savez", "savez_compressed", "savetxt"],
    "file",
    "Writes a file anywhere.",
  ),
  ...fns(
    "numpy",
    ["fromfile", "loadtxt", "genfromtxt", "fromregex", "memmap"],
    "file",
    "Reads or memory-maps any file.",
  ),
  ...fns("numpy.core.memmap", ["memmap"], "file", "Creates or maps any file."),
  ...fns("numpy._core.memmap", ["memmap"], "file", "Creates or maps any file."),
  ...fns("numpy.core.records", ["fromfile"], "file", "Reads any file."),
  ...fns("numpy.rec", ["fromfile"], "file", "Reads any file."),
  mod("numpy.ctypeslib", "code-execution", "`load_library` loads a native library."),
  mod(
    "numpy.f2py",
    "code-execution",
    "Fortran wrapper generator: evaluates strings (`crackfortran.getlincoef`) and runs compilers.",
    ["GHSA-r8g5-cgf2-4m4m"],
  ),
  mod("numpy.distutils", "process", "Build tooling that runs compilers and commands."),
  mod(
    "numpy.testing",
    "code-execution",
    "Test helpers: `runstring` is `exec`; `rundocs` runs doctests.",
    ["https://github.com/mmaitre314/picklescan/blob/main/tests/init_data_files.py"],
  ),
  mod("numpy.lib._datasource", "network", "Downloads URLs and opens files (`DataSource`)."),
  ...fns("numpy", ["DataSource"], "network", "Downloads URLs and opens files."),
  ...fns("numpy.lib.npyio", ["DataSource"], "network", "Downloads URLs and opens files."),
];

// ---------------------------------------------------------------------------------------------
// Network

const NETWORK: DenyEntry[] = [
  mod("socket", "network", "Opens network connections and listening sockets."),
  mod("_socket", "network", "C core of `socket`."),
  mod("ssl", "network", "TLS connections; `get_server_certificate` leaks data through DNS."),
  mod("_ssl", "network", "C core of `ssl`."),
  mod("http.client", "network", "HTTP client (`HTTPSConnection`)."),
  mod("http.server", "network", "Runs an HTTP server (and CGI scripts)."),
  mod("httplib", "network", "Python 2 HTTP client."),
  mod(
    "urllib.request",
    "network",
    "Fetches URLs (`urlopen`, `urlretrieve`), including `file://` reads.",
  ),
  mod("urllib.robotparser", "network", "Fetches a URL."),
  mod("urllib2", "network", "Python 2 URL fetching."),
  ...fns(
    "urllib",
    ["urlopen", "urlretrieve", "URLopener", "FancyURLopener"],
    "network",
    "Python 2 URL fetching.",
  ),
  mod("ftplib", "network", "FTP client."),
  mod("telnetlib", "network", "Telnet client."),
  mod("smtplib", "network", "Sends e-mail.", ["GHSA-mhc9-48gj-9gp3"]),
  mod("smtpd", "network", "Runs a mail server."),
  mod("poplib", "network", "POP3 client."),
  mod("nntplib", "network", "NNTP client."),
  mod("xmlrpc", "network", "XML-RPC client and server: calls remote procedures."),
  mod("xmlrpclib", "network", "Python 2 XML-RPC client."),
  mod("SimpleXMLRPCServer", "network", "Python 2 XML-RPC server."),
  mod("socketserver", "network", "Network servers.", ["GHSA-mhc9-48gj-9gp3"]),
  mod("SocketServer", "network", "Python 2 network servers."),
  mod("wsgiref", "network", "Runs a web server (`simple_server.make_server`)."),
  mod("asyncore", "network", "Asynchronous sockets."),
  mod("asynchat", "network", "Asynchronous sockets."),
  mod("xml.sax", "network", "Parses a file or URL and can fetch external entities."),
  mod("requests", "network", "HTTP client (`requests.get`, `post`)."),
  mod("httpx", "network", "HTTP client."),
  mod("aiohttp", "network", "HTTP client and server."),
  mod("urllib3", "network", "HTTP client."),
  mod("paramiko", "network", "SSH client: runs commands on remote hosts."),
  mod("boto3", "network", "AWS API client using the victim's credentials."),
  mod("botocore", "network", "AWS API core using the victim's credentials."),
  mod(
    "huggingface_hub",
    "network",
    "Hugging Face Hub client: downloads and uploads files with the victim's token.",
  ),
];

// ---------------------------------------------------------------------------------------------
// Package management

const PACKAGES: DenyEntry[] = [
  mod("pip", "process", "`pip.main(['install', ...])` installs and runs any package.", [
    "CVE-2025-1716",
    "GHSA-655q-fx9r-782v",
  ]),
  mod("ensurepip", "process", "`_run_pip` runs pip with any arguments.", ["GHSA-xp4f-hrf8-rxw7"]),
  mod("venv", "process", "Creates environments and runs pip/commands in them."),
  mod("virtualenv", "process", "Creates environments and runs commands."),
  mod(
    "setuptools",
    "code-execution",
    "Build tooling: `sandbox.run_setup` executes a setup script; commands spawn compilers.",
  ),
];

// ---------------------------------------------------------------------------------------------
// ML libraries: loaders, hubs, code generation

const TORCH_LOAD_REFS = ["CVE-2025-32434", "GHSA-53q9-r3pm-6pq6"];

const ML: DenyEntry[] = [
  ...fns(
    "torch",
    ["load"],
    "deserialisation",
    `${NESTED}: \`torch.load\` of another file (with \`weights_only=False\` any pickle; \`weights_only=True\` itself had bypasses).`,
    TORCH_LOAD_REFS,
  ),
  ...fns(
    "torch.serialization",
    ["load", "_load", "_legacy_load", "_open_file_like", "_open_zipfile_reader"],
    "deserialisation",
    `${NESTED}: \`torch.load\` internals.`,
    TORCH_LOAD_REFS,
  ),
  ...fns(
    "torch.serialization",
    ["save", "_save", "_legacy_save", "_open_zipfile_writer"],
    "file",
    "Writes a checkpoint file anywhere.",
  ),
  ...fns(
    "torch.serialization",
    ["add_safe_globals", "safe_globals", "clear_safe_globals", "register_package"],
    "interpreter",
    "Widens what later `torch.load(weights_only=True)` calls accept, or registers custom location loaders.",
  ),
  mod(
    "torch._weights_only_unpickler",
    "interpreter",
    "Internals of the weights-only loader (e.g. `_add_safe_globals` widens its allowlist).",
  ),
  ...fns("torch", ["save"], "file", "Writes a checkpoint file anywhere."),
  ...fns("torch", ["from_file"], "file", "Maps any file into a tensor."),
  ...fns(
    "torch.storage",
    ["_load_from_bytes"],
    "deserialisation",
    `${NESTED}: calls \`torch.load\` on embedded bytes, a nested pickle this file's scan does not cover.`,
  ),
  mod(
    "torch.hub",
    "network",
    "Downloads and runs a repository's `hubconf.py` (`torch.hub.load`), downloads files.",
  ),
  mod("torch.utils.model_zoo", "network", "Downloads and loads checkpoints from URLs."),
  mod(
    "torch.jit",
    "code-execution",
    "TorchScript loading and compilation (`torch.jit.load`, `execWrapper`).",
    ["GHSA-vr7h-p6mm-wpmh"],
  ),
  mod("torch.package", "import", "Imports Python code packaged inside an archive."),
  mod(
    "torch.utils.cpp_extension",
    "code-execution",
    "Compiles C++/CUDA source and loads the result.",
  ),
  mod(
    "torch.utils.bottleneck",
    "code-execution",
    "Profiler entry point that executes code strings (`run_cprofile`, `run_autograd_prof`).",
    ["GHSA-4r9r-ch6f-vxmx", "GHSA-4whj-rm5r-c2v8"],
  ),
  mod("torch.utils.collect_env", "process", "`run`/`run_and_read_all` run shell commands.", [
    "GHSA-f745-w6jp-hpxx",
    "GHSA-jhph-76pp-mggw",
  ]),
  mod(
    "torch.utils.data.datapipes",
    "deserialisation",
    "Data pipes that open files and URLs; `decoder.basichandlers` unpickles bytes.",
    ["GHSA-h3qp-7fh3-f8h4"],
  ),
  mod(
    "torch.utils._config_module",
    "deserialisation",
    "`ConfigModule.load_config` unpickles bytes.",
    ["GHSA-vv6j-3g6g-2pvj"],
  ),
  mod("torch.utils.benchmark", "code-execution", "Timers that compile and run statement strings."),
  mod("torch.utils.tensorboard", "file", "Writes event files and directories."),
  mod(
    "torch.testing._internal",
    "process",
    "PyTorch's internal test helpers: spawn processes and run code.",
  ),
  mod(
    "torch._dynamo",
    "code-execution",
    "Compiler internals that evaluate guard expressions (`GuardBuilder.get`).",
    ["GHSA-86cj-95qr-2p4f"],
  ),
  mod(
    "torch._inductor",
    "process",
    "Compiler backend: `codecache.compile_file` runs a compiler command line.",
    ["https://github.com/mmaitre314/picklescan/blob/main/tests/init_data_files.py"],
  ),
  mod(
    "torch.fx",
    "code-execution",
    "Graph code generation: `GraphModule` unpickling executes generated Python; `ShapeEnv.evaluate_guards_expression` evaluates strings.",
    ["GHSA-f4x7-rfwp-v3xw"],
  ),
  mod(
    "torch.ops",
    "code-execution",
    "Operator namespace: `torch.ops.load_library` loads native code.",
  ),
  mod(
    "torch._ops",
    "code-execution",
    "Operator registry internals: load native libraries, dispatch by name.",
  ),
  mod("torch.classes", "code-execution", "`torch.classes.load_library` loads native code."),
  mod("torch._classes", "code-execution", "Custom-class registry: loads native libraries."),
  mod("torch.library", "code-execution", "Registers and overrides operators process-wide."),
  mod(
    "torch.multiprocessing",
    "process",
    "Spawns processes; its reducers reopen shared memory by file name.",
  ),
  mod("torch.distributed.rpc", "network", "Remote procedure calls to other processes."),
  mod("torch.distributed.elastic", "process", "Launches and supervises worker processes."),
  mod("torch.distributed.run", "process", "Launcher (`torchrun`): spawns processes."),
  mod("torch.distributed.launch", "process", "Launcher: spawns processes."),
  mod("torch.distributed.launcher", "process", "Launcher API: spawns processes."),
  ...fns(
    "torch.export",
    ["load", "save"],
    "deserialisation",
    "Loads or writes an exported-program archive.",
  ),
  mod("torch._export", "deserialisation", "Exported-program (de)serialisation internals."),
  ...fns("pandas", ["eval"], "code-execution", "Evaluates an expression string."),
  mod(
    "pandas.core.computation",
    "code-execution",
    "Expression engine behind `pandas.eval` and `DataFrame.query`/`eval`.",
  ),
  ...fns(
    "pandas",
    [
      "read_csv",
      "read_table",
      "read_fwf",
      "read_excel",
      "read_json",
      "read_html",
      "read_xml",
      "read_parquet",
      "read_feather",
      "read_orc",
      "read_sas",
      "read_spss",
      "read_stata",
      "read_hdf",
      "read_sql",
      "read_sql_query",
      "read_sql_table",
      "read_gbq",
      "read_clipboard",
    ],
    "file",
    "Reads a file, URL or database (`read_clipboard` runs a clipboard program).",
  ),
  mod(
    "pandas.io",
    "file",
    "pandas readers and writers: files, URLs, databases, clipboard (runs a program), pickles.",
  ),
  ...fns("pandas", ["test"], "process", "Runs the pandas test suite."),
  mod("pandas.util._tester", "process", "Runs the pandas test suite."),
  mod(
    "sklearn.datasets",
    "network",
    "Dataset fetchers that download URLs, loaders that read files.",
  ),
  mod("sklearn.utils._testing", "process", "Test helpers that spawn Python subprocesses."),
  mod(
    "transformers.dynamic_module_utils",
    "import",
    "Downloads Python code from the Hub and imports it (`trust_remote_code`).",
  ),
  ...fns(
    "transformers",
    ["pipeline"],
    "network",
    "Downloads and instantiates models, possibly with remote code.",
  ),
  mod(
    "transformers.pipelines",
    "network",
    "Downloads and instantiates models, possibly with remote code.",
  ),
  mod("transformers.utils.hub", "network", "Downloads files from the Hub."),
  mod(
    "mlflow.projects",
    "process",
    "Runs MLflow project entry points: shell commands, conda/virtualenv/docker environments.",
    ["https://mlflow.org/docs/latest/projects.html"],
  ),
  mod("transformers.agents", "code-execution", "Agents that execute generated Python code."),
  mod("transformers.tools", "code-execution", "Agent tools that execute generated Python code."),
  ...fns(
    "datasets",
    ["load_dataset", "load_dataset_builder", "load_from_disk"],
    "network",
    "Downloads datasets and may run dataset scripts.",
  ),
  mod("datasets.load", "network", "Downloads datasets and may run dataset scripts."),
  ...fns(
    "keras.models",
    ["load_model"],
    "deserialisation",
    "Loads another model file; Keras `Lambda` layers carry serialized bytecode.",
    ["CVE-2024-3660", "GHSA-x4wf-678h-2pmq"],
  ),
  mod(
    "keras.saving",
    "deserialisation",
    "Keras (de)serialisation: can rebuild `Lambda` layers from bytecode, load model files.",
    ["CVE-2024-3660", "GHSA-x4wf-678h-2pmq"],
  ),
  mod(
    "keras.src.saving",
    "deserialisation",
    "Keras 3 (de)serialisation internals (`deserialize_keras_object`).",
    ["CVE-2024-3660"],
  ),
  ...fns(
    "keras.utils.generic_utils",
    ["func_load"],
    "code-execution",
    "Rebuilds a Python function from marshalled bytecode.",
    ["CVE-2024-3660"],
  ),
  ...fns(
    "keras.src.utils.python_utils",
    ["func_load"],
    "code-execution",
    "Rebuilds a Python function from marshalled bytecode.",
    ["CVE-2024-3660"],
  ),
  ...[
    "keras.utils",
    "keras.utils.data_utils",
    "keras.src.utils.file_utils",
    "tensorflow.keras.utils",
  ].flatMap((module) =>
    fns(
      module,
      ["get_file"],
      "network",
      "Downloads a URL to a local file and can extract archives from it.",
      ["CVE-2025-8747", "GHSA-c9rc-mg46-23w3"],
    ),
  ),
  ...fns(
    "tensorflow.keras.models",
    ["load_model"],
    "deserialisation",
    "Loads another model file (Keras `Lambda` bytecode).",
    ["CVE-2024-3660"],
  ),
  mod("tensorflow.saved_model", "deserialisation", "Loads a SavedModel from disk."),
  mod("tensorflow.io", "file", "Reads and writes files (`gfile`, `read_file`, `write_file`)."),
];

/** Every denylisted entry. */
export const DENYLIST: readonly DenyEntry[] = [
  ...BUILTINS,
  ...BUILTIN_TWINS,
  ...PYTHON2_BUILTINS,
  ...PROCESS,
  ...CODE,
  ...DESERIALISE,
  ...FILES,
  ...NETWORK,
  ...PACKAGES,
  ...ML,
];

/** The key an entry matches on: `module` or `module.name`. */
export function denyKey(entry: Pick<DenyEntry, "module" | "name">): string {
  return entry.name === undefined ? entry.module : `${entry.module}.${entry.name}`;
}

/**
 * Attribute names that are dangerous when a pickle reaches them *through an attribute chain*
 * (protocol 4+ resolves `name` "Trace.run" as `getattr(getattr(module, "Trace"), "run")`): a
 * module that happens to import `system` or a class whose method runs code is exposed that way
 * without its dangerous home module ever being named. Derived from the named denylist entries plus
 * the well-known callables inside whole-module entries.
 */
export const CHAIN_DENIED_NAMES: ReadonlySet<string> = new Set([
  ...DENYLIST.flatMap((e) => (e.name === undefined ? [] : [e.name.split(".").at(-1) ?? e.name])),
  // Inside `os`, `subprocess` and friends (whole-module entries).
  "system",
  "popen",
  "Popen",
  "spawnl",
  "spawnle",
  "spawnlp",
  "spawnlpe",
  "spawnv",
  "spawnve",
  "spawnvp",
  "spawnvpe",
  "execl",
  "execle",
  "execlp",
  "execlpe",
  "execv",
  "execve",
  "execvp",
  "execvpe",
  "fork",
  "forkpty",
  "kill",
  "killpg",
  "posix_spawn",
  "posix_spawnp",
  "startfile",
  "call",
  "check_call",
  "check_output",
  "getoutput",
  "getstatusoutput",
  "fork_exec",
  // Code runners (`Trace.run`, `Bdb.run`, `InteractiveInterpreter.runcode`, `runpy`…).
  "run",
  "runctx",
  "runcall",
  "runeval",
  "runcode",
  "runsource",
  "runcommand",
  "run_path",
  "run_module",
  "_run_code",
  "_run_module_code",
  "runstring",
  // Importers and resolvers.
  "import_module",
  "load_module",
  "exec_module",
  "resolve_name",
  "locate",
  "from_pretrained",
  // Pagers that shell out.
  "pipepager",
  "tempfilepager",
  "pipe_pager",
  "tempfile_pager",
  // Nested loaders.
  "load",
  "loads",
  "load_config",
  "from_file",
  // Network.
  "urlopen",
  "urlretrieve",
  "create_connection",
  "connect",
  // File writes and deletes (`Path.write_text`, `DataFrame.to_pickle`, `ndarray.tofile`…).
  "write",
  "writelines",
  "write_text",
  "write_bytes",
  "read_text",
  "read_bytes",
  "unlink",
  "remove",
  "rmtree",
  "rmdir",
  "mkdir",
  "makedirs",
  "touch",
  "rename",
  "symlink",
  "symlink_to",
  "hardlink_to",
  "link_to",
  "chmod",
  "chown",
  "extract",
  "extractall",
  "dump",
  "tofile",
  "to_pickle",
  "to_csv",
  "to_json",
  "to_parquet",
  "to_excel",
  "to_hdf",
  "to_sql",
  "to_feather",
  // Expression evaluation (`DataFrame.query`, `DataFrame.eval`).
  "query",
]);

/**
 * Module names whose *module object* is dangerous to hand to a pickle, even as a single attribute
 * of some other module (`torch._utils` + `os` is the `os` module, because `torch._utils` imports
 * it): a `BUILD` on a module object rewrites that module's globals. Module objects cannot be
 * pickled, so a real pickler never writes such a global; the only risk of a false alarm is an
 * innocent attribute with the same name, so names that are common attribute names (`site`,
 * `inspect`, `profile`, `trace`, `code`, `commands`) are left out.
 */
export const MODULE_HANDLE_NAMES: ReadonlySet<string> = new Set([
  "os",
  "posix",
  "nt",
  "posixpath",
  "ntpath",
  "sys",
  "subprocess",
  "_posixsubprocess",
  "_winapi",
  "builtins",
  "__builtin__",
  "importlib",
  "imp",
  "pkgutil",
  "zipimport",
  "runpy",
  "ctypes",
  "_ctypes",
  "socket",
  "_socket",
  "shutil",
  "tempfile",
  "pickle",
  "_pickle",
  "cPickle",
  "dill",
  "cloudpickle",
  "shelve",
  "marshal",
  "copyreg",
  "copy_reg",
  "pty",
  "pdb",
  "bdb",
  "pydoc",
  "webbrowser",
  "multiprocessing",
  "asyncio",
  "pip",
  "ensurepip",
  "venv",
  "codeop",
  "compileall",
  "py_compile",
]);

/**
 * Names that denote a code-running callable whatever module they are fetched from: a module that
 * does `from subprocess import check_output` re-exports it under its own name. A single-attribute
 * global with one of these names is dangerous even when its module is unknown. Generic names
 * (`system`, `open`, `compile`, `run`, `load`) are left out here — `platform.system` and
 * `re.compile` are harmless — and only count inside attribute chains.
 */
export const REEXPORT_NAMES: ReadonlySet<string> = new Set([
  "eval",
  "exec",
  "execfile",
  "popen",
  "Popen",
  "check_output",
  "check_call",
  "getoutput",
  "getstatusoutput",
  "spawnl",
  "spawnle",
  "spawnlp",
  "spawnlpe",
  "spawnv",
  "spawnve",
  "spawnvp",
  "spawnvpe",
  "execl",
  "execle",
  "execlp",
  "execlpe",
  "execv",
  "execve",
  "execvp",
  "execvpe",
  "posix_spawn",
  "posix_spawnp",
  "startfile",
  "fork_exec",
  "import_module",
  "run_path",
  "run_module",
  "_run_code",
  "_run_module_code",
  "runcode",
  "runsource",
  "runstring",
  "pipepager",
  "attrgetter",
  "methodcaller",
  "resolve_name",
  "getattr",
  "setattr",
  "delattr",
]);
