/**
 * Keras JSON: the `config.json` and `metadata.json` of a Keras 3 `.keras` archive (the zip
 * analyser hands them over as members; they are recognised here by content), and
 * `model.to_json()` files. HDF5 models (`.h5`, Keras 2 `.keras`) are read by formats/hdf5, which
 * calls {@link checkKerasConfig} on their `model_config` and `training_config` attributes.
 */

import { readAll } from "../../core/byte-source.js";
import type { LocalFinding } from "../../core/finding.js";
import type { Analysis, Artifact, FormatAnalyser, Probe, ScanContext } from "../types.js";
import { checkKerasConfig, type KerasConfigStats } from "./check-config.js";
import { detectKerasJson } from "./detect-json.js";
import { KERAS_RULES } from "./rules.js";

/** Largest Keras JSON parsed (also bounded by `limits.maxMemberBytes`). */
export const KERAS_MAX_JSON_BYTES = 64 * 1024 * 1024;

/** A Keras config or metadata JSON object at the start of the bytes. */
export function detectKerasConfig(probe: Probe): boolean {
  return detectKerasJson(probe.head) !== null;
}

/** `keras.unreadable`, with the message given. */
export function unreadableFinding(message: string): LocalFinding {
  const rule = KERAS_RULES.unreadable;
  return { rule: rule.id, severity: rule.severity, message };
}

/** Parses JSON text as Keras does (`json.loads`); an error value for anything else. */
export function parseKerasJson(
  bytes: Uint8Array,
): { ok: true; value: unknown } | { ok: false; error: string } {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return { ok: false, error: "it is not valid UTF-8" };
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  try {
    // JSON.parse makes `__proto__` an own data property: no prototype is ever changed.
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message : String(e) };
  }
}

/** Report facts for `details`. */
export function statsDetails(stats: KerasConfigStats): Record<string, string | number | boolean> {
  return {
    ...(stats.rootClass === undefined ? {} : { modelClass: stats.rootClass.slice(0, 200) }),
    objects: stats.objects,
    lambdas: stats.lambdas,
    customObjects: stats.customObjects,
    unsafeReferences: stats.unsafeReferences,
  };
}

export async function analyseKerasConfig(artifact: Artifact, ctx: ScanContext): Promise<Analysis> {
  const { source } = artifact;
  const limit = Math.min(KERAS_MAX_JSON_BYTES, ctx.limits.maxMemberBytes);
  const head = await source.read(0, Math.min(source.size, 64 * 1024));
  const kind = detectKerasJson(head) ?? "config";
  const format = kind === "metadata" ? "keras-metadata" : "keras-config";
  if (source.size > limit) {
    return {
      format,
      findings: [
        unreadableFinding(
          `This Keras JSON is ${source.size} bytes, more than the ${limit} modelvet parses: the model config was not vetted.`,
        ),
      ],
      children: [],
      unanalysable: true,
    };
  }
  const parsed = parseKerasJson(await readAll(source));
  if (!parsed.ok) {
    return {
      format,
      findings: [
        unreadableFinding(
          `This looks like Keras JSON but cannot be parsed (${parsed.error}): Keras would refuse it too, but nothing in it was vetted.`,
        ),
      ],
      children: [],
      unanalysable: true,
    };
  }
  if (kind === "metadata") {
    const meta = parsed.value as Record<string, unknown>;
    const version = typeof meta.keras_version === "string" ? meta.keras_version.slice(0, 100) : "";
    return { format, findings: [], children: [], details: { kerasVersion: version } };
  }
  // Keras 3 writes `module` on every object (config.json); Keras 2's model.to_json() does not.
  const isKeras3 = typeof (parsed.value as Record<string, unknown>).module === "string";
  const report = checkKerasConfig(parsed.value, ctx, {
    origin: isKeras3 ? "keras" : "json",
    source: "The Keras model config",
  });
  return { format, findings: report.findings, children: [], details: statsDetails(report.stats) };
}

export const kerasConfigFormat: FormatAnalyser = {
  id: "keras-config",
  version: 1,
  description:
    "Keras model configs (config.json and metadata.json of a .keras archive, model.to_json()): Lambda bytecode, custom objects, safe_mode bypasses",
  detect: detectKerasConfig,
  analyse: analyseKerasConfig,
};

export {
  checkKerasConfig,
  KERAS_MAX_CONFIG_DEPTH,
  KERAS_MAX_CONFIG_NODES,
  type KerasConfigOptions,
  type KerasConfigReport,
  type KerasConfigStats,
} from "./check-config.js";
export {
  decodeBase64Lenient,
  funcLoadBytes,
  type LambdaSite,
  lambdaCodeText,
  lambdaFinding,
} from "./decode-lambda.js";
export { detectKerasJson, type KerasJsonKind, topLevelKeys } from "./detect-json.js";
export {
  isKerasBuiltinClass,
  isKerasOwnModule,
  KERAS_BUILTIN_CLASSES,
  KERAS_BUILTIN_FUNCTIONS,
  KERAS_OWN_PACKAGES,
} from "./known-layers.js";
export { KERAS_RULES, type KerasRule, type KerasRuleKey } from "./rules.js";
export {
  RISKY_TF_OP_PREFIXES,
  UNSAFE_KERAS_REFERENCES,
  type UnsafeKerasReference,
} from "./unsafe-references.js";
