import { readAll } from "../../core/byte-source.js";
import type { Analysis, Artifact, FormatAnalyser } from "../types.js";
import { CHAT_TEMPLATE_RULES } from "./rules.js";
import { analyseTemplateFile, detectChatTemplate } from "./template-files.js";

/** Largest chat-template file read (tokenizer_config.json with a big added-token table is a few MB). */
export const MAX_CHAT_TEMPLATE_FILE_BYTES = 64 * 1024 * 1024;

/**
 * `tokenizer_config.json` / `chat_template.json` (JSON with `chat_template`) and raw
 * `chat_template.jinja` files: every template is analysed statically (`analyseChatTemplate`). A
 * JSON file that turns out to hold no template is not this format.
 */
export async function analyseChatTemplateFile(artifact: Artifact): Promise<Analysis> {
  const { source } = artifact;
  if (source.size > MAX_CHAT_TEMPLATE_FILE_BYTES) {
    const rule = CHAT_TEMPLATE_RULES.limitsExceeded;
    return {
      format: "chat-template",
      findings: [
        {
          rule: rule.id,
          severity: rule.severity,
          message: `The file is ${source.size} bytes, more than the ${MAX_CHAT_TEMPLATE_FILE_BYTES} read for a chat template; it was not analysed.`,
        },
      ],
      children: [],
      unanalysable: true,
    };
  }
  const result = analyseTemplateFile(await readAll(source));
  if (result.noTemplate)
    return { format: "chat-template", findings: [], children: [], notThisFormat: true };
  return {
    format: "chat-template",
    findings: result.findings,
    children: [],
    details: { kind: result.kind, templates: result.templates },
  };
}

export const chatTemplateFormat: FormatAnalyser = {
  id: "chat-template",
  version: 1,
  description:
    "Jinja chat templates (tokenizer_config.json, chat_template.json, chat_template.jinja), analysed without rendering",
  detect: detectChatTemplate,
  analyse: analyseChatTemplateFile,
};

export {
  analyseChatTemplate,
  type ChatTemplateOptions,
  MAX_CHAT_TEMPLATE_CHARS,
} from "./analyse-chat-template.js";
export { CHAT_TEMPLATE_RULES, type ChatTemplateRule, type ChatTemplateRuleKey } from "./rules.js";
export {
  analyseTemplateFile,
  detectChatTemplate,
  type TemplateFileResult,
} from "./template-files.js";
