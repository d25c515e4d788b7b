import type { Severity } from "./finding.js";

/** A rule id with a one-line description, for docs/rules.md, SARIF and policy files. */
export interface RuleInfo {
  id: string;
  description: string;
}

/** A rule a format analyser reports at one fixed severity (each format's `rules.ts`). */
export interface RatedRule extends RuleInfo {
  severity: Severity;
}
