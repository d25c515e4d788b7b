import { randomUUID } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { createPolicy } from "../policy/index.js";
import { parseBaseline, writeBaseline } from "../report/baseline.js";
import { writeCycloneDx } from "../report/cyclonedx.js";
import { writeHtml } from "../report/html.js";
import { writeJson } from "../report/json.js";
import { writeSarif } from "../report/sarif.js";
import { writeText } from "../report/text.js";
import { applyBaseline, applyPolicy } from "../scan/apply-policy.js";
import { type ScanReport, scan } from "../scan/scan.js";
import { HubAccessError } from "../sources/hf-hub.js";
import { isolatedHdf5Reader } from "../sources/isolated-hdf5.js";
import { UsageError } from "./errors.js";
import { exitCodeFor } from "./exit-code.js";
import type { ScanCommandOptions } from "./program.js";
import { Progress } from "./progress.js";
import { isRemoteSpec, prepareInputs } from "./remote-inputs.js";
import { folderOf, relativeTo, resolvePolicy } from "./resolve-policy.js";

export interface Terminal {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

/**
 * `modelvet scan`: expand paths, find the policy, scan, apply the policy file's severities and
 * ignores and the baseline, write the report; returns the exit code.
 */
export async function runScan(
  options: ScanCommandOptions,
  term: Terminal,
  fetch?: typeof globalThis.fetch,
): Promise<number> {
  const { path: policyPath, file: policyFile } = await resolvePolicy(
    options.policy,
    options.paths.find((p) => !isRemoteSpec(p)) ?? ".",
  );
  const failOn = options.failOn ?? policyFile.failOn ?? "medium";
  const baseline =
    options.baseline === undefined ? undefined : await readBaseline(options.baseline);

  const progress = new Progress(
    options.progress && !options.quiet && term.stderr.isTTY === true ? term.stderr : null,
  );
  let prepared: Awaited<ReturnType<typeof prepareInputs>>;
  try {
    prepared = await prepareInputs({
      specs: options.paths,
      hfCache: options.hfCache,
      ...(options.token === undefined ? {} : { token: options.token }),
      hash: options.hash,
      verifyHashes: options.verifyHashes,
      maxRemoteBytes: options.maxRemoteBytes,
      env: term.env,
      ...(fetch === undefined ? {} : { fetch }),
      progress,
    });
  } catch (error) {
    progress.clear();
    if (error instanceof HubAccessError) throw new UsageError(error.message);
    throw error;
  }
  const { inputs } = prepared;
  const remote = inputs.length > 0 && prepared.repositories.length + countRemote(options) > 0;
  let scanned: ScanReport;
  try {
    scanned = await scan(inputs, {
      limits: policyFile.limits,
      readHdf5: isolatedHdf5Reader(),
      policy: createPolicy({ extraAllowed: policyFile.allow, extraDenied: policyFile.deny }),
      onFile:
        progress.enabled && (inputs.length > 1 || remote)
          ? (_result, done, total) => progress.files(done, total)
          : undefined,
    });
  } finally {
    progress.clear();
  }
  scanned = prepared.finish(scanned);
  if (prepared.repositories.length > 0) scanned.repositories = prepared.repositories;

  const today = new Date().toISOString().slice(0, 10);
  let report: ScanReport = applyPolicy(scanned, {
    severity: policyFile.severity,
    ignore: policyFile.ignore,
    today,
    pathFor: relativeTo(policyPath === null ? "." : folderOf(policyPath)),
  });
  report.policy = {
    source: policyPath,
    failOn,
    allow: policyFile.allow,
    deny: policyFile.deny,
    severity: policyFile.severity,
    ignore: policyFile.ignore,
  };
  for (const [i, rule] of policyFile.ignore.entries()) {
    if (rule.expires !== undefined && rule.expires < today) {
      term.stderr.write(
        `modelvet: warning: ${policyPath}: ignore[${i}] (${rule.rule}) expired on ${rule.expires} and no longer applies\n`,
      );
    }
  }
  if (options.writeBaseline !== undefined) {
    await writeFile(
      options.writeBaseline,
      writeBaseline(report, relativeTo(folderOf(options.writeBaseline))),
    );
  }
  if (baseline !== undefined) {
    report = applyBaseline(report, baseline, relativeTo(folderOf(baseline.file)));
  }

  const toTerminal = options.output === undefined;
  const color = options.color && toTerminal && term.stdout.isTTY === true && !term.env.NO_COLOR;
  const text = render(report, options, color, failOn);
  if (options.output === undefined) term.stdout.write(text);
  else await writeFile(options.output, text);
  return exitCodeFor(report, failOn);
}

function render(
  report: ScanReport,
  options: ScanCommandOptions,
  color: boolean,
  failOn: ScanCommandOptions["failOn"] & {},
): string {
  switch (options.format) {
    case "json":
      return writeJson(report);
    case "sarif":
      return writeSarif(report, docs(options));
    case "cyclonedx":
      return writeCycloneDx(report, {
        timestamp: new Date(),
        serialNumber: `urn:uuid:${randomUUID()}`,
      });
    case "html":
      return writeHtml(report, { generatedAt: new Date(), ...docs(options) });
    case "text":
      return writeText(report, { color, verbose: options.verbose, quiet: options.quiet, failOn });
  }
}

function docs(options: ScanCommandOptions): { rulesDocUrl?: string } {
  return options.rulesDocUrl === undefined ? {} : { rulesDocUrl: options.rulesDocUrl };
}

async function readBaseline(path: string) {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      `${path}: cannot read the baseline (${code === "ENOENT" ? "no such file" : (code ?? "error")})`,
    );
  }
  const parsed = parseBaseline(text, path);
  if (!parsed.ok) throw new UsageError(parsed.error);
  return parsed.value;
}

function countRemote(options: ScanCommandOptions): number {
  return options.paths.filter(isRemoteSpec).length;
}
