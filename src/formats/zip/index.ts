import { sliceSource } from "../../core/byte-source.js";
import type { LocalFinding } from "../../core/finding.js";
import { pickleFormat } from "../pickle/index.js";
import { checkPytorchZip } from "../pytorch/zip-checkpoint.js";
import {
  type Analysis,
  type Artifact,
  type Child,
  type FormatAnalyser,
  inflateBudget,
  type Probe,
  type ScanContext,
} from "../types.js";
import { findPytorchLayout, isTensorStorage } from "./pytorch-layout.js";
import { ZIP_RULES } from "./rules.js";
import { findEocdSignatures, openZip, readZipMember, type ZipArchive } from "./zip-reader.js";

const LOCAL_MAGIC = [0x50, 0x4b, 0x03, 0x04];
/** Child name for the bytes that precede the archive. */
export const PREFIX_CHILD = "(bytes before the archive)";
/** Child name for the whole file read as a pickle from offset 0, as a non-zip loader reads it. */
export const WHOLE_FILE_CHILD = "(the whole file, as pickle.load reads it)";

/** `PK\x03\x04` at the start, or an end record in the tail (bytes prepended to an archive). */
export function detectZip(probe: Probe): boolean {
  if (LOCAL_MAGIC.every((b, i) => probe.head[i] === b)) return true;
  const { tail } = probe;
  for (const at of findEocdSignatures(tail)) {
    const commentLength = tail[at + 20]! | (tail[at + 21]! << 8);
    const cdSize =
      (tail[at + 12]! | (tail[at + 13]! << 8) | (tail[at + 14]! << 16) | (tail[at + 15]! << 24)) >>>
      0;
    const eocdOffset = probe.size - tail.length + at;
    if (at + 22 + commentLength <= tail.length && (cdSize === 0xffffffff || cdSize <= eocdOffset)) {
      return true;
    }
  }
  return false;
}

function unanalysable(message: string): LocalFinding {
  const rule = ZIP_RULES.unanalysable;
  return { rule: rule.id, severity: rule.severity, message };
}

/**
 * Lists and reads every member (directories skipped) and hands each back as a child: the engine
 * detects its format from its bytes, so `data.pkl` becomes a pickle and a nested zip recurses.
 * For PyTorch zips (`<root>/data.pkl`), raw tensor storage under `<root>/data/` is counted, never read.
 */
export async function analyseZip(artifact: Artifact, ctx: ScanContext): Promise<Analysis> {
  const opened = await openZip(artifact.source, { limits: ctx.limits });
  if (!opened.ok) {
    return {
      format: "zip",
      findings: [opened.error, unanalysable("No zip structure could be read: nothing was vetted")],
      children: [],
      unanalysable: true,
    };
  }
  return analyseArchive(opened.value, ctx);
}

async function analyseArchive(archive: ZipArchive, ctx: ScanContext): Promise<Analysis> {
  const findings: LocalFinding[] = [...archive.findings];
  const children: Child[] = [];
  const layout = findPytorchLayout(archive.entries);
  const budget = inflateBudget(ctx);
  const nameUses = new Map<string, number>();
  let tensorStorage = 0;
  let directories = 0;
  let unreadable = 0;
  let encrypted = 0;

  for (const entry of archive.entries) {
    if (entry.isDirectory && entry.compressedSize === 0 && entry.uncompressedSize === 0) {
      directories++;
      continue;
    }
    if (layout && isTensorStorage(layout, entry)) {
      tensorStorage++;
      continue;
    }
    const member = await readZipMember(archive, entry, { limits: ctx.limits, budget });
    if (!member.ok) {
      findings.push(...member.error.findings);
      unreadable++;
      if (member.error.encrypted) encrypted++;
      continue;
    }
    findings.push(...member.value.findings);
    const uses = (nameUses.get(entry.name) ?? 0) + 1;
    nameUses.set(entry.name, uses);
    children.push({
      name: uses === 1 ? entry.name : `${entry.name}#${uses}`,
      source: member.value.source,
    });
  }

  const read = children.length;
  const attempted = read + unreadable;
  let isUnanalysable = false;
  if (encrypted > 0) {
    isUnanalysable = true;
    findings.push(
      unanalysable(
        `${encrypted} encrypted member(s) could not be analysed: the archive is not vetted`,
      ),
    );
  } else if (attempted > 0 && read === 0) {
    isUnanalysable = true;
    findings.push(
      unanalysable(`None of the ${attempted} member(s) could be read: nothing was vetted`),
    );
  } else if (archive.recovered && archive.entries.length === 0) {
    isUnanalysable = true;
    findings.push(unanalysable("No member could be found in this damaged zip: nothing was vetted"));
  }

  if (layout) {
    findings.push(
      ...(await checkPytorchZip(archive.entries, layout, ctx, async (entry) => {
        const member = await readZipMember(archive, entry, { limits: ctx.limits, budget });
        return member.ok ? member.value.source : undefined;
      })),
    );
  }

  // Bytes before the archive are what a loader reading from the start sees: torch.load takes a
  // file that does not start with PK\x03\x04 for a pickle, and pickle.load reads on past where
  // the archive starts (a BINBYTES can swallow the whole zip and the payload follow it). So when
  // those bytes open a pickle, the whole file is analysed as one; otherwise just the prefix.
  if (archive.leadingBytes > 0) {
    const prefix = sliceSource(archive.source, 0, archive.leadingBytes);
    const head = await prefix.read(0, Math.min(prefix.size, 16));
    const opensPickle = pickleFormat.detect({ head, tail: head, size: prefix.size });
    children.push(
      opensPickle
        ? { name: WHOLE_FILE_CHILD, source: archive.source, hint: pickleFormat.id }
        : { name: PREFIX_CHILD, source: prefix },
    );
  }

  return {
    format: layout ? "pytorch-zip" : "zip",
    findings,
    children,
    ...(isUnanalysable ? { unanalysable: true } : {}),
    details: {
      members: archive.entries.length,
      read,
      unreadable,
      encrypted,
      directories,
      tensorStorageSkipped: tensorStorage,
      prependedBytes: archive.prependedBytes,
      leadingBytes: archive.leadingBytes,
      zip64: archive.zip64,
      recoveredFromLocalHeaders: archive.recovered,
    },
  };
}

export const zipFormat: FormatAnalyser = {
  id: "zip",
  version: 1,
  description: "Zip archives and PyTorch zip checkpoints, read as leniently as PyTorch does",
  detect: detectZip,
  analyse: analyseZip,
};

export type { PytorchLayout } from "./pytorch-layout.js";
export { findPytorchLayout, isTensorStorage } from "./pytorch-layout.js";
export { ZIP_RULES } from "./rules.js";
export type {
  InflateBudget,
  ZipArchive,
  ZipEntry,
  ZipLocalHeader,
  ZipMember,
  ZipMemberError,
  ZipOpenOptions,
  ZipReadOptions,
} from "./zip-reader.js";
export { createInflateBudget, openZip, readLocalHeader, readZipMember } from "./zip-reader.js";
