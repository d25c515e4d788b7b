import type { RatedRule } from "../../core/rule-info.js";

/** A rule the chat-template analyser reports: stable id, default severity, one line for docs/rules.md. */
export type ChatTemplateRule = RatedRule;

/** Rules reported for Jinja chat templates (tokenizer_config.json, chat_template.*, GGUF metadata). */
export const CHAT_TEMPLATE_RULES = Object.freeze({
  sandboxEscape: {
    id: "chat-template.sandbox-escape",
    severity: "critical",
    description:
      "The template walks from an object to Python's globals, builtins, class list or a command runner (a Jinja sandbox escape): an unsandboxed renderer runs code (CVE-2024-34359).",
  },
  suspicious: {
    id: "chat-template.suspicious",
    severity: "high",
    description:
      "The template touches Python internals (dunder or private attributes), computes attribute names, or builds dangerous names from pieces: nothing a chat template needs.",
  },
  unparsable: {
    id: "chat-template.unparsable",
    severity: "medium",
    description:
      "The template could not be parsed (or fully walked), so it could not be checked; the names in its code were scanned instead.",
  },
  malformed: {
    id: "chat-template.malformed",
    severity: "medium",
    description:
      "A chat-template file is not what transformers reads (invalid JSON, chat_template of the wrong type, duplicate keys that JSON readers resolve differently).",
  },
  limitsExceeded: {
    id: "limits.exceeded",
    severity: "high",
    description: "A size limit was reached: the template was not parsed (fail closed).",
  },
} as const satisfies Record<string, ChatTemplateRule>);

export type ChatTemplateRuleKey = keyof typeof CHAT_TEMPLATE_RULES;
