import { type ByteSource, sliceSource } from "../../core/byte-source.js";
import type { LocalFinding } from "../../core/finding.js";
import { PYTORCH_RULE } from "../pytorch/rules.js";
import type { Analysis, Artifact, Child, FormatAnalyser, Probe, ScanContext } from "../types.js";
import { analyseLegacyMember, findLegacyLayout, type LegacyLayout } from "./pytorch-legacy.js";
import { TAR_RULES, type TarRuleKey } from "./rules.js";
import { hasTraversal, isAbsolutePath, linkEscapes, normalizeMemberPath } from "./tar-paths.js";
import {
  hasUstarMagic,
  hasValidChecksum,
  openTar,
  TAR_BLOCK,
  type TarArchive,
  type TarEntry,
} from "./tar-reader.js";

/** Child name for bytes after the point where Python's tarfile stops reading. */
export const TRAILING_CHILD = "(bytes after the archive)";
/** Zero padding scanned after the end marker before the rest is handed on unscanned. */
const MAX_ZERO_SCAN = 16 * 1024 * 1024;
const SCAN_CHUNK = 64 * 1024;

/** The ustar magic at offset 257, or a first header whose checksum is valid (v7). */
export function detectTar(probe: Probe): boolean {
  const block = probe.head.subarray(0, TAR_BLOCK);
  if (block.length < TAR_BLOCK) return false;
  return hasUstarMagic(block) || hasValidChecksum(block);
}

function finding(
  key: TarRuleKey,
  message: string,
  offset?: number,
  severity?: LocalFinding["severity"],
): LocalFinding {
  const rule = TAR_RULES[key];
  return {
    rule: rule.id,
    severity: severity ?? rule.severity,
    message,
    ...(offset === undefined ? {} : { offset }),
  };
}

const quote = (s: string): string => JSON.stringify(s);

/** What extracting a member does, as the calls `TarFile.extractall(dest)` makes for it. */
function extractionCode(entry: TarEntry): string {
  const target = `os.path.join(dest, ${quote(entry.name)})`;
  switch (entry.kind) {
    case "symlink":
      return `os.symlink(${quote(entry.linkName)}, ${target})`;
    case "hardlink":
      return `os.link(os.path.join(dest, ${quote(entry.linkName)}), ${target})`;
    case "chardev":
      return `os.mknod(${target}, stat.S_IFCHR | mode, device)`;
    case "blockdev":
      return `os.mknod(${target}, stat.S_IFBLK | mode, device)`;
    case "fifo":
      return `os.mkfifo(${target})`;
    case "directory":
      return `os.makedirs(${target})`;
    default:
      return `open(${target}, "wb").write(data)`;
  }
}

/** What is dangerous about one member: where it extracts to, links, devices, sparse data. */
function entryFindings(entry: TarEntry): LocalFinding[] {
  const out: LocalFinding[] = [];
  const at = entry.headerOffset;
  const name = quote(entry.name);
  const evidence = { pseudocode: extractionCode(entry) };
  if (isAbsolutePath(entry.name)) {
    out.push({
      ...finding(
        "absolutePath",
        `Member ${name} has an absolute path: extracting it writes there.`,
        at,
      ),
      evidence,
    });
  }
  if (hasTraversal(entry.name)) {
    out.push({
      ...finding(
        "pathTraversal",
        `Member ${name} climbs out of the extraction folder with "..".`,
        at,
      ),
      evidence,
    });
  }
  if (entry.kind === "symlink" || entry.kind === "hardlink") {
    const symbolic = entry.kind === "symlink";
    const escapes = linkEscapes(entry.name, entry.linkName, symbolic);
    out.push({
      ...finding(
        "link",
        `Member ${name} is a ${symbolic ? "symbolic" : "hard"} link to ${quote(entry.linkName)}${
          escapes ? ", outside the extraction folder" : ""
        }: reads of it after extraction follow the link.`,
        at,
        escapes ? "high" : undefined,
      ),
      evidence,
    });
  }
  if (entry.kind === "chardev" || entry.kind === "blockdev" || entry.kind === "fifo") {
    const what = { chardev: "character device", blockdev: "block device", fifo: "FIFO" }[
      entry.kind
    ];
    out.push({ ...finding("device", `Member ${name} is a ${what}.`, at), evidence });
  }
  if (entry.kind === "sparse") {
    out.push(
      finding("sparse", `Member ${name} is a GNU sparse file: its data was not analysed.`, at),
    );
  }
  if (entry.unknownType) {
    out.push(
      finding(
        "unknownType",
        `Member ${name} has type flag ${quote(entry.typeFlag)}, unknown to Python's tarfile, which reads it as a regular file: analysed as one.`,
        at,
      ),
    );
  }
  return out;
}

/** The first non-zero byte at or after `from`, or where scanning gave up, or `undefined` if none. */
async function firstNonZero(source: ByteSource, from: number): Promise<number | undefined> {
  const stop = Math.min(source.size, from + MAX_ZERO_SCAN);
  for (let pos = from; pos < stop; pos += SCAN_CHUNK) {
    const chunk = await source.read(pos, Math.min(SCAN_CHUNK, stop - pos));
    const i = chunk.findIndex((b) => b !== 0);
    if (i >= 0) return pos + i;
    if (chunk.length === 0) break;
  }
  return stop < source.size ? stop : undefined;
}

