import type { Finding, Severity } from "../core/finding.js";
import { severityRank } from "../core/finding.js";
import { allRules, type DocumentedRule } from "../scan/all-rules.js";
import { FingerprintCounter } from "../scan/apply-policy.js";
import type { FileResult, SuppressedFinding } from "../scan/results.js";
import type { ScanReport } from "../scan/scan.js";

/** The OASIS SARIF 2.1.0 schema (errata 01) the log declares and the tests validate against. */
export const SARIF_SCHEMA_URI =
  "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/**
 * Rule help links: none by default. modelvet has no public site of its own yet, and a security
 * report must not send readers to a domain nobody here controls; the help text itself is always
 * in the report. Give `rulesDocUrl` (`--rules-doc-url`) where docs/rules.md is published.
 */

/** `security-severity` per severity: GitHub maps ≥9 to critical, ≥7 high, ≥4 medium, >0 low. */
export const SECURITY_SEVERITY: Readonly<Record<Severity, string>> = {
  critical: "9.5",
  high: "8.0",
  medium: "5.5",
  low: "3.0",
  info: "0.0",
};

export type SarifLevel = "error" | "warning" | "note";

export const SARIF_LEVEL: Readonly<Record<Severity, SarifLevel>> = {
  critical: "error",
  high: "error",
  medium: "warning",
  low: "note",
  info: "note",
};

/** Key of the fingerprint in `partialFingerprints` (see docs/reports.md "Baselines"). */
export const FINGERPRINT_KEY = "modelvet/v1";

export interface SarifOptions {
  /** The rule catalogue rule descriptors are taken from. @default allRules() */
  rules?: readonly DocumentedRule[];
  /** Where docs/rules.md is published; `#<rule id>` is appended. @default no links */
  rulesDocUrl?: string;
}

interface SarifMessage {
  text: string;
  markdown?: string;
}

interface SarifRule {
  id: string;
  name: string;
  shortDescription: SarifMessage;
  fullDescription: SarifMessage;
  help: SarifMessage;
  helpUri?: string;
  defaultConfiguration: { level: SarifLevel };
  properties: { "security-severity": string; tags: string[]; severity: Severity | "varies" };
}

interface SarifLocation {
  physicalLocation: {
    artifactLocation: { uri: string; index: number };
    region?: { byteOffset: number };
  };
  logicalLocations?: {
    name: string;
    fullyQualifiedName: string;
    kind: string;
    properties?: { byteOffset: number };
  }[];
}

interface SarifResult {
  ruleId: string;
  ruleIndex: number;
  level: SarifLevel;
  message: SarifMessage;
  locations: SarifLocation[];
  partialFingerprints: Record<string, string>;
  properties: Record<string, unknown>;
  suppressions?: { kind: "external"; status: "accepted"; justification: string }[];
  baselineState?: "new" | "unchanged";
}

interface SarifArtifact {
  location: { uri: string };
  length: number;
  roles: ["analysisTarget"];
  hashes?: { "sha-256": string };
  properties: { format: string | null; verdict: string };
}

export interface SarifLog {
  $schema: string;
  version: "2.1.0";
  runs: [
    {
      tool: {
        driver: {
          name: "modelvet";
          version: string;
          semanticVersion: string;
          informationUri?: string;
          rules: SarifRule[];
        };
      };
      artifacts: SarifArtifact[];
      results: SarifResult[];
      columnKind: "unicodeCodePoints";
      properties: Record<string, unknown>;
    },
  ];
}

/** The report as a SARIF 2.1.0 log (GitHub code scanning and other SARIF viewers). */
export function writeSarif(report: ScanReport, options: SarifOptions = {}): string {
  return `${JSON.stringify(toSarif(report, options), null, 2)}\n`;
}

/** The SARIF log as an object (see {@link writeSarif}). */
export function toSarif(report: ScanReport, options: SarifOptions = {}): SarifLog {
  const catalogue = new Map((options.rules ?? allRules()).map((r) => [r.id, r]));
  const docUrl = options.rulesDocUrl;
  const rules: SarifRule[] = [];
  const ruleIndex = new Map<string, number>();
  const worst = new Map<string, Severity>();
  const results: SarifResult[] = [];
  const counter = new FingerprintCounter();

  const artifacts = report.files.map((file): SarifArtifact => {
    const artifact: SarifArtifact = {
      location: { uri: toUri(file.path) },
      length: file.size,
      roles: ["analysisTarget"],
      properties: { format: file.format, verdict: file.verdict },
    };
    if (file.sha256 !== undefined) artifact.hashes = { "sha-256": file.sha256 };
    return artifact;
  });

  const add = (file: FileResult, index: number, f: Finding | SuppressedFinding) => {
    let i = ruleIndex.get(f.rule);
    if (i === undefined) {
      i = rules.length;
      ruleIndex.set(f.rule, i);
      rules.push(ruleDescriptor(f.rule, catalogue.get(f.rule), docUrl));
    }
    const seen = worst.get(f.rule);
    if (seen === undefined || severityRank(f.severity) > severityRank(seen)) {
      worst.set(f.rule, f.severity);
    }
    const result: SarifResult = {
      ruleId: f.rule,
      ruleIndex: i,
      level: SARIF_LEVEL[f.severity],
      message: message(f),
      locations: [location(f, artifacts[index]!.location.uri, index)],
      partialFingerprints: { [FINGERPRINT_KEY]: counter.next(f, file) },
      properties: resultProperties(f, file),
    };
    if ("suppression" in f) {
      result.suppressions = [
        { kind: "external", status: "accepted", justification: f.suppression.reason },
      ];
    }
    if (report.baseline !== undefined) {
      result.baselineState =
        "suppression" in f && f.suppression.kind === "baseline" ? "unchanged" : "new";
    }
    results.push(result);
  };

  report.files.forEach((file, index) => {
    for (const f of file.findings) add(file, index, f);
    // Suppressed findings have their own fingerprint numbering: they were counted before.
    for (const f of file.suppressed ?? []) add(file, index, f);
  });

  // A rule's level and security-severity follow the worst result of this run (policy files can
  // override severities, and some rules have none of their own).
  for (const rule of rules) {
    const severity = worst.get(rule.id)!;
    rule.defaultConfiguration.level = SARIF_LEVEL[severity];
    rule.properties["security-severity"] = SECURITY_SEVERITY[severity];
  }

  const properties: Record<string, unknown> = { summary: report.summary };
  if (report.policy !== undefined) properties.policy = report.policy;
  return {
    $schema: SARIF_SCHEMA_URI,
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "modelvet",
            version: report.tool.version,
            semanticVersion: report.tool.version,
            rules,
          },
        },
        artifacts,
        results,
        columnKind: "unicodeCodePoints",
        properties,
      },
    ],
  };
}

