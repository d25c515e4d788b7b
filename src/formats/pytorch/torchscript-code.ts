import type { LocalFinding } from "../../core/finding.js";
import { PYTORCH_RULE } from "./rules.js";

/**
 * What TorchScript source (`code/**.py` in a `torch.jit.save` archive) can do beyond tensor maths:
 * touch files, load other models, or call operators from native libraries the loader must have
 * loaded. TorchScript cannot import Python modules, so Python-level escapes are also flagged as
 * an anomaly: `torch.jit.load` would reject them, but a scanner must not trust that.
 */
interface CodePattern {
  pattern: RegExp;
  severity: "high" | "medium";
  what: string;
}

const PATTERNS: readonly CodePattern[] = [
  { pattern: /\bfrom_file\s*\(/, severity: "high", what: "reads an arbitrary file (from_file)" },
  {
    pattern: /\b(?:torch|ops\.aten)\.(?:save|load)\s*\(/,
    severity: "high",
    what: "saves or loads files",
  },
  {
    // getattr(self, "0") with a constant name is ordinary TorchScript (nn.Sequential), so not listed.
    pattern: /\b(?:__import__|exec|eval|compile|open)\s*\(/,
    severity: "high",
    what: "calls a Python built-in TorchScript does not allow",
  },
  {
    pattern: /\b(?:os|subprocess|sys|socket|builtins|importlib)\.\w+/,
    severity: "high",
    what: "names a Python system module",
  },
  {
    pattern: /\bops\.(?!aten\b|prim\b|prims\b|quantized\b|_quantized\b|profiler\b)\w+\.\w+/,
    severity: "medium",
    what: "calls an operator from a custom native library",
  },
  {
    pattern: /\bclasses\.\w+\.\w+/,
    severity: "medium",
    what: "uses a custom TorchScript class from a native library",
  },
];

/** Findings for one TorchScript source file, one per pattern (first match, with its line). */
export function scanTorchScriptSource(text: string): Omit<LocalFinding, "offset">[] {
  const findings: Omit<LocalFinding, "offset">[] = [];
  const lines = text.split("\n");
  for (const { pattern, severity, what } of PATTERNS) {
    const index = lines.findIndex((line) => pattern.test(line));
    if (index < 0) continue;
    const line = lines[index]!.trim().slice(0, 200);
    findings.push({
      rule: PYTORCH_RULE.torchscriptEscape,
      severity,
      message: `TorchScript code ${what} (line ${index + 1}).`,
      evidence: { pseudocode: line },
    });
  }
  return findings;
}
