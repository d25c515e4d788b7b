import type { LocalFinding } from "../../core/finding.js";
import {
  duplicateEntries,
  type JsonObject,
  type JsonValue,
  parseJson,
} from "../safetensors/strict-json.js";
import type { Probe } from "../types.js";
import { analyseChatTemplate } from "./analyse-chat-template.js";
import { CHAT_TEMPLATE_RULES } from "./rules.js";

/** Bytes of the head (and tail) looked at by `detectChatTemplate`. */
const DETECT_BYTES = 64 * 1024;
/** JSON values kept when reading a tokenizer_config.json (only `chat_template` members are kept). */
const MAX_JSON_VALUES = 100_000;

const DECODER = new TextDecoder("utf-8");

/** A line that starts Python source: such files are left to the Python analyser. */
const PYTHON_SOURCE =
  /^(?:import\s+[\w.]+|from\s+[\w.]+\s+import\s|def\s+\w+\s*\(|class\s+\w+\s*[(:])/m;

function text(bytes: Uint8Array, fromEnd = false): string | undefined {
  const sample = fromEnd
    ? bytes.subarray(Math.max(0, bytes.length - DETECT_BYTES))
    : bytes.subarray(0, DETECT_BYTES);
  if (sample.includes(0)) return undefined;
  return DECODER.decode(sample).replace(/^\ufeff/, "");
}

/** Whether some `"key":` in `json` (a fragment) spells `chat_template`, escapes decoded. */
function namesChatTemplate(json: string): boolean {
  // Cheap pre-check: a key spelling chat_template contains "template" or a \u escape.
  if (!json.includes("template") && !json.includes("\\u")) return false;
  for (const m of json.matchAll(/"((?:[^"\\\n]|\\.){1,200})"\s*:/g)) {
    const raw = m[1]!;
    if (raw === "chat_template") return true;
    if (!raw.includes("\\")) continue;
    try {
      if (JSON.parse(`"${raw}"`) === "chat_template") return true;
    } catch {
      // not a JSON string: ignore
    }
  }
  return false;
}

/**
 * What a Jinja sandbox escape cannot do without (a dunder, an escape spelling one, a name-lookup
 * filter or method, an escape root): a payload-only template has no chat variables, so these
 * count as evidence too.
 */
