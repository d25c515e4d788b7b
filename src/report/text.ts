import { atLeast, type Finding, type Severity } from "../core/finding.js";
import type { Verdict } from "../core/verdict.js";
import type { FileResult, RepositoryInfo, SuppressedFinding } from "../scan/results.js";
import type { ScanReport } from "../scan/scan.js";

export interface TextOptions {
  /** ANSI colours (the CLI turns them on for a terminal without NO_COLOR). @default false */
  color?: boolean;
  /**
   * Also list files that are not models, info findings, and findings set aside by the policy
   * file or a baseline. @default false
   */
  verbose?: boolean;
  /**
   * Only files with a finding at or above `failOn` (or that could not be analysed), and only
   * those findings, then the summary. Wins over `verbose`. @default false
   */
  quiet?: boolean;
  /** The threshold `quiet` keeps. @default "medium" */
  failOn?: Severity | "none";
}

const ANSI = {
  red: "31",
  yellow: "33",
  green: "32",
  magenta: "35",
  dim: "2",
  bold: "1",
} as const;
type Style = keyof typeof ANSI;

const VERDICT_STYLE: Record<Verdict, Style> = {
  malicious: "red",
  suspicious: "yellow",
  error: "magenta",
  safe: "green",
};

const SEVERITY_STYLE: Record<Severity, Style> = {
  critical: "red",
  high: "red",
  medium: "yellow",
  low: "dim",
  info: "dim",
};

/** The human report: files grouped with their findings, then a one-line summary. */
export function writeText(report: ScanReport, options: TextOptions = {}): string {
  const paint = (style: Style, text: string) =>
    options.color ? `\u001b[${ANSI[style]}m${text}\u001b[0m` : text;
  const verbose = options.verbose === true && options.quiet !== true;
  const failOn = options.failOn ?? "medium";
  const counts = (f: Finding) =>
    options.quiet
      ? failOn !== "none" && atLeast(f.severity, failOn)
      : verbose || f.severity !== "info";
  const lines: string[] = [];
  for (const file of report.files) {
    const shown = file.findings.filter(counts);
    if (options.quiet) {
      if (
        shown.length === 0 &&
        !(file.verdict === "error" && failOn !== "none" && atLeast("high", failOn))
      )
        continue;
    } else if (!verbose && file.format === null && file.findings.length === 0) continue;
    lines.push(...fileLines(file, shown, verbose ? (file.suppressed ?? []) : [], paint));
  }
  if (lines.length > 0) lines.push("");
  for (const repo of report.repositories ?? []) lines.push(repositoryLine(repo, paint));
  lines.push(summaryLine(report, paint));
  return `${lines.join("\n")}\n`;
}

function fileLines(
  file: FileResult,
  findings: readonly Finding[],
  suppressed: readonly SuppressedFinding[],
  paint: (s: Style, t: string) => string,
): string[] {
  const verdict = paint(VERDICT_STYLE[file.verdict], file.verdict.toUpperCase());
  const format = file.format ?? "not a model format";
  const lines = [`${paint("bold", file.path)}  ${verdict}  ${paint("dim", `(${format})`)}`];
  for (const finding of findings) lines.push(...findingLines(finding, paint));
  for (const finding of suppressed) {
    lines.push(
      ...findingLines(finding, paint).map((line) => paint("dim", line)),
      paint(
        "dim",
        `      set aside (${finding.suppression.kind}): ${finding.suppression.reason}${
          finding.suppression.expires ? ` (until ${finding.suppression.expires})` : ""
        }`,
      ),
    );
  }
  return lines;
}

function findingLines(f: Finding, paint: (s: Style, t: string) => string): string[] {
  const where = [
    ...(f.location.member ?? []).map((m) => `in ${m}`),
    ...(f.location.offset !== undefined ? [`at byte ${f.location.offset}`] : []),
  ].join(", ");
  const head = `  ${paint(SEVERITY_STYLE[f.severity], f.severity.padEnd(8))} ${f.rule}${
    where ? paint("dim", `  ${where}`) : ""
  }`;
  const lines = [head, `      ${f.message}`];
  if (f.evidence?.pseudocode) {
    for (const line of f.evidence.pseudocode.split("\n"))
      lines.push(`      ${paint("bold", `> ${line}`)}`);
  }
  if (f.references && f.references.length > 0) {
    lines.push(paint("dim", `      see ${f.references.join(", ")}`));
  }
  return lines;
}

function summaryLine(report: ScanReport, paint: (s: Style, t: string) => string): string {
  const { summary } = report;
  const parts = (["malicious", "suspicious", "error", "safe"] as const).map((v) => {
    const text = `${summary.verdicts[v]} ${v}`;
    return summary.verdicts[v] > 0 ? paint(VERDICT_STYLE[v], text) : text;
  });
  const models = summary.files - summary.unrecognised;
  const others =
    summary.unrecognised > 0 ? `; ${summary.unrecognised} other files are not model formats` : "";
  const suppressed =
    summary.suppressed !== undefined && summary.suppressed > 0
      ? `; ${summary.suppressed} finding${summary.suppressed === 1 ? "" : "s"} set aside by the policy file or baseline`
      : "";
  return `Scanned ${models} model file${models === 1 ? "" : "s"}: ${parts.join(", ")}${others}${suppressed}.`;
}

/** `hf://org/name@main: commit 3f2a…, 12 files` or, for the cache, the revision and its refs. */
function repositoryLine(repo: RepositoryInfo, paint: (s: Style, t: string) => string): string {
  const kind = repo.type === "model" ? "" : `${repo.type}s/`;
  const files = `${repo.files} file${repo.files === 1 ? "" : "s"}`;
  if (repo.source === "hub") {
    return `${paint("bold", `hf://${kind}${repo.id}@${repo.revision ?? "main"}`)}: commit ${repo.commit}, ${files}`;
  }
  const refs = repo.refs && repo.refs.length > 0 ? ` (${repo.refs.join(", ")})` : "";
  return `${paint("bold", `cached ${kind}${repo.id}@${repo.commit}`)}${refs}: ${files} in ${repo.location}`;
}
