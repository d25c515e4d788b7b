import { memorySource, readAll } from "../../core/byte-source.js";
import type { LocalFinding } from "../../core/finding.js";
import {
  type Analysis,
  type Artifact,
  type Child,
  type FormatAnalyser,
  inflateBudget,
  type Probe,
  type ScanContext,
} from "../types.js";
import { hasEncryptedHeader, parseSltListing, type SevenZipListedEntry } from "./parse-listing.js";
import { SEVEN_ZIP_RULES, type SevenZipRuleKey } from "./rules.js";
import { createSevenZip, type SevenZipInstance } from "./seven-zip-wasm.js";

/** `7z\xBC\xAF\x27\x1C`. */
const MAGIC = [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c];

/**
 * Largest 7z archive analysed: the whole archive is copied into the WASM module's memory file
 * system, and its members beside it. @default 1 GiB
 */
export const DEFAULT_MAX_7Z_ARCHIVE_BYTES = 1024 * 1024 * 1024;

/**
 * Given as the password so that 7-Zip never prompts: an encrypted member then fails with
 * "Wrong password" and is reported, never decrypted.
 */
const NO_PASSWORD = "-pmodelvet-has-no-password";
const ARCHIVE_DIR = "/archive";
const ARCHIVE_PATH = `${ARCHIVE_DIR}/input.7z`;
const OUT_DIR = "/members";
/** 7-Zip's problem lines kept in one finding. */
const MAX_PROBLEM_LINES = 5;

export interface SevenZipFormatOptions {
  /** Largest archive analysed; bigger ones are a finding and unanalysable. @default 1 GiB */
  maxArchiveBytes?: number;
}

export function detectSevenZip(probe: Probe): boolean {
  return MAGIC.every((b, i) => probe.head[i] === b);
}

function finding(
  key: SevenZipRuleKey,
  message: string,
  severity?: LocalFinding["severity"],
): LocalFinding {
  const rule = SEVEN_ZIP_RULES[key];
  return { rule: rule.id, severity: severity ?? rule.severity, message };
}

function problemsText(lines: readonly string[]): string {
  const kept = lines.filter((l) => l.length > 0).slice(0, MAX_PROBLEM_LINES);
  return kept.length === 0 ? "no details" : kept.join("; ");
}

/** Regular files under `dir` in the module's memory FS, as paths relative to `dir`, sorted. */
function listFiles(sevenZip: SevenZipInstance, dir: string, prefix = ""): string[] {
  const files: string[] = [];
  let names: string[];
  try {
    names = sevenZip.fs.readdir(dir);
  } catch {
    return files;
  }
  for (const name of names.sort()) {
    if (name === "." || name === "..") continue;
    const path = `${dir}/${name}`;
    const stat = sevenZip.fs.lstat(path);
    if (sevenZip.fs.isDir(stat.mode)) files.push(...listFiles(sevenZip, path, `${prefix}${name}/`));
    else if (sevenZip.fs.isFile(stat.mode)) files.push(`${prefix}${name}`);
  }
  return files;
}

/**
 * Lists and extracts a 7z archive in memory with 7-Zip compiled to WASM, within the member and
 * total size limits, and hands every file back as a child for the engine to detect and analyse.
 */
