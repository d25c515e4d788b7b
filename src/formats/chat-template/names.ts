/**
 * The names a Jinja sandbox escape needs, as data (kept apart from the walker that uses them).
 * Sources: the classic SSTI chains (`''.__class__.__mro__[1].__subclasses__()`,
 * `cycler.__init__.__globals__.os`, `self._TemplateReference__context`), CVE-2024-34359
 * (llama-cpp-python rendering GGUF chat templates unsandboxed), and what Jinja's own
 * `SandboxedEnvironment` refuses (`is_safe_attribute`: names starting with `_`, function/frame/
 * code/generator internals).
 */

/** Attributes that lead from any object to globals, builtins, every class, or frames: escape gateways. */
export const GATEWAY_NAMES: ReadonlySet<string> = new Set([
  "__globals__",
  "__builtins__",
  "__subclasses__",
  "__import__",
  "__mro__",
  "__base__",
  "__bases__",
  "__code__",
  "__closure__",
  "__func__",
  "__self__",
  "__reduce__",
  "__reduce_ex__",
  "__getattribute__",
  "__loader__",
  "__spec__",
  "_TemplateReference__context",
  "func_globals",
  "func_code",
  "f_globals",
  "f_builtins",
  "f_locals",
  "f_back",
  "gi_frame",
  "gi_code",
  "cr_frame",
  "ag_frame",
  "tb_frame",
  "tb_next",
]);

/** Callables and modules that run commands, code or touch files once reached. */
export const DANGEROUS_NAMES: ReadonlySet<string> = new Set([
  "os",
  "sys",
  "subprocess",
  "popen",
  "Popen",
  "system",
  "spawnl",
  "spawnlp",
  "spawnv",
  "spawnvp",
  "execl",
  "execlp",
  "execv",
  "execve",
  "execvp",
  "eval",
  "exec",
  "compile",
  "open",
  "getattr",
  "setattr",
  "delattr",
  "import",
  "import_module",
  "importlib",
  "builtins",
  "__builtin__",
  "globals",
  "locals",
  "vars",
  "check_output",
  "check_call",
  "getoutput",
  "getstatusoutput",
  "fork",
  "socket",
  "urlopen",
  "load_module",
  "modules",
  "marshal",
  "pickle",
  "shutil",
  "rmtree",
  "unlink",
]);

/**
 * Globals every Jinja environment provides (or Flask adds) that attacks start from:
 * `lipsum.__globals__`, `cycler.__init__.__globals__`, `self._TemplateReference__context`.
 */
export const ESCAPE_ROOTS: ReadonlySet<string> = new Set([
  "self",
  "cycler",
  "joiner",
  "namespace",
  "lipsum",
  "range",
  "dict",
  "loop",
  "caller",
  "varargs",
  "kwargs",
  "config",
  "request",
  "url_for",
  "get_flashed_messages",
  "g",
  "session",
  "super",
]);

/** Dunder (`__x__`) names. */
export function isDunder(name: string): boolean {
  return /^__[A-Za-z0-9_]*[A-Za-z0-9]__$/.test(name) || name === "____";
}

/** Private names (`_x`), which every Jinja sandbox refuses; includes mangled `_Class__attr`. */
export function isPrivate(name: string): boolean {
  return name.startsWith("_");
}

/** A dunder or mangled private name appearing anywhere inside a string (e.g. a format field). */
export const DUNDER_IN_TEXT = /__[A-Za-z][A-Za-z0-9_]*__|_TemplateReference__context/;
