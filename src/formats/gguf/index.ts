import { sliceSource } from "../../core/byte-source.js";
import type { LocalFinding } from "../../core/finding.js";
import { analyseChatTemplate } from "../chat-template/analyse-chat-template.js";
import type { Analysis, Artifact, Child, FormatAnalyser, Probe } from "../types.js";
import { ggufVersion, readGguf } from "./read-gguf.js";
import { GGUF_RULES } from "./rules.js";

/** The metadata key of the default chat template; named ones are `tokenizer.chat_template.<name>`. */
export const GGUF_CHAT_TEMPLATE_KEY = "tokenizer.chat_template";

/** Keys analysed as Jinja chat templates (not `tokenizer.chat_templates`, the list of names). */
export function isChatTemplateKey(key: string): boolean {
  return key === GGUF_CHAT_TEMPLATE_KEY || key.startsWith(`${GGUF_CHAT_TEMPLATE_KEY}.`);
}
/** Child name for the bytes after the last tensor's data. */
export const GGUF_TRAILING_CHILD = "(bytes after the tensor data)";
const DETAIL_KEYS = new Set(["general.architecture", "general.name"]);

/** `GGUF` then a version 1–3 (little- or big-endian). */
export function detectGguf(probe: Probe): boolean {
  return ggufVersion(probe.head) !== undefined;
}

/**
 * Reads the header, metadata and tensor descriptions (bounded; tensor data is never read),
 * reports what llama.cpp would refuse or read differently, and analyses every
 * `tokenizer.chat_template*` value as a Jinja template: llama-cpp-python rendered these
 * unsandboxed before 0.2.72 (CVE-2024-34359). Bytes after the tensor data are handed back as a
 * child. If the metadata could not be read to the end, a template may have gone unseen: the file
 * is then unanalysable (fail closed).
 */
export async function analyseGguf(artifact: Artifact): Promise<Analysis> {
  const report = await readGguf(artifact.source, {
    readString: (key) => key.startsWith(GGUF_CHAT_TEMPLATE_KEY) || DETAIL_KEYS.has(key),
  });
  const findings: LocalFinding[] = [...report.findings];
  let templates = 0;
  for (const s of report.strings) {
    if (!s.key.startsWith(GGUF_CHAT_TEMPLATE_KEY)) continue;
    templates++;
    for (const f of analyseChatTemplate(s.text)) {
      findings.push({ ...f, message: `GGUF metadata "${s.key}": ${f.message}`, offset: s.offset });
    }
  }
  for (const kv of report.kvs) {
    if (isChatTemplateKey(kv.key) && kv.type !== 8) {
      const rule = GGUF_RULES.malformed;
      findings.push({
        rule: rule.id,
        severity: "medium",
        message: `GGUF metadata "${kv.key}" is not a string (type ${kv.type}); llama.cpp expects a template string here. It was not analysed.`,
        offset: kv.offset,
      });
    }
  }
  const children: Child[] = [];
  if (report.trailing) {
    const { offset, size } = report.trailing;
    const rule = GGUF_RULES.trailingData;
    findings.push({
      rule: rule.id,
      severity: rule.severity,
      message: `${size} byte(s) follow the last tensor's data (from offset ${offset}): no loader reads them. They were analysed as a separate artifact.`,
      offset,
    });
    children.push({
      name: GGUF_TRAILING_CHILD,
      source: sliceSource(artifact.source, offset, size),
    });
  }
  const architecture = report.kvs.find((k) => k.key === "general.architecture")?.value;
  return {
    format: "gguf",
    findings,
    children,
    ...(report.metadataComplete ? {} : { unanalysable: true }),
    details: {
      ...(report.version === undefined ? {} : { version: report.version }),
      littleEndian: report.littleEndian,
      metadataEntries: report.kvs.length,
      tensors: report.tensors.length,
      chatTemplates: templates,
      ...(typeof architecture === "string" ? { architecture: architecture.slice(0, 60) } : {}),
    },
  };
}

export const ggufFormat: FormatAnalyser = {
  id: "gguf",
  version: 1,
  description:
    "GGUF model files (v1–v3): header, metadata and tensor descriptions checked with bounds; chat templates analysed",
  detect: detectGguf,
  analyse: analyseGguf,
};

export { GGML_TYPES, type GgmlType } from "./ggml-types.js";
export {
  GGUF_MAX_ARRAY_DEPTH,
  GGUF_MAX_ARRAY_LENGTH,
  GGUF_MAX_KEY_BYTES,
  GGUF_MAX_KV_COUNT,
  GGUF_MAX_READ_DIMS,
  GGUF_MAX_STRING_BYTES,
  GGUF_MAX_TENSOR_COUNT,
  type GgufKeyValue,
  type GgufReport,
  type GgufString,
  type GgufTensorInfo,
  type GgufVersion,
  ggufVersion,
  type ReadGgufOptions,
  readGguf,
} from "./read-gguf.js";
export { GGUF_RULES, type GgufRule, type GgufRuleKey } from "./rules.js";
