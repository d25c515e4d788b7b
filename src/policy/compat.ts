/**
 * Python 2 → 3 name mapping that `pickle.Unpickler` applies when `fix_imports` is on (the default)
 * and the stream's protocol is below 3 — the same data as CPython's `Lib/_compat_pickle.py`,
 * restated. A pickle written by Python 2 (or by Python 3 at protocol 0–2, which writes the Python 2
 * spellings) names `__builtin__.eval`; Python 3 loads `builtins.eval`. The matcher classifies both
 * the raw and the mapped name and keeps the more severe verdict, so a Python 2 spelling can never
 * launder a denied callable.
 */

/** One importable, split the way a `GLOBAL`/`STACK_GLOBAL` opcode splits it. */
export interface Importable {
  module: string;
  name: string;
}

/** Whole-module renames (`IMPORT_MAPPING`), Python 2 module → Python 3 module. */
export const PYTHON2_MODULE_RENAMES: ReadonlyMap<string, string> = new Map([
  ["__builtin__", "builtins"],
  ["copy_reg", "copyreg"],
  ["Queue", "queue"],
  ["SocketServer", "socketserver"],
  ["ConfigParser", "configparser"],
  ["repr", "reprlib"],
  ["tkFileDialog", "tkinter.filedialog"],
  ["tkSimpleDialog", "tkinter.simpledialog"],
  ["tkColorChooser", "tkinter.colorchooser"],
  ["tkCommonDialog", "tkinter.commondialog"],
  ["Dialog", "tkinter.dialog"],
  ["Tkdnd", "tkinter.dnd"],
  ["tkFont", "tkinter.font"],
  ["tkMessageBox", "tkinter.messagebox"],
  ["ScrolledText", "tkinter.scrolledtext"],
  ["Tkconstants", "tkinter.constants"],
  ["Tix", "tkinter.tix"],
  ["ttk", "tkinter.ttk"],
  ["Tkinter", "tkinter"],
  ["markupbase", "_markupbase"],
  ["_winreg", "winreg"],
  ["thread", "_thread"],
  ["dummy_thread", "_dummy_thread"],
  ["dbhash", "dbm.bsd"],
  ["dumbdbm", "dbm.dumb"],
  ["dbm", "dbm.ndbm"],
  ["gdbm", "dbm.gnu"],
  ["xmlrpclib", "xmlrpc.client"],
  ["SimpleXMLRPCServer", "xmlrpc.server"],
  ["httplib", "http.client"],
  ["htmlentitydefs", "html.entities"],
  ["HTMLParser", "html.parser"],
  ["Cookie", "http.cookies"],
  ["cookielib", "http.cookiejar"],
  ["BaseHTTPServer", "http.server"],
  ["test.test_support", "test.support"],
  ["commands", "subprocess"],
  ["urlparse", "urllib.parse"],
  ["robotparser", "urllib.robotparser"],
  ["urllib2", "urllib.request"],
  ["anydbm", "dbm"],
  ["_abcoll", "collections.abc"],
  // Non-mutual mappings (Python 3 → 2 goes elsewhere).
  ["cPickle", "pickle"],
  ["_elementtree", "xml.etree.ElementTree"],
  ["FileDialog", "tkinter.filedialog"],
  ["SimpleDialog", "tkinter.simpledialog"],
  ["DocXMLRPCServer", "xmlrpc.server"],
  ["SimpleHTTPServer", "http.server"],
  ["CGIHTTPServer", "http.server"],
  ["UserDict", "collections"],
  ["UserList", "collections"],
  ["UserString", "collections"],
  ["whichdb", "dbm"],
  ["StringIO", "io"],
  ["cStringIO", "io"],
]);

/** Python 2 exception names that `exceptions.X` maps to `builtins.X`. */
const PYTHON2_EXCEPTIONS = [
  "ArithmeticError",
  "AssertionError",
  "AttributeError",
  "BaseException",
  "BufferError",
  "BytesWarning",
  "DeprecationWarning",
  "EOFError",
  "EnvironmentError",
  "Exception",
  "FloatingPointError",
  "FutureWarning",
  "GeneratorExit",
  "IOError",
  "ImportError",
  "ImportWarning",
  "IndentationError",
  "IndexError",
  "KeyError",
  "KeyboardInterrupt",
  "LookupError",
  "MemoryError",
  "NameError",
  "NotImplementedError",
  "OSError",
  "OverflowError",
  "PendingDeprecationWarning",
  "ReferenceError",
  "RuntimeError",
  "RuntimeWarning",
  "StopIteration",
  "SyntaxError",
  "SyntaxWarning",
  "SystemError",
  "SystemExit",
  "TabError",
  "TargetScopeError",
  "TypeError",
  "UnboundLocalError",
  "UnicodeDecodeError",
  "UnicodeEncodeError",
  "UnicodeError",
  "UnicodeTranslateError",
  "UnicodeWarning",
  "UserWarning",
  "ValueError",
  "Warning",
  "ZeroDivisionError",
  // Only present on Windows builds of CPython, mapped there; mapping it everywhere is harmless.
  "WindowsError",
] as const;

