/**
 * The user's policy over finished results (docs/policy.md): severity overrides, ignores and
 * baselines. Pure post-processing of a {@link ScanReport}: a suppressed finding moves from
 * `findings` to `suppressed` (with its reason), and verdicts and the summary are recomputed from
 * what is left, so reports, verdicts and exit codes all agree.
 */

import type { Finding, Severity } from "../core/finding.js";
import { type Verdict, verdictOf } from "../core/verdict.js";
import { type IgnoreRule, isExpired, matchesGlob, matchesGlobal } from "../policy/policy-file.js";
import type { ArtifactResult, FileResult, SuppressedFinding } from "./results.js";
import { type ScanReport, summarise } from "./scan.js";
import { collectFindings, worseVerdict } from "./scan-artifact.js";

/** Info finding added where an expired ignore would have applied. */
export const IGNORE_EXPIRED_RULE = "policy.ignore-expired";

export interface ApplyPolicyOptions {
  /** Severity per rule id, replacing the finding's own. @default {} */
  severity?: Readonly<Record<string, Severity>>;
  /** @default [] */
  ignore?: readonly IgnoreRule[];
  /** Today (YYYY-MM-DD, UTC): ignores that expired before it no longer apply. */
  today: string;
  /**
   * The path ignore globs match, for a file as reported (the CLI makes it relative to the policy
   * file's folder). @default the path as reported, with `\` as `/` and no leading `./`
   */
  pathFor?: (path: string) => string;
}

type Decision = { keep: Finding[]; suppressed?: SuppressedFinding };
type Decide = (finding: Finding, file: FileResult) => Decision;

/** Applies severity overrides, then ignores, to every finding of the report. */
export function applyPolicy(report: ScanReport, options: ApplyPolicyOptions): ScanReport {
  const severity = options.severity ?? {};
  const ignore = options.ignore ?? [];
  const pathFor = options.pathFor ?? normalisePath;
  if (Object.keys(severity).length === 0 && ignore.length === 0) return report;
  let noted = new Set<number>();
  let current: FileResult | undefined;
  return rewrite(report, (original, file) => {
    if (file !== current) {
      current = file;
      noted = new Set();
    }
    const override = severity[original.rule];
    const finding =
      override !== undefined && override !== original.severity
        ? { ...original, severity: override }
        : original;
    const path = pathFor(file.path);
    const keep: Finding[] = [finding];
    for (const [index, rule] of ignore.entries()) {
      if (!ignoreMatches(rule, finding, path)) continue;
      if (isExpired(rule, options.today)) {
        if (!noted.has(index)) {
          noted.add(index);
          keep.push(expiredNote(rule, finding));
        }
        continue;
      }
      const suppression: SuppressedFinding["suppression"] = { kind: "ignore", reason: rule.reason };
      if (rule.expires !== undefined) suppression.expires = rule.expires;
      return { keep: [], suppressed: { ...finding, suppression } };
    }
    return { keep };
  });
}

function ignoreMatches(rule: IgnoreRule, finding: Finding, path: string): boolean {
  if (rule.rule !== finding.rule) return false;
  if (rule.global !== undefined && !matchesGlobal(rule.global, finding.evidence?.global)) {
    return false;
  }
  if (rule.path !== undefined) {
    const member = finding.location.member ?? [];
    const inner = member.length > 0 ? `${path}/${member.join("/")}` : path;
    if (!matchesGlob(rule.path, path) && !matchesGlob(rule.path, inner)) return false;
  }
  return true;
}

function expiredNote(rule: IgnoreRule, finding: Finding): Finding {
  const where = rule.path !== undefined ? ` on ${rule.path}` : "";
  const location: Finding["location"] = { file: finding.location.file };
  if (finding.location.member !== undefined) location.member = finding.location.member;
  return {
    rule: IGNORE_EXPIRED_RULE,
    severity: "info",
    message:
      `The policy file's ignore of ${rule.rule}${where} expired on ${rule.expires} ` +
      `(its reason: "${rule.reason}"), so this file's ${rule.rule} finding counts again. ` +
      "Renew the date or remove the ignore.",
    location,
  };
}

/** A baseline: fingerprints of accepted findings (report/baseline.ts reads and writes the file). */
export interface BaselineSet {
  /** Where it came from, for the suppression reason. */
  file: string;
  fingerprints: ReadonlySet<string>;
}

/**
 * Sets aside every finding whose fingerprint is in the baseline: only new findings remain, and
 * verdicts and the exit code are computed from them.
 */
