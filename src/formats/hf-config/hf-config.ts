import type { LocalFinding } from "../../core/finding.js";
import { analyseTemplateFile } from "../chat-template/index.js";
import type { Analysis, Artifact, FormatAnalyser, Probe } from "../types.js";
import { isJsonObject, type JsonObject } from "./parse-json.js";
import { byteOffsetOf, jsonObjectHead, readJsonArtifact } from "./read-json.js";
import { autoMapReferences, remoteCodeFindings } from "./remote-code.js";

/**
 * Top-level keys that mark a Hugging Face config: model configs (`config.json`), tokenizer,
 * processor and feature-extractor configs, and anything with `auto_map`/`custom_pipelines`.
 */
export const HF_CONFIG_KEYS: readonly string[] = Object.freeze([
  "model_type",
  "architectures",
  "auto_map",
  "_name_or_path",
  "transformers_version",
  "custom_pipelines",
  "tokenizer_class",
  "processor_class",
  "feature_extractor_type",
  "image_processor_type",
]);

const KEY_IN_HEAD = new RegExp(`"(?:${HF_CONFIG_KEYS.join("|")})"\\s*:`);

/** A JSON object whose head names one of {@link HF_CONFIG_KEYS} as a key. */
export function detectHfConfig(probe: Probe): boolean {
  const text = jsonObjectHead(probe.head);
  return text !== null && KEY_IN_HEAD.test(text);
}

/**
 * Parses the config (bounded, prototype-safe, Python's JSON dialect) and reports the code
 * `trust_remote_code=True` would run. JSON whose top level has none of the marker keys after all
 * is `notThisFormat`.
 */
export async function analyseHfConfig(artifact: Artifact): Promise<Analysis> {
  const read = await readJsonArtifact(artifact);
  if (!read.ok) {
    return {
      format: "hf-config",
      findings: read.findings,
      children: [],
      ...(read.unanalysable ? { unanalysable: true } : {}),
    };
  }
  const config = read.value;
  if (!isJsonObject(config) || !HF_CONFIG_KEYS.some((k) => config.has(k))) {
    return { format: "hf-config", findings: [], children: [], notThisFormat: true };
  }
  const findings: LocalFinding[] = remoteCodeFindings(config).map((f) => {
    const key = f.rule === "hf.remote-code" ? keyOf(config, f) : "trust_remote_code";
    const at = read.text.lastIndexOf(`"${key}"`);
    return at < 0 ? f : { ...f, offset: byteOffsetOf(read.text, at) };
  });
  const details = detailsOf(config);
  // tokenizer_config.json often holds the chat template too; this analyser claims the file, so it
  // must vet the template as the chat-template analyser would.
  if (config.has("chat_template")) {
    const templates = analyseTemplateFile(read.bytes);
    findings.push(...templates.findings);
    details.chatTemplates = templates.templates;
  }
  return { format: "hf-config", findings, children: [], details };
}

function keyOf(config: JsonObject, f: LocalFinding): string {
  const refs = autoMapReferences(config);
  const match = refs.find((r) => f.message.includes(r.key));
  return match?.key.split(".")[0] ?? "auto_map";
}

function detailsOf(config: JsonObject): Record<string, string | number | boolean> {
  const details: Record<string, string | number | boolean> = {};
  for (const key of ["model_type", "transformers_version", "tokenizer_class", "processor_class"]) {
    const value = config.get(key);
    if (typeof value === "string") details[key] = value.slice(0, 200);
  }
  const architectures = config.get("architectures");
  if (Array.isArray(architectures)) {
    details.architectures = architectures
      .filter((a) => typeof a === "string")
      .join(", ")
      .slice(0, 200);
  }
  details.remoteCodeReferences = autoMapReferences(config).length;
  return details;
}

export const hfConfigFormat: FormatAnalyser = {
  id: "hf-config",
  version: 1,
  description:
    "Hugging Face configs (config.json, tokenizer_config.json, processor configs): auto_map and custom pipelines that trust_remote_code runs",
  detect: detectHfConfig,
  analyse: analyseHfConfig,
};
