/**
 * What the Python source analyser knows about callables, as data (STYLE.md: data apart from
 * mechanism). Names are fully qualified after import aliases are resolved (`sp.run` with
 * `import subprocess as sp` is `subprocess.run`). A trailing `*` matches any name that starts so
 * (`os.exec*` is `os.execv`, `os.execlp`, …).
 */

export type CallCategory = "process" | "dynamic-code" | "network" | "file-write" | "unsafe-load";

export interface CallEntry {
  name: string;
  category: CallCategory;
  /** What calling it does, in the user's terms. */
  does: string;
}

const entries = (category: CallCategory, does: string, names: readonly string[]): CallEntry[] =>
  names.map((name) => ({ name, category, does }));

export const PYTHON_CALLS: readonly CallEntry[] = Object.freeze([
  ...entries("process", "runs a shell command", [
    "os.system",
    "os.popen",
    "os.popen2",
    "os.popen3",
    "os.popen4",
    "subprocess.getoutput",
    "subprocess.getstatusoutput",
    "commands.getoutput",
    "commands.getstatusoutput",
    "platform.popen",
    "asyncio.create_subprocess_shell",
  ]),
  ...entries("process", "runs a program", [
    "os.exec*",
    "os.spawn*",
    "os.posix_spawn",
    "os.posix_spawnp",
    "os.startfile",
    "subprocess.run",
    "subprocess.call",
    "subprocess.check_call",
    "subprocess.check_output",
    "subprocess.Popen",
    "pty.spawn",
    "asyncio.create_subprocess_exec",
    "_posixsubprocess.fork_exec",
  ]),
  ...entries("dynamic-code", "runs Python code given as data", [
    "builtins.exec",
    "builtins.eval",
    "builtins.execfile",
    "runpy.run_path",
    "runpy.run_module",
    "code.InteractiveInterpreter",
    "code.InteractiveConsole",
    "code.interact",
  ]),
  ...entries("dynamic-code", "compiles Python code from data", ["builtins.compile"]),
  ...entries("dynamic-code", "builds code or functions from raw bytecode", [
    "marshal.loads",
    "marshal.load",
    "types.FunctionType",
    "types.CodeType",
    "types.LambdaType",
  ]),
  ...entries("dynamic-code", "imports a module by a call", [
    "builtins.__import__",
    "importlib.__import__",
  ]),
  ...entries("dynamic-code", "loads a native library", [
    "ctypes.CDLL",
    "ctypes.PyDLL",
    "ctypes.WinDLL",
    "ctypes.OleDLL",
    "ctypes.cdll.LoadLibrary",
    "ctypes.pydll.LoadLibrary",
    "ctypes.windll.LoadLibrary",
  ]),
  ...entries("network", "opens a network connection", [
    "socket.socket",
    "socket.create_connection",
    "socket.create_server",
    "socket.socketpair",
    "socket.fromfd",
    "urllib.request.urlopen",
    "urllib.request.urlretrieve",
    "urllib.request.Request",
    "urllib.request.build_opener",
    "urllib.urlopen",
    "urllib.urlretrieve",
    "urllib2.urlopen",
    "urllib2.Request",
    "requests.get",
    "requests.post",
    "requests.put",
    "requests.patch",
    "requests.delete",
    "requests.head",
    "requests.options",
    "requests.request",
    "requests.Session",
    "requests.session",
    "http.client.HTTPConnection",
    "http.client.HTTPSConnection",
    "httplib.HTTPConnection",
    "httplib.HTTPSConnection",
    "httpx.get",
    "httpx.post",
    "httpx.put",
    "httpx.patch",
    "httpx.delete",
    "httpx.request",
    "httpx.stream",
    "httpx.Client",
    "httpx.AsyncClient",
    "aiohttp.ClientSession",
    "aiohttp.request",
    "ftplib.FTP",
    "ftplib.FTP_TLS",
    "smtplib.SMTP",
    "smtplib.SMTP_SSL",
    "telnetlib.Telnet",
    "paramiko.SSHClient",
    "websocket.create_connection",
    "websockets.connect",
  ]),
  ...entries("file-write", "deletes a directory tree", ["shutil.rmtree"]),
  ...entries("unsafe-load", "unpickles data, which can run code", [
    "pickle.load",
    "pickle.loads",
    "pickle.Unpickler",
    "dill.load",
    "dill.loads",
    "cloudpickle.load",
    "cloudpickle.loads",
    "joblib.load",
    "shelve.open",
    "pandas.read_pickle",
    "jsonpickle.decode",
    "yaml.unsafe_load",
    "yaml.unsafe_load_all",
  ]),
]);

/** Module names that mean the same module (`posix.system` is `os.system`). */
export const MODULE_SYNONYMS: Readonly<Record<string, string>> = Object.freeze({
  posix: "os",
  nt: "os",
  __builtin__: "builtins",
  __builtins__: "builtins",
  _pickle: "pickle",
  cPickle: "pickle",
  _io: "io",
  np: "numpy",
});

/** Builtins the analyser follows when a bare name is not bound in the file. */
export const BUILTIN_NAMES: ReadonlySet<string> = new Set([
  "exec",
  "eval",
  "execfile",
  "compile",
  "__import__",
  "open",
  "getattr",
  "chr",
  "globals",
  "vars",
  "locals",
  "__builtins__",
]);

/** Calls that decode, decompress or unscramble data: fed to exec/eval they hide code. */
export const DECODERS: ReadonlySet<string> = new Set([
  "base64.b64decode",
  "base64.b32decode",
  "base64.b32hexdecode",
  "base64.b16decode",
  "base64.a85decode",
  "base64.b85decode",
  "base64.decodebytes",
  "base64.decodestring",
  "base64.standard_b64decode",
  "base64.urlsafe_b64decode",
  "binascii.a2b_base64",
  "binascii.a2b_hex",
  "binascii.unhexlify",
  "bytes.fromhex",
  "codecs.decode",
  "zlib.decompress",
  "gzip.decompress",
  "bz2.decompress",
  "lzma.decompress",
  "marshal.loads",
  "builtins.chr",
]);

/** Calls that open a file for reading or writing: `open(path, mode)`. */
export const FILE_OPENERS: ReadonlySet<string> = new Set([
  "builtins.open",
  "io.open",
  "codecs.open",
]);

/** Calls that delete a path given as their first argument. */
export const FILE_REMOVERS: ReadonlySet<string> = new Set([
  "os.remove",
  "os.unlink",
  "os.rmdir",
  "os.removedirs",
]);

/** Modules whose attributes, fetched by a computed name, reach dangerous callables. */
export const SENSITIVE_MODULES: ReadonlySet<string> = new Set([
  "builtins",
  "os",
  "subprocess",
  "sys",
  "importlib",
  "socket",
  "pickle",
  "marshal",
  "ctypes",
  "pty",
  "shutil",
]);

/** The entry for a qualified name, exact names first, then `*` prefixes. */
export function lookupCall(name: string): CallEntry | undefined {
  const exact = EXACT.get(name);
  if (exact) return exact;
  for (const entry of PREFIXES) {
    if (
      name.startsWith(entry.name.slice(0, -1)) &&
      !name.slice(entry.name.length - 1).includes(".")
    ) {
      return entry;
    }
  }
  return undefined;
}

const EXACT = new Map(PYTHON_CALLS.filter((e) => !e.name.endsWith("*")).map((e) => [e.name, e]));
const PREFIXES = PYTHON_CALLS.filter((e) => e.name.endsWith("*"));
