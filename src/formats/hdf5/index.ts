/**
 * HDF5 files: Keras models saved as `.h5`/`.hdf5` (and Keras 2's `.keras`), Keras 3's
 * `model.weights.h5` inside a `.keras` zip, and any other HDF5. The root attributes Keras writes
 * (`model_config`, `training_config`, `keras_version`, `backend`) are read with h5wasm and the
 * configs checked like a Keras 3 config.json; weights are never read.
 */

import { readAll } from "../../core/byte-source.js";
import type { LocalFinding } from "../../core/finding.js";
import { checkKerasConfig, type KerasConfigStats } from "../keras/check-config.js";
import {
  KERAS_MAX_JSON_BYTES,
  parseKerasJson,
  statsDetails,
  unreadableFinding,
} from "../keras/index.js";
import type { Analysis, Artifact, FormatAnalyser, Probe, ScanContext } from "../types.js";
import { findEndlessHeapWalk } from "./global-heap-check.js";
import { type Hdf5Attribute, readHdf5 } from "./read-hdf5.js";
import { HDF5_RULES } from "./rules.js";

/** `\x89HDF\r\n\x1a\n`: the superblock signature. */
export const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a] as const;
/** Most external links reported one by one; the rest are counted. */
const MAX_LINK_FINDINGS = 20;

/** Offset of the HDF5 signature within `head` (0, 512, 1024, 2048, …: after a user block), or -1. */
export function findHdf5Signature(head: Uint8Array): number {
  for (let at = 0; at + HDF5_SIGNATURE.length <= head.length; at = at === 0 ? 512 : at * 2) {
    if (HDF5_SIGNATURE.every((b, i) => head[at + i] === b)) return at;
  }
  return -1;
}

export function detectHdf5(probe: Probe): boolean {
  return findHdf5Signature(probe.head) >= 0;
}

function unreadable(message: string): LocalFinding {
  const rule = HDF5_RULES.unreadable;
  return { rule: rule.id, severity: rule.severity, message };
}

export async function analyseHdf5(artifact: Artifact, ctx: ScanContext): Promise<Analysis> {
  const { source } = artifact;
  const limit = ctx.limits.maxMemberBytes;
  if (source.size > limit) {
    return {
      format: "hdf5",
      findings: [
        unreadable(
          `This HDF5 file is ${source.size} bytes; the HDF5 library needs it in memory and the limit is ${limit} (maxMemberBytes): its model config was not vetted.`,
        ),
      ],
      children: [],
      unanalysable: true,
    };
  }
  const bytes = await readAll(source);
  const endless = findEndlessHeapWalk(bytes, Math.max(0, findHdf5Signature(bytes)));
  if (endless !== null) {
    return {
      format: "hdf5",
      findings: [
        unreadable(
          `The HDF5 library would never finish reading this file (${endless}); it was not opened, so its model config was not vetted.`,
        ),
      ],
      children: [],
      unanalysable: true,
    };
  }
  const read = await (ctx.readHdf5 ?? readHdf5)(bytes, {
    maxAttributeBytes: Math.min(KERAS_MAX_JSON_BYTES, limit),
  });
  if (!read.ok) {
    return {
      format: "hdf5",
      findings: [unreadable(`${read.error}. Nothing in this HDF5 file was vetted.`)],
      children: [],
      unanalysable: true,
    };
  }
  const summary = read.value;
  const findings: LocalFinding[] = [];
  let unanalysable = false;
  const attrs = new Map<string, Hdf5Attribute>(summary.rootAttributes.map((a) => [a.name, a]));
  const text = (name: string) => {
    const a = attrs.get(name);
    return a?.kind === "string" && a.value !== undefined ? a.value.slice(0, 100) : undefined;
  };

  const details: Record<string, string | number | boolean> = {
    superblockOffset: findHdf5Signature(await source.read(0, Math.min(source.size, 64 * 1024))),
    objects: summary.objects,
  };
  const kerasVersion = text("keras_version");
  const backend = text("backend");
  if (kerasVersion !== undefined) details.kerasVersion = kerasVersion;
  if (backend !== undefined) details.backend = backend;

  let isKeras = false;
  let stats: KerasConfigStats | undefined;
  for (const name of ["model_config", "training_config"]) {
    const attr = attrs.get(name);
    if (attr === undefined) continue;
    isKeras = true;
    const where = `The HDF5 attribute ${name}`;
    if (attr.kind !== "string" || attr.value === undefined) {
      unanalysable = true;
      findings.push(
        unreadableFinding(
          attr.tooLarge
            ? `${where} is larger than modelvet reads (${Math.min(KERAS_MAX_JSON_BYTES, limit)} bytes): the model config was not vetted.`
            : `${where} is not a string, so it cannot be the JSON Keras reads: the model config was not vetted.`,
        ),
      );
      continue;
    }
    const parsed = parseKerasJson(new TextEncoder().encode(attr.value));
    if (!parsed.ok) {
      unanalysable = true;
      findings.push(
        unreadableFinding(
          `${where} is not JSON (${parsed.error}): the model config was not vetted.`,
        ),
      );
      continue;
    }
    const report = checkKerasConfig(parsed.value, ctx, { origin: "h5", source: where });
    findings.push(...report.findings);
    if (name === "model_config") stats = report.stats;
  }
  if (stats !== undefined) Object.assign(details, statsDetails(stats));

  summary.externalLinks.forEach((link, i) => {
    if (i >= MAX_LINK_FINDINGS) return;
    const rule = HDF5_RULES.externalLink;
    findings.push({
      rule: rule.id,
      severity: rule.severity,
      message: `${JSON.stringify(link.path)} is an external link to ${JSON.stringify(link.objPath)} in the file ${JSON.stringify(link.filename)}: opening it reads that file, which was not scanned.`,
    });
  });
  if (summary.externalLinks.length > MAX_LINK_FINDINGS) {
    findings.push({
      rule: HDF5_RULES.externalLink.id,
      severity: HDF5_RULES.externalLink.severity,
      message: `${summary.externalLinks.length - MAX_LINK_FINDINGS} more external links were not listed.`,
    });
  }
  if (summary.truncated) {
    findings.push({
      rule: "limits.exceeded",
      severity: "info",
      message: `Only the first ${summary.objects} HDF5 objects were walked for external links.`,
    });
  }
  if (summary.externalLinks.length > 0) details.externalLinks = summary.externalLinks.length;

  return {
    format: isKeras ? "keras-h5" : "hdf5",
    findings,
    children: [],
    ...(unanalysable ? { unanalysable: true } : {}),
    details,
  };
}

export const hdf5Format: FormatAnalyser = {
  id: "hdf5",
  version: 1,
  description:
    "HDF5 files and Keras HDF5 models (.h5, .hdf5, Keras 2 .keras): model_config and training_config checked, external links listed",
  detect: detectHdf5,
  analyse: analyseHdf5,
};

export {
  HDF5_MAX_DEPTH,
  HDF5_MAX_OBJECTS,
  type Hdf5Attribute,
  type Hdf5ExternalLink,
  type Hdf5Summary,
  hdf5ErrorSummary,
  type ReadHdf5Options,
  readHdf5,
} from "./read-hdf5.js";
export { HDF5_RULES, type Hdf5Rule, type Hdf5RuleKey } from "./rules.js";
