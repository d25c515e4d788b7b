/**
 * Keras Lambda functions: `python_utils.func_dump` stores `marshal.dumps(fn.__code__)` as base64
 * text (`codecs.encode(raw, "base64")`, with a newline every 76 characters), and `func_load` turns
 * it back into a function. Here the text is decoded as `func_load` would, the marshal data read
 * as data, and the names and constants the bytecode uses are reported. Nothing is run.
 */

import type { LocalFinding } from "../../core/finding.js";
import { KNOWN_MODULES } from "../../policy/match.js";
import { readMarshal } from "../marshal/read-marshal.js";
import { type CodeSummary, summariseCode } from "../marshal/summarise-code.js";
import type { ScanContext } from "../types.js";
import { KERAS_RULES } from "./rules.js";

/** Most module candidates × names classified for one lambda (the policy caches verdicts). */
const MAX_PAIR_CANDIDATES = 64;

/** Where a lambda was found, for the message. */
export interface LambdaSite {
  /** Layer name, when known. */
  layer?: string;
  /** Layer class (`Lambda`) or `__lambda__` marker. */
  className: string;
  /** Config key holding the function: `function`, `output_shape`, `mask`. */
  field: string;
  /** `h5` (legacy HDF5), `keras` (Keras 3 config.json), `json` (model.to_json). */
  origin: "h5" | "keras" | "json";
}

/** The base64 text inside a serialized function: a string, `[code, defaults, closure]`, `{code}`. */
export function lambdaCodeText(payload: unknown, depth = 0): string | undefined {
  if (depth > 4) return undefined;
  if (typeof payload === "string") return payload;
  if (Array.isArray(payload)) return lambdaCodeText(payload[0], depth + 1);
  if (payload !== null && typeof payload === "object") {
    const o = payload as Record<string, unknown>;
    if ("code" in o) return lambdaCodeText(o.code, depth + 1);
    if ("value" in o) return lambdaCodeText(o.value, depth + 1);
  }
  return undefined;
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64_VALUE = new Int16Array(128).fill(-1);
for (let i = 0; i < B64.length; i++) B64_VALUE[B64.charCodeAt(i)] = i;

/**
 * `binascii.a2b_base64` in its default (non-strict) mode: characters outside the alphabet are
 * skipped, padding ends the data, a dangling quad is "Incorrect padding". Null on that error.
 */
export function decodeBase64Lenient(text: string): Uint8Array | null {
  const out = new Uint8Array(Math.floor((text.length * 3) / 4) + 3);
  let n = 0;
  let quad = 0;
  let acc = 0;
  let pads = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x3d) {
      // '=': padding completes the quad (2 data chars + "==", or 3 + "=") and ends the data.
      if (quad >= 2 && quad + ++pads >= 4) return out.subarray(0, n);
      continue;
    }
    const v = c < 128 ? B64_VALUE[c]! : -1;
    if (v < 0) continue;
    pads = 0;
    acc = (acc << 6) | v;
    quad++;
    if (quad === 2) out[n++] = (acc >> 4) & 0xff;
    else if (quad === 3) out[n++] = (acc >> 2) & 0xff;
    else if (quad === 4) {
      out[n++] = acc & 0xff;
      quad = 0;
      acc = 0;
    }
  }
  return quad === 0 ? out.subarray(0, n) : null;
}

/**
 * The bytes `func_load` hands to `marshal.loads`: base64 when the text is ASCII base64, else
 * (`UnicodeEncodeError`/`binascii.Error`) the text encoded as `raw_unicode_escape`.
 */
export function funcLoadBytes(text: string): { bytes: Uint8Array; encoding: "base64" | "raw" } {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the ASCII range is the point
  const ascii = /^[\x00-\x7f]*$/.test(text);
  const decoded = ascii ? decodeBase64Lenient(text) : null;
  if (decoded !== null) return { bytes: decoded, encoding: "base64" };
  const parts: number[] = [];
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp < 0x100) parts.push(cp);
    else {
      const esc =
        cp < 0x10000
          ? `\\u${cp.toString(16).padStart(4, "0")}`
          : `\\U${cp.toString(16).padStart(8, "0")}`;
      for (const c of esc) parts.push(c.charCodeAt(0));
    }
  }
  return { bytes: Uint8Array.from(parts), encoding: "raw" };
}

