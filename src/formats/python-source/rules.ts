import type { RatedRule } from "../../core/rule-info.js";

/** A rule this module can report: stable id, default severity, one line for docs/rules.md. */
export type PythonRule = RatedRule;

/**
 * Rules of the Python source analyser (`.py` files of a model repository, TorchServe handlers).
 * A call that runs when the module is *imported* (top level or class body, not inside a function
 * or an `if __name__ == "__main__":` block) is raised one step, to `critical` for process and
 * dynamic code: `trust_remote_code=True` and TorchServe import these files.
 */
export const PYTHON_RULES = Object.freeze({
  process: {
    id: "python.process",
    severity: "high",
    description:
      "Runs a program or shell command (`os.system`, `os.popen`, `subprocess.*`, `pty.spawn`, `os.exec*`/`spawn*`); critical when it runs on import.",
  },
  dynamicCode: {
    id: "python.dynamic-code",
    severity: "high",
    description:
      "Runs or builds code at run time (`exec`, `eval`, `compile`, `__import__`, `importlib.import_module` of a computed name, `marshal.loads`, `types.FunctionType`, `ctypes` libraries); critical when it runs on import.",
  },
  network: {
    id: "python.network",
    severity: "medium",
    description:
      "Opens network connections (`socket`, `urllib.request`, `requests`, `http.client`, …); high when it runs on import.",
  },
  fileWrite: {
    id: "python.file-write",
    severity: "high",
    description:
      "Writes or deletes files outside the repository (`open` of an absolute or `..` path for writing, `shutil.rmtree`, removal of absolute paths).",
  },
  obfuscation: {
    id: "python.obfuscation",
    severity: "critical",
    description:
      "Hides code: `exec`/`eval` of decoded or decompressed data (`base64`, `zlib`, `codecs` rot13, hex, `chr()` strings), or names computed to reach builtins; critical when fed to exec/eval, high otherwise.",
  },
  unsafeLoad: {
    id: "python.unsafe-load",
    severity: "medium",
    description:
      "Deserialises with a loader that can run code (`pickle.load`, `torch.load` without `weights_only=True`, `numpy.load(allow_pickle=True)`, `yaml.load` without a safe loader, `joblib`/`dill`).",
  },
  syntaxError: {
    id: "python.syntax-error",
    severity: "info",
    description:
      "The Python file does not parse (Python would refuse to import it); what could be read was still analysed.",
  },
} satisfies Record<string, PythonRule>);

export type PythonRuleKey = keyof typeof PYTHON_RULES;