function ruleDescriptor(
  id: string,
  rule: DocumentedRule | undefined,
  docUrl: string | undefined,
): SarifRule {
  const description = rule?.description ?? `modelvet rule ${id}.`;
  const severity = rule?.severity ?? "varies";
  return {
    id,
    name: id
      .split(/[.-]/)
      .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
      .join(""),
    shortDescription: { text: firstSentence(description) },
    fullDescription: { text: description },
    help: {
      text: `${description}\n\nUsual severity: ${severity}.${docUrl ? ` See ${docUrl}#${id}` : ""}`,
      markdown: `**\`${id}\`** (usual severity: ${severity})\n\n${description}${docUrl ? `\n\n[Rule documentation](${docUrl}#${id})` : ""}`,
    },
    ...(docUrl ? { helpUri: `${docUrl}#${id}` } : {}),
    defaultConfiguration: { level: "warning" },
    properties: { "security-severity": "0.0", tags: ["security", "machine-learning"], severity },
  };
}

/** Up to the first full stop that ends a sentence (not the one in "e.g. `x`"). */
function firstSentence(text: string): string {
  const end = text.search(/(?<!\b(?:e\.g|i\.e))\.(?=\s+[A-Z]|$)/);
  return end < 0 ? text : text.slice(0, end + 1);
}

function message(f: Finding): SarifMessage {
  const pseudocode = f.evidence?.pseudocode;
  const text =
    pseudocode === undefined ? f.message : `${f.message}\nLoading would run: ${pseudocode}`;
  let markdown = escapeMarkdown(f.message);
  if (pseudocode !== undefined) markdown += `\n\nLoading would run:\n\n${codeBlock(pseudocode)}`;
  return { text, markdown };
}

function location(f: Finding, uri: string, index: number): SarifLocation {
  const loc: SarifLocation = { physicalLocation: { artifactLocation: { uri, index } } };
  const member = f.location.member ?? [];
  const offset = f.location.offset;
  if (member.length === 0) {
    if (offset !== undefined) loc.physicalLocation.region = { byteOffset: offset };
  } else {
    // The offset is inside the innermost member, not the file: it goes with the member.
    const logical: NonNullable<SarifLocation["logicalLocations"]>[number] = {
      name: member.at(-1)!,
      fullyQualifiedName: member.join("/"),
      kind: "resource",
    };
    if (offset !== undefined) logical.properties = { byteOffset: offset };
    loc.logicalLocations = [logical];
  }
  return loc;
}

function resultProperties(f: Finding, file: FileResult): Record<string, unknown> {
  const props: Record<string, unknown> = { severity: f.severity, verdict: file.verdict };
  if (f.evidence?.global !== undefined) props.global = f.evidence.global;
  if (f.evidence?.opcode !== undefined) props.opcode = f.evidence.opcode;
  if (f.evidence?.pseudocode !== undefined) props.pseudocode = f.evidence.pseudocode;
  if (f.references !== undefined && f.references.length > 0) props.references = f.references;
  return props;
}

/** Backslash-escapes every character Markdown could read as markup (text comes from files). */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()<>#+\-.!|~&]/g, "\\$&");
}

/** A fenced block longer than any backtick run inside, so hostile text cannot close it. */
function codeBlock(text: string): string {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = "`".repeat(Math.max(3, longest + 1));
  return `${fence}python\n${text}\n${fence}`;
}

/**
 * A scanned path as a URI reference: relative paths stay relative (GitHub resolves them against
 * the checkout), absolute ones become `file://` URIs, each segment percent-encoded.
 */
export function toUri(path: string): string {
  const p = path.replaceAll("\\", "/");
  const encode = (s: string) => s.split("/").map(encodeURIComponent).join("/");
  if (/^[A-Za-z]:\//.test(p)) return `file:///${p.slice(0, 2)}${encode(p.slice(2))}`;
  if (p.startsWith("/")) return `file://${encode(p)}`;
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(p)) return encodeURI(p);
  return encode(p.replace(/^(\.\/)+/, ""));
}