const ESCAPE_MARKERS =
  /__|\\(?:x|u00|U000|N\{|[0-7]{3})|\battr\b|\blipsum\b|\bcycler\b|\bjoiner\b|\bnamespace\b|\bself\s*[.[]|\brequest\b|\.format\s*\(|\|\s*(?:format|join|reverse)\b|\[\s*::|['"]_['"]/;

/** Raw Jinja (a `chat_template.jinja`): template syntax plus chat variables or escape markers. */
function looksLikeJinja(t: string): boolean {
  return (
    (t.includes("{%") || t.includes("{{")) &&
    (t.includes("messages") || t.includes("add_generation_prompt") || ESCAPE_MARKERS.test(t)) &&
    !PYTHON_SOURCE.test(t)
  );
}

/**
 * Two kinds of text, by content (the file name is never consulted):
 * - a JSON object with a top-level key spelling `chat_template` in its first or last 64 KiB
 *   (`tokenizer_config.json`, `chat_template.json`, `processor_config.json`);
 * - raw Jinja (`chat_template.jinja`): detected heuristically, since raw Jinja has no signature —
 *   text (no NUL bytes) whose first 64 KiB contain `{%` or `{{` and either `messages` or
 *   `add_generation_prompt` (the variables every chat template renders) or a marker no sandbox
 *   escape can do without (`__`, an escape spelling `_`, `attr`, `lipsum`/`cycler`/`joiner`/
 *   `namespace`/`self.`/`request`, `.format(`, `|join`, `|reverse`, `[::`, `'_'`), so that a
 *   payload-only template is not missed; and no line that starts Python source (`import`,
 *   `from … import`, `def`, `class`), which is left to the Python analyser.
 */
export function detectChatTemplate(probe: Probe): boolean {
  const head = text(probe.head);
  if (head === undefined) return false;
  if (head.trimStart().startsWith("{")) {
    if (namesChatTemplate(head)) return true;
    const tail = probe.tail === probe.head ? undefined : text(probe.tail, true);
    if (tail !== undefined && namesChatTemplate(tail)) return true;
  }
  return looksLikeJinja(head);
}

export interface TemplateFileResult {
  kind: "json" | "jinja";
  findings: LocalFinding[];
  templates: number;
  /** True when a JSON file turned out to hold no chat template after all. */
  noTemplate?: boolean;
}

function malformed(message: string, offset?: number): LocalFinding {
  const rule = CHAT_TEMPLATE_RULES.malformed;
  return {
    rule: rule.id,
    severity: rule.severity,
    message,
    ...(offset === undefined ? {} : { offset }),
  };
}

function templateFindings(template: string, offset: number, label: string): LocalFinding[] {
  return analyseChatTemplate(template).map((f) => ({
    ...f,
    message: `${label}: ${f.message}`,
    offset,
  }));
}

/** Every template a `chat_template` value holds: a string, or a list of `{name, template}`. */
function jsonTemplates(
  value: JsonValue,
  out: LocalFinding[],
): { text: string; offset: number; label: string }[] {
  if (value.kind === "string")
    return [{ text: value.value, offset: value.offset, label: "chat_template" }];
  if (value.kind === "array") {
    const found: { text: string; offset: number; label: string }[] = [];
    for (const item of value.items) {
      const template =
        item.kind === "object"
          ? item.entries.findLast((e) => e.key === "template")?.value
          : undefined;
      const name =
        item.kind === "object" ? item.entries.findLast((e) => e.key === "name")?.value : undefined;
      if (template?.kind !== "string") {
        out.push(
          malformed(
            "An entry of the chat_template list has no template string; transformers cannot use it.",
            item.offset,
          ),
        );
        continue;
      }
      found.push({
        text: template.value,
        offset: template.offset,
        label: `chat_template ${name?.kind === "string" ? JSON.stringify(name.value) : "(unnamed)"}`,
      });
    }
    return found;
  }
  out.push(
    malformed(
      `chat_template is a JSON ${value.kind}, not a template string or list; transformers cannot use it.`,
      value.offset,
    ),
  );
  return [];
}

/**
 * Analyses a chat-template file's bytes: a JSON object's top-level `chat_template` values (every
 * copy, should the key be duplicated — Python's json keeps the last), or the whole text as raw
 * Jinja. Never renders anything.
 */
export function analyseTemplateFile(bytes: Uint8Array): TemplateFileResult {
  const start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  const body = bytes.subarray(start);
  const whole = DECODER.decode(body);
  if (whole.trimStart().startsWith("{")) {
    const parsed = parseJson(body, {
      python: true,
      keepMember: (key) => key === "chat_template",
      maxNodes: MAX_JSON_VALUES,
    });
    if (parsed.ok && parsed.value.value.kind === "object") {
      const root: JsonObject = parsed.value.value;
      const members = root.entries.filter((e) => e.key === "chat_template");
      if (members.length === 0)
        return { kind: "json", findings: [], templates: 0, noTemplate: true };
      const findings: LocalFinding[] = [];
      if (duplicateEntries({ ...root, entries: members }).length > 0) {
        findings.push(
          malformed(
            `chat_template appears ${members.length} times: Python's json keeps the last, other readers may keep the first. Every copy was analysed.`,
            start + members[1]!.keyOffset,
          ),
        );
      }
      let templates = 0;
      for (const m of members) {
        for (const t of jsonTemplates(m.value, findings)) {
          templates++;
          findings.push(...templateFindings(t.text, start + t.offset, t.label));
        }
      }
      return { kind: "json", findings, templates };
    }
    if (!looksLikeJinja(whole)) {
      const error = parsed.ok
        ? "the top level is not an object"
        : `${parsed.error.message} at byte ${start + parsed.error.offset}`;
      return {
        kind: "json",
        findings: [
          malformed(
            `The file names chat_template but is not valid JSON (${error}); transformers cannot load it.`,
          ),
        ],
        templates: 0,
      };
    }
  }
  return { kind: "jinja", findings: analyseChatTemplate(whole), templates: 1 };
}