export async function analyseSevenZip(
  artifact: Artifact,
  ctx: ScanContext,
  options: SevenZipFormatOptions = {},
): Promise<Analysis> {
  const { limits } = ctx;
  const maxArchiveBytes = options.maxArchiveBytes ?? DEFAULT_MAX_7Z_ARCHIVE_BYTES;
  const findings: LocalFinding[] = [];
  const fail = (extra: LocalFinding[], details?: Analysis["details"]): Analysis => ({
    format: "7z",
    findings: [...findings, ...extra],
    children: [],
    unanalysable: true,
    ...(details ? { details } : {}),
  });

  if (artifact.source.size > maxArchiveBytes) {
    return fail([
      finding(
        "limitsExceeded",
        `7z archive is ${artifact.source.size} bytes, over the ${maxArchiveBytes}-byte limit for in-memory extraction: not analysed`,
      ),
    ]);
  }
  const bytes = await readAll(artifact.source);
  const sevenZip = await createSevenZip();
  sevenZip.fs.mkdir(ARCHIVE_DIR);
  sevenZip.fs.writeFile(ARCHIVE_PATH, bytes);

  const budget = inflateBudget(ctx);
  const listed = sevenZip.run(["l", "-slt", "-t7z", NO_PASSWORD, "-bd", "-sccUTF-8", ARCHIVE_PATH]);
  const listing = parseSltListing(listed.stdout);
  const problems = [...listing.problems, ...listed.stderr.filter((l) => l.trim() !== "")];
  if (listed.threw || (listed.exitCode !== 0 && listing.entries.length === 0)) {
    if (hasEncryptedHeader(bytes) || /password|encrypted/i.test(problems.join("\n"))) {
      return fail([
        finding(
          "encrypted",
          "The 7z archive's header is encrypted: its members cannot even be listed",
        ),
        finding("unanalysable", "Encrypted 7z archive: nothing was vetted"),
      ]);
    }
    return fail([
      finding("malformed", `7-Zip cannot list this archive (${problemsText(problems)})`),
      finding("unanalysable", "Unreadable 7z archive: nothing was vetted"),
    ]);
  }
  if (problems.length > 0) {
    findings.push(
      finding(
        "malformed",
        `7-Zip reports problems with this archive: ${problemsText(problems)}`,
        "medium",
      ),
    );
  }

  // Choose what to extract within the limits, trusting the sizes the header declares (7-Zip's
  // decoders stop at them) and checking the extracted sizes again afterwards.
  const files = listing.entries.filter((e) => !e.isDirectory);
  const encrypted = files.filter((e) => e.encrypted);
  const selected: SevenZipListedEntry[] = [];
  let declaredTotal = 0;
  let overLimits = false;
  for (const entry of files) {
    if (entry.encrypted) continue;
    if (selected.length >= limits.maxArchiveMembers) {
      overLimits = true;
      findings.push(
        finding(
          "limitsExceeded",
          `More than ${limits.maxArchiveMembers} members: the rest were not read (maxArchiveMembers)`,
        ),
      );
      break;
    }
    if (entry.size > limits.maxMemberBytes) {
      overLimits = true;
      findings.push(
        finding(
          "limitsExceeded",
          `Member ${JSON.stringify(entry.path)} is ${entry.size} bytes, over maxMemberBytes: not analysed`,
        ),
      );
      continue;
    }
    if (declaredTotal + entry.size > budget.remaining) {
      overLimits = true;
      findings.push(
        finding(
          "limitsExceeded",
          `Member ${JSON.stringify(entry.path)} would take the archive past maxTotalInflatedBytes: not analysed`,
        ),
      );
      continue;
    }
    declaredTotal += entry.size;
    selected.push(entry);
  }
  const sizesTotal = listing.sizes.reduce((a, b) => a + b, 0);
  const maxSize = listing.sizes.reduce((a, b) => Math.max(a, b), 0);
  // Sizes the block parse did not attach to an entry (odd names) force an explicit selection.
  const selective =
    overLimits ||
    encrypted.length > 0 ||
    sizesTotal > budget.remaining ||
    maxSize > limits.maxMemberBytes;

  if (encrypted.length > 0) {
    findings.push(
      finding(
        "encrypted",
        `${encrypted.length} member(s) are password-protected and cannot be analysed (${problemsText(encrypted.map((e) => JSON.stringify(e.path)))})`,
      ),
    );
  }

  const children: Child[] = [];
  if (selected.length > 0) {
    // `-spd`: names are literal, not wildcards; `-aou`: duplicate names are kept, renamed.
    const args = [
      "x",
      "-t7z",
      NO_PASSWORD,
      "-y",
      "-bd",
      "-aou",
      "-spd",
      "-sccUTF-8",
      `-o${OUT_DIR}`,
    ];
    args.push(ARCHIVE_PATH);
    if (selective) args.push("--", ...selected.map((e) => e.path));
    const extracted = sevenZip.run(args);
    const errors = extracted.stderr.filter((l) => l.trim() !== "");
    if (extracted.threw || extracted.exitCode !== 0) {
      const passwordErrors = errors.filter((l) => /password/i.test(l));
      if (passwordErrors.length > 0 && encrypted.length === 0) {
        findings.push(
          finding("encrypted", `Members are password-protected: ${problemsText(passwordErrors)}`),
        );
      }
      findings.push(
        finding(
          "malformed",
          extracted.threw
            ? `7-Zip failed while extracting (${problemsText(errors)}); analysed what it produced`
            : `7-Zip reports errors while extracting (${problemsText(errors)}); analysed what it produced`,
        ),
      );
    }
    let total = 0;
    for (const path of listFiles(sevenZip, OUT_DIR)) {
      const data = sevenZip.fs.readFile(`${OUT_DIR}/${path}`);
      if (data.length > limits.maxMemberBytes || total + data.length > budget.remaining) {
        findings.push(
          finding(
            "limitsExceeded",
            `Member ${JSON.stringify(path)} extracted to ${data.length} bytes, past the limits: not analysed`,
          ),
        );
        continue;
      }
      total += data.length;
      children.push({ name: path, source: memorySource(data) });
    }
    budget.remaining -= total;
    if (children.length < selected.length) {
      findings.push(
        finding(
          "malformed",
          `${selected.length - children.length} of ${selected.length} member(s) could not be extracted`,
        ),
      );
    }
  }

  const details = {
    members: listing.entries.length,
    files: files.length,
    extracted: children.length,
    encrypted: encrypted.length,
  };
  const isEncrypted = findings.some((f) => f.rule === SEVEN_ZIP_RULES.encrypted.id);
  const nothingRead = files.length > 0 && children.length === 0;
  if (isEncrypted || nothingRead) {
    findings.push(
      finding(
        "unanalysable",
        isEncrypted
          ? "Password-protected members could not be analysed: the archive is not vetted"
          : "No member of the 7z archive could be read: nothing was vetted",
      ),
    );
    return { format: "7z", findings, children, unanalysable: true, details };
  }
  return { format: "7z", findings, children, details };
}

/** A 7z analyser with its own archive-size bound. */
export function createSevenZipFormat(options: SevenZipFormatOptions = {}): FormatAnalyser {
  return {
    id: "7z",
    version: 1,
    description: "7z archives, listed and extracted in memory by 7-Zip compiled to WASM",
    detect: detectSevenZip,
    analyse: (artifact, ctx) => analyseSevenZip(artifact, ctx, options),
  };
}

export const sevenZipFormat: FormatAnalyser = createSevenZipFormat();

export { SEVEN_ZIP_RULES } from "./rules.js";