export function applyBaseline(
  report: ScanReport,
  baseline: BaselineSet,
  pathFor: (path: string) => string = normalisePath,
): ScanReport {
  const counter = new FingerprintCounter(pathFor);
  let matched = 0;
  const result = rewrite(report, (finding, file) => {
    const fingerprint = counter.next(finding, file);
    if (!baseline.fingerprints.has(fingerprint)) return { keep: [finding] };
    matched++;
    return {
      keep: [],
      suppressed: {
        ...finding,
        suppression: { kind: "baseline", reason: `in the baseline ${baseline.file}` },
      },
    };
  });
  return { ...result, baseline: { file: baseline.file, findings: matched } };
}

/**
 * A finding's fingerprint (docs/reports.md "Baselines"): rule, file path (relative to the
 * baseline's folder), archive member path, and the global it names — or, when it names none, its
 * byte offset — plus its occurrence number among findings of the file with the same four. Message
 * text, severity and offsets of global findings are left out, so it survives rewording, severity
 * overrides and unrelated edits that move bytes around.
 */
export function fingerprintOf(finding: Finding, path: string, occurrence: number): string {
  const anchor =
    finding.evidence?.global !== undefined
      ? `global:${finding.evidence.global}`
      : finding.location.offset !== undefined
        ? `offset:${finding.location.offset}`
        : "";
  return JSON.stringify([finding.rule, path, finding.location.member ?? [], anchor, occurrence]);
}

/** Numbers repeated fingerprints within a file, in report order. */
export class FingerprintCounter {
  private file: FileResult | undefined;
  private seen = new Map<string, number>();
  constructor(private readonly pathFor: (path: string) => string = normalisePath) {}

  next(finding: Finding, file: FileResult): string {
    if (file !== this.file) {
      this.file = file;
      this.seen = new Map();
    }
    const path = this.pathFor(file.path);
    const base = fingerprintOf(finding, path, 0);
    const n = (this.seen.get(base) ?? 0) + 1;
    this.seen.set(base, n);
    return fingerprintOf(finding, path, n);
  }
}

/** `\` as `/`, no leading `./`. */
export function normalisePath(path: string): string {
  let p = path.replaceAll("\\", "/");
  while (p.startsWith("./")) p = p.slice(2);
  return p;
}

/**
 * Walks each file's findings in report order (the file's own, then each member's, depth first:
 * the order of `FileResult.findings`), lets `decide` keep, replace or suppress each, and
 * recomputes verdicts bottom-up and the summary. A file stays `error` (fail closed) while any of
 * the findings of the artifact that could not be analysed is left.
 */
function rewrite(report: ScanReport, decide: Decide): ScanReport {
  let suppressedTotal = 0;
  const files = report.files.map((file): FileResult => {
    const suppressed: SuppressedFinding[] = [...(file.suppressed ?? [])];
    const visit = (
      own: readonly Finding[],
      artifact: Pick<ArtifactResult, "children" | "verdict" | "format">,
    ) => {
      const kept: Finding[] = [];
      for (const f of own) {
        const decision = decide(f, file);
        kept.push(...decision.keep);
        if (decision.suppressed !== undefined) suppressed.push(decision.suppressed);
      }
      const children = artifact.children.map((child): ArtifactResult => {
        const redone = visit(child.findings, child);
        return {
          ...child,
          findings: redone.kept,
          children: redone.children,
          verdict: redone.verdict,
        };
      });
      const ownError =
        artifact.verdict === "error" && !artifact.children.some((c) => c.verdict === "error");
      let verdict: Verdict = verdictOf(kept);
      if ((ownError || artifact.format === null) && kept.length > 0) {
        verdict = worseVerdict(verdict, "error");
      }
      for (const child of children) verdict = worseVerdict(verdict, child.verdict);
      return { kept, children, verdict };
    };
    const own = file.findings.filter((f) => (f.location.member ?? []).length === 0);
    const redone = visit(own, file);
    const findings = collectFindings({
      member: [],
      format: file.format,
      size: file.size,
      verdict: redone.verdict,
      findings: redone.kept,
      children: redone.children,
    });
    suppressedTotal += suppressed.length;
    const { suppressed: _previous, ...rest } = file;
    const result: FileResult = {
      ...rest,
      verdict: redone.verdict,
      findings,
      children: redone.children,
    };
    if (suppressed.length > 0) result.suppressed = suppressed;
    return result;
  });
  const summary = summarise(files);
  if (suppressedTotal > 0) summary.suppressed = suppressedTotal;
  return { ...report, files, summary };
}