/** Bytes Python's tarfile never reads: after the end marker, or from a header it stops at. */
async function trailingBytes(
  archive: TarArchive,
): Promise<{ start: number; why: string } | undefined> {
  const { source, end } = archive;
  if (archive.ending === "invalid-header") {
    return { start: end, why: "from the header where Python's tarfile stops reading" };
  }
  if (archive.ending !== "end-marker") return undefined;
  const nonZero = await firstNonZero(source, end);
  if (nonZero === undefined) return undefined;
  const start = nonZero - (nonZero % TAR_BLOCK);
  return { start, why: `after the end-of-archive marker at offset ${end}` };
}

/**
 * Lists the members like Python's tarfile, reports what extracting them would do, and hands every
 * readable member back as a child (a window of the archive, never copied). A PyTorch legacy tar
 * checkpoint's `storages` and `tensors` members are read here, pickle by pickle.
 */
export async function analyseTar(artifact: Artifact, ctx: ScanContext): Promise<Analysis> {
  const { source } = artifact;
  const opened = await openTar(source, { limits: ctx.limits });
  if (!opened.ok) {
    return {
      format: "tar",
      findings: [
        opened.error,
        finding("unanalysable", "No tar structure could be read: nothing was vetted."),
      ],
      children: [],
      unanalysable: true,
    };
  }
  const archive = opened.value;
  const findings: LocalFinding[] = [...archive.findings];
  const children: Child[] = [];
  const layout = findLegacyLayout(archive.entries);
  const inPlace = new Set<TarEntry>(layout ? [layout.storages, layout.tensors] : []);
  const nameUses = new Map<string, number>();
  let directories = 0;
  let links = 0;
  let sparse = 0;

  for (const entry of archive.entries) {
    findings.push(...entryFindings(entry));
    if (entry.kind === "directory") {
      directories++;
      continue;
    }
    const key = normalizeMemberPath(entry.name);
    const uses = (nameUses.get(key) ?? 0) + 1;
    nameUses.set(key, uses);
    if (uses === 2) {
      findings.push(
        finding(
          "duplicateName",
          `More than one member is named ${quote(key)}: Python's tarfile opens the last one, extraction keeps the last, other readers may take the first.`,
          entry.headerOffset,
        ),
      );
    }
    if (entry.kind === "symlink" || entry.kind === "hardlink") links++;
    if (entry.kind === "sparse") sparse++;
    if (!entry.readable || entry.kind === "sparse" || inPlace.has(entry)) continue;
    children.push({
      name: uses === 1 ? entry.name : `${entry.name}#${uses}`,
      source: sliceSource(source, entry.dataOffset, entry.available),
    });
  }

  const legacy = layout ? await analyseLegacy(source, layout, ctx, findings) : undefined;

  const trailing = await trailingBytes(archive);
  if (trailing) {
    findings.push(
      finding(
        "trailingData",
        `${source.size - trailing.start} bytes ${trailing.why} (offset ${trailing.start}) are never read by Python's tarfile; other tar readers may read them. They were analysed as a separate artifact.`,
        trailing.start,
      ),
    );
    children.push({
      name: TRAILING_CHILD,
      source: sliceSource(source, trailing.start, source.size - trailing.start),
    });
  }

  const unanalysable = sparse > 0 && children.length === 0 && !legacy;
  if (unanalysable) {
    findings.push(
      finding("unanalysable", "Every member is a GNU sparse file: nothing was vetted."),
    );
  }
  return {
    format: layout ? "pytorch-legacy-tar" : "tar",
    findings,
    children,
    ...(unanalysable ? { unanalysable: true } : {}),
    details: {
      members: archive.entries.length,
      directories,
      links,
      sparse,
      dialects: archive.dialects.join(","),
      ending: archive.ending,
      ...(legacy ?? {}),
    },
  };
}

async function analyseLegacy(
  source: ByteSource,
  layout: LegacyLayout,
  ctx: ScanContext,
  findings: LocalFinding[],
): Promise<Record<string, number | boolean>> {
  for (const entry of [layout.storages, layout.tensors]) {
    if (entry.kind !== "file") {
      findings.push({
        rule: PYTORCH_RULE.storageLayout,
        severity: "high",
        message: `Legacy checkpoint member ${quote(entry.name)} is a ${entry.kind}, not a file: torch.load extracts it to a temporary folder and opens whatever it points to.`,
        offset: entry.headerOffset,
      });
    }
  }
  const storages = await analyseLegacyMember(source, layout.storages, "storages", ctx);
  const tensors = await analyseLegacyMember(source, layout.tensors, "tensors", ctx);
  findings.push(...storages.findings, ...tensors.findings);
  return {
    legacyStorages: storages.records,
    legacyTensors: tensors.records,
    legacyComplete: storages.complete && tensors.complete,
  };
}

export const tarFormat: FormatAnalyser = {
  id: "tar",
  version: 1,
  description:
    "Tar archives (v7, ustar, GNU, pax) read like Python's tarfile, and PyTorch legacy tar checkpoints",
  detect: detectTar,
  analyse: analyseTar,
};

export { analyseLegacyMember, findLegacyLayout, type LegacyLayout } from "./pytorch-legacy.js";
export { TAR_RULES } from "./rules.js";
export type { TarArchive, TarDialect, TarEnding, TarEntry, TarEntryKind } from "./tar-reader.js";
export { openTar } from "./tar-reader.js";
