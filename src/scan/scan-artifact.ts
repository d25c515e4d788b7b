import { type ByteSource, ByteSourceError } from "../core/byte-source.js";
import type { Finding, LocalFinding } from "../core/finding.js";
import { type Verdict, verdictOf } from "../core/verdict.js";
import type { Artifact, FormatAnalyser, Probe, ScanContext } from "../formats/types.js";
import { hasModelExtension } from "./model-extensions.js";
import type { ArtifactResult } from "./results.js";

/** Bytes read from each end of an artifact for detection (a zip's EOCD sits in the last 64 KiB). */
const PROBE_BYTES = 64 * 1024 + 22;

const VERDICT_ORDER: readonly Verdict[] = ["safe", "suspicious", "error", "malicious"];

/** The more alarming of two verdicts; `error` (fail closed) ranks between suspicious and malicious. */
export function worseVerdict(a: Verdict, b: Verdict): Verdict {
  return VERDICT_ORDER.indexOf(a) >= VERDICT_ORDER.indexOf(b) ? a : b;
}

export async function readProbe(source: ByteSource): Promise<Probe> {
  const head = await source.read(0, Math.min(PROBE_BYTES, source.size));
  const tailStart = Math.max(0, source.size - PROBE_BYTES);
  const tail = tailStart === 0 ? head : await source.read(tailStart, source.size - tailStart);
  return { head: head.slice(), tail: tail.slice(), size: source.size };
}

function locate(artifact: Artifact, f: LocalFinding): Finding {
  const { offset, ...rest } = f;
  const location: Finding["location"] = { file: artifact.file };
  if (artifact.member.length > 0) location.member = artifact.member;
  if (offset !== undefined) location.offset = offset;
  return { ...rest, location };
}

function unrecognised(artifact: Artifact): LocalFinding[] {
  const name = artifact.member.at(-1) ?? artifact.file;
  if (!hasModelExtension(name)) return [];
  return [
    {
      rule: "scan.unrecognised-format",
      severity: "high",
      message:
        "The name suggests a model file, but its bytes match no format modelvet can analyse, so it cannot be vouched for.",
    },
  ];
}

/**
 * Detects an artifact's format from its bytes, runs that format's analyser, and recurses into the
 * children it finds. Never throws for bad input: an analyser that throws is a bug, reported as a
 * finding so the file fails closed (DESIGN.md principle 5).
 */
export async function scanArtifact(
  artifact: Artifact,
  ctx: ScanContext,
  formats: readonly FormatAnalyser[],
): Promise<ArtifactResult> {
  const result: ArtifactResult = {
    member: artifact.member,
    format: null,
    size: artifact.source.size,
    verdict: "safe",
    findings: [],
    children: [],
  };
  let unanalysable = false;
  const local: LocalFinding[] = [];
  try {
    const probe = await readProbe(artifact.source);
    const hinted = formats.find((f) => f.id === artifact.hint && f.detect(probe));
    const format = hinted ?? formats.find((f) => f.detect(probe));
    if (format) {
      const analysis = await format.analyse(artifact, ctx);
      if (!analysis.notThisFormat) {
        result.format = analysis.format;
        local.push(...analysis.findings);
        unanalysable = analysis.unanalysable === true;
        if (analysis.details) result.details = analysis.details;
        await scanChildren(artifact, analysis.children, ctx, formats, result, local);
      }
    }
    if (result.format === null) local.push(...unrecognised(artifact));
  } catch (error) {
    unanalysable = true;
    if (error instanceof ByteSourceError) {
      local.push({
        rule: "scan.unreadable",
        severity: "high",
        message: `The file could not be read to the end, so it cannot be vouched for: ${error.message}`,
      });
    } else
      local.push({
        rule: "scan.internal-error",
        severity: "high",
        message: `modelvet failed while analysing this artifact, so it cannot vouch for it: ${
          error instanceof Error ? error.message : String(error)
        }`,
      });
  }
  result.findings = local
    .slice(0, ctx.limits.maxFindingsPerArtifact)
    .map((f) => locate(artifact, f));
  if (local.length > ctx.limits.maxFindingsPerArtifact) {
    result.findings.push(
      locate(artifact, {
        rule: "limits.exceeded",
        severity: "info",
        message: `${local.length - ctx.limits.maxFindingsPerArtifact} more findings were not kept (maxFindingsPerArtifact).`,
      }),
    );
  }
  let verdict = verdictOf(result.findings);
  if (unanalysable || (result.format === null && result.findings.length > 0)) {
    verdict = worseVerdict(verdict, "error");
  }
  for (const child of result.children) verdict = worseVerdict(verdict, child.verdict);
  result.verdict = verdict;
  return result;
}

async function scanChildren(
  artifact: Artifact,
  children: readonly { name: string; source: ByteSource; hint?: string }[],
  ctx: ScanContext,
  formats: readonly FormatAnalyser[],
  result: ArtifactResult,
  local: LocalFinding[],
): Promise<void> {
  if (children.length === 0) return;
  if (ctx.depth + 1 > ctx.limits.maxNestingDepth) {
    local.push({
      rule: "limits.exceeded",
      severity: "high",
      message: `Archives are nested deeper than ${ctx.limits.maxNestingDepth} levels; the ${children.length} members inside were not analysed.`,
    });
    return;
  }
  const childCtx: ScanContext = { ...ctx, depth: ctx.depth + 1 };
  for (const child of children) {
    const childArtifact: Artifact = {
      file: artifact.file,
      member: [...artifact.member, child.name],
      source: child.source,
    };
    if (child.hint !== undefined) childArtifact.hint = child.hint;
    result.children.push(await scanArtifact(childArtifact, childCtx, formats));
  }
}

/** Every finding of an artifact and its members, outermost first. */
export function collectFindings(result: ArtifactResult): Finding[] {
  const all = [...result.findings];
  for (const child of result.children) all.push(...collectFindings(child));
  return all;
}