const MULTIPROCESSING_EXCEPTIONS = [
  "AuthenticationError",
  "BufferTooShort",
  "ProcessError",
  "TimeoutError",
] as const;

/** Per-name renames (`NAME_MAPPING`): `[python2Module, python2Name, python3Module, python3Name]`. */
export const PYTHON2_NAME_RENAMES: readonly (readonly [string, string, string, string])[] = [
  ["__builtin__", "xrange", "builtins", "range"],
  ["__builtin__", "reduce", "functools", "reduce"],
  ["__builtin__", "intern", "sys", "intern"],
  ["__builtin__", "unichr", "builtins", "chr"],
  ["__builtin__", "unicode", "builtins", "str"],
  ["__builtin__", "long", "builtins", "int"],
  ["__builtin__", "basestring", "builtins", "str"],
  ["itertools", "izip", "builtins", "zip"],
  ["itertools", "imap", "builtins", "map"],
  ["itertools", "ifilter", "builtins", "filter"],
  ["itertools", "ifilterfalse", "itertools", "filterfalse"],
  ["itertools", "izip_longest", "itertools", "zip_longest"],
  ["UserDict", "IterableUserDict", "collections", "UserDict"],
  ["UserDict", "UserDict", "collections", "UserDict"],
  ["UserList", "UserList", "collections", "UserList"],
  ["UserString", "UserString", "collections", "UserString"],
  ["whichdb", "whichdb", "dbm", "whichdb"],
  ["_socket", "fromfd", "socket", "fromfd"],
  ["socket", "_socketobject", "socket", "SocketType"],
  ["_multiprocessing", "Connection", "multiprocessing.connection", "Connection"],
  ["multiprocessing.process", "Process", "multiprocessing.context", "Process"],
  ["multiprocessing.forking", "Popen", "multiprocessing.popen_fork", "Popen"],
  ["urllib", "ContentTooShortError", "urllib.error", "ContentTooShortError"],
  ["urllib", "getproxies", "urllib.request", "getproxies"],
  ["urllib", "pathname2url", "urllib.request", "pathname2url"],
  ["urllib", "quote_plus", "urllib.parse", "quote_plus"],
  ["urllib", "quote", "urllib.parse", "quote"],
  ["urllib", "unquote_plus", "urllib.parse", "unquote_plus"],
  ["urllib", "unquote", "urllib.parse", "unquote"],
  ["urllib", "url2pathname", "urllib.request", "url2pathname"],
  ["urllib", "urlcleanup", "urllib.request", "urlcleanup"],
  ["urllib", "urlencode", "urllib.parse", "urlencode"],
  ["urllib", "urlopen", "urllib.request", "urlopen"],
  ["urllib", "urlretrieve", "urllib.request", "urlretrieve"],
  ["urllib2", "HTTPError", "urllib.error", "HTTPError"],
  ["urllib2", "URLError", "urllib.error", "URLError"],
  ["exceptions", "StandardError", "builtins", "Exception"],
  ...PYTHON2_EXCEPTIONS.map((n) => ["exceptions", n, "builtins", n] as const),
  ...MULTIPROCESSING_EXCEPTIONS.map(
    (n) => ["multiprocessing", n, "multiprocessing.context", n] as const,
  ),
];

const NAME_RENAMES: ReadonlyMap<string, ReadonlyMap<string, Importable>> = (() => {
  const byModule = new Map<string, Map<string, Importable>>();
  for (const [fromModule, fromName, module, name] of PYTHON2_NAME_RENAMES) {
    let names = byModule.get(fromModule);
    if (names === undefined) {
      names = new Map();
      byModule.set(fromModule, names);
    }
    names.set(fromName, { module, name });
  }
  return byModule;
})();

/**
 * The name Python 3 actually loads for a protocol 0–2 pickle's `module`/`name`, or `null` when the
 * mapping leaves it unchanged. Per-name renames win over module renames, as in `Unpickler.find_class`.
 */
export function mapPython2Name(module: string, name: string): Importable | null {
  const renamed = NAME_RENAMES.get(module)?.get(name);
  if (renamed !== undefined) return renamed;
  const renamedModule = PYTHON2_MODULE_RENAMES.get(module);
  if (renamedModule !== undefined) return { module: renamedModule, name };
  return null;
}

/** Module renames that are two-way in CPython (the pickler writes them too). */
const MUTUAL_MODULES: ReadonlySet<string> = new Set(["__builtin__", "copy_reg"]);

/**
 * Python 2 spellings a Python 3 pickler writes at protocol < 3 for the given Python 3 module:
 * `builtins` → `__builtin__`, `copyreg` → `copy_reg` (the only renamed modules with allowlisted names).
 */
export function python2ModuleSpellings(module: string): string[] {
  const out: string[] = [];
  for (const [from, to] of PYTHON2_MODULE_RENAMES) {
    if (to === module && MUTUAL_MODULES.has(from)) out.push(from);
  }
  return out;
}
