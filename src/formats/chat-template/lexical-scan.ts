import type { LocalFinding } from "../../core/finding.js";
import { DANGEROUS_NAMES, DUNDER_IN_TEXT, GATEWAY_NAMES, isDunder } from "./names.js";
import { CHAT_TEMPLATE_RULES } from "./rules.js";
import type { StringLiteral, TemplateSource } from "./template-source.js";

const MAX_LISTED = 6;

/**
 * The fallback when a template cannot be parsed (or walked to the end): the identifiers in its
 * code regions and the decoded values of its string literals, judged by name alone. A sandbox
 * gateway name (or a dunder together with a command runner) there is critical; any other dunder
 * is high. Text and comments are not scanned: Jinja2 never evaluates them.
 */
export function lexicalFindings(source: TemplateSource): LocalFinding[] {
  const names = new Set<string>();
  for (const region of source.regions) {
    if (region.kind === "code") {
      const code = source.text.slice(region.start, region.end);
      for (const m of code.matchAll(/[A-Za-z_][A-Za-z0-9_]*/g)) names.add(m[0]);
    } else if (region.kind === "string") {
      const value = (region as StringLiteral).value;
      for (const m of value.matchAll(/[A-Za-z_][A-Za-z0-9_]*/g)) names.add(m[0]);
      const dunder = DUNDER_IN_TEXT.exec(value);
      if (dunder) names.add(dunder[0]);
    }
  }
  const gateways = [...names].filter((n) => GATEWAY_NAMES.has(n));
  const dunders = [...names].filter((n) => isDunder(n) && !GATEWAY_NAMES.has(n));
  const dangers = [...names].filter((n) => DANGEROUS_NAMES.has(n));
  const list = (xs: string[]) => xs.slice(0, MAX_LISTED).join(", ");
  if (gateways.length > 0 || (dunders.length > 0 && dangers.length > 0)) {
    const rule = CHAT_TEMPLATE_RULES.sandboxEscape;
    return [
      {
        rule: rule.id,
        severity: rule.severity,
        message: `The template's code names ${list([...gateways, ...dunders, ...dangers])}: the parts of a Jinja sandbox escape (from any object to Python's globals, builtins or class list). It could not be parsed, so this is judged from the names alone.`,
        evidence: { pseudocode: list([...gateways, ...dunders, ...dangers]) },
        references: ["CVE-2024-34359"],
      },
    ];
  }
  if (dunders.length > 0) {
    const rule = CHAT_TEMPLATE_RULES.suspicious;
    return [
      {
        rule: rule.id,
        severity: rule.severity,
        message: `The template's code names Python internals (${list(dunders)}), which no chat template needs. It could not be parsed, so this is judged from the names alone.`,
        evidence: { pseudocode: list(dunders) },
      },
    ];
  }
  return [];
}