/** Dangerous importables the bytecode can reach, as the policy classes them. */
export function dangerousNames(
  summary: CodeSummary,
  ctx: ScanContext,
  knownModules: ReadonlySet<string> = KNOWN_MODULES,
): string[] {
  const found: string[] = [];
  const isIdent = (s: string) => /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(s);
  const modules = [...summary.names, ...summary.strings]
    .filter((m) => isIdent(m) && knownModules.has(m))
    .slice(0, MAX_PAIR_CANDIDATES);
  const attrs = summary.names.filter(isIdent).slice(0, MAX_PAIR_CANDIDATES);
  for (const m of new Set(modules)) {
    for (const a of attrs) {
      // Dunder names (`__import__`) are builtins, not attributes of the module: checked below.
      if (a === m || a.startsWith("__")) continue;
      if (ctx.policy.classifyGlobal(m, a).class === "dangerous") found.push(`${m}.${a}`);
    }
  }
  for (const a of attrs) {
    if (ctx.policy.classifyGlobal("builtins", a).class === "dangerous") found.push(`builtins.${a}`);
  }
  return [...new Set(found)];
}

function quote(s: string): string {
  return JSON.stringify(s);
}

/** `lambda x: uses __import__, system; constants "os", "touch …"`, cut to the limit. */
export function lambdaPseudocode(summary: CodeSummary, max: number): string {
  const head =
    summary.name === "<lambda>"
      ? `lambda ${summary.args.join(", ")}`.trimEnd()
      : `def ${summary.qualname}(${summary.args.join(", ")})`;
  const parts: string[] = [];
  if (summary.names.length > 0) parts.push(`uses ${summary.names.join(", ")}`);
  const consts = [...summary.strings.map(quote), ...summary.bytes];
  if (consts.length > 0) parts.push(`constants ${consts.join(", ")}`);
  if (summary.nested.length > 0) parts.push(`nested code ${summary.nested.join(", ")}`);
  const text = `${head}: ${parts.length > 0 ? parts.join("; ") : "uses nothing by name"}`;
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * The finding for one serialized Python function: always critical (bytecode runs on load with
 * safe_mode=False and on every call), with what it uses, or why it could not be decoded.
 */
export function lambdaFinding(payload: unknown, site: LambdaSite, ctx: ScanContext): LocalFinding {
  const rule = KERAS_RULES.lambdaLayer;
  const where = `${site.className === "__lambda__" ? "A `__lambda__` function" : `${site.className} layer`}${
    site.layer === undefined ? "" : ` ${quote(site.layer)}`
  } (${site.field})`;
  const when =
    site.origin === "h5"
      ? "Keras runs it when it loads this HDF5 model (tf.keras and Keras 3 before 3.11.3 ignore safe_mode for .h5) and on every call."
      : "Keras runs it when it loads the model with safe_mode=False (or after a safe_mode bypass) and on every call.";
  const references = ["CVE-2024-3660", ...(site.origin === "h5" ? ["CVE-2025-9905"] : [])];
  const text = lambdaCodeText(payload);
  if (text === undefined) {
    return {
      rule: rule.id,
      severity: rule.severity,
      message: `${where} is a serialized Python function whose code is not a string Keras can decode; it is treated as bytecode. ${when}`,
      evidence: { pseudocode: "lambda: <unreadable function>" },
      references,
    };
  }
  const { bytes, encoding } = funcLoadBytes(text);
  const read = readMarshal(bytes);
  if (!read.ok || read.value.value.kind !== "code") {
    const why = read.ok
      ? `it holds a ${read.value.value.kind}, not a code object`
      : read.error.message;
    return {
      rule: rule.id,
      severity: rule.severity,
      message: `${where} carries ${bytes.length} bytes of marshalled Python (${encoding}) that could not be decoded here (${why}); Keras would still hand them to marshal.loads. ${when}`,
      evidence: { pseudocode: "lambda: <undecodable bytecode>" },
      references,
    };
  }
  const summary = summariseCode(read.value.value);
  const danger = dangerousNames(summary, ctx);
  const pseudocode = lambdaPseudocode(summary, ctx.limits.maxPseudocodeLength);
  const uses =
    summary.names.length > 0
      ? `it uses ${summary.names.slice(0, 20).join(", ")}`
      : "it names no globals";
  const dangerText = danger.length > 0 ? ` Dangerous: ${danger.join(", ")}.` : "";
  return {
    rule: rule.id,
    severity: rule.severity,
    message: `${where} is Python bytecode (${summary.codeObjects} code object(s), marshal ${read.value.layout} layout, compiled from ${quote(summary.filename)}): ${uses}.${dangerText} ${when}`,
    evidence: {
      ...(danger[0] === undefined
        ? {}
        : { global: danger.find((d) => !d.startsWith("builtins.")) ?? danger[0] }),
      pseudocode,
    },
    references,
  };
}
