/** A rule id with a one-line description, for docs/rules.md, SARIF and policy files. */
export interface RuleInfo {
  id: string;
  description: string;
}
