import type { ByteSource } from "../../core/byte-source.js";
import type { LocalFinding } from "../../core/finding.js";
import { analysePickle } from "../pickle/analyse-pickle.js";
import type { ScanContext } from "../types.js";
import type { PytorchLayout } from "../zip/pytorch-layout.js";
import type { ZipEntry } from "../zip/zip-reader.js";
import { PYTORCH_RULE } from "./rules.js";
import { storageElementSize } from "./storage-types.js";
import { scanTorchScriptSource } from "./torchscript-code.js";

/** Reads one member's bytes (bounded by the zip reader), or undefined when it cannot. */
export type MemberReader = (entry: ZipEntry) => Promise<ByteSource | undefined>;

/** Longest TorchScript source read for the code scan. */
const MAX_CODE_BYTES = 4 * 1024 * 1024;

const topFolder = (name: string): string => name.slice(0, Math.max(0, name.indexOf("/")));

/**
 * Checks a `torch.save` zip the way `torch.load` reads it: the root folder is the first member's
 * (PyTorch's reader takes it from there), `<root>/data.pkl` is the pickle, `<root>/data/<key>` the
 * storages its persistent ids name. Findings cover what another reader would see differently and
 * storages that do not match. The pickles themselves are analysed by the engine as members.
 */
export async function checkPytorchZip(
  entries: readonly ZipEntry[],
  layout: PytorchLayout,
  ctx: ScanContext,
  read: MemberReader,
): Promise<LocalFinding[]> {
  const findings: LocalFinding[] = [];
  const first = entries.find((e) => !e.isDirectory);
  const root = first ? topFolder(first.name) : "";
  const dataPkl = layout.pickles.filter((e) => e.name === `${root}/data.pkl`);

  if (layout.pickles.length > 1) {
    findings.push({
      rule: PYTORCH_RULE.multipleDataPkl,
      severity: "high",
      message: `The checkpoint holds ${layout.pickles.length} data.pkl members (${layout.pickles.map((e) => e.name).join(", ")}). torch.load reads the one under the first member's folder ("${root}"); another tool may read a different one. All were analysed.`,
      offset: layout.pickles[1]!.localHeaderOffset,
    });
  }
  if (dataPkl.length === 0) {
    findings.push({
      rule: PYTORCH_RULE.storageLayout,
      severity: "medium",
      message: `The first member's folder is "${root}", but there is no ${root}/data.pkl: torch.load would refuse this file. The data.pkl members found elsewhere were analysed.`,
    });
  }

  for (const entry of entries) {
    if (entry.isDirectory || !/\.pkl$/i.test(entry.name)) continue;
    const inRoot = layout.roots.some(
      (r) => entry.name === `${r}/data.pkl` || entry.name === `${r}/constants.pkl`,
    );
    if (!inRoot) {
      findings.push({
        rule: PYTORCH_RULE.unexpectedPickle,
        severity: "medium",
        message: `${entry.name} is a pickle outside the places torch.load reads (data.pkl, constants.pkl). torch.load ignores it, but another loader or script may not; it was analysed too.`,
        offset: entry.localHeaderOffset,
      });
    }
  }

  // torch.load's own test (_is_torchscript_zip): a constants.pkl record in the archive.
  const constants = entries.find((e) => !e.isDirectory && e.name === `${root}/constants.pkl`);
  if (constants) {
    findings.push({
      rule: PYTORCH_RULE.torchscript,
      severity: "info",
      message: `TorchScript archive (${root}/constants.pkl): torch.load hands it to torch.jit.load — even with weights_only=True before PyTorch 2.6 (CVE-2025-32434) — which builds the model from the archive's own code/ and runs scripted methods such as __setstate__ while loading. The TorchScript code was scanned too.`,
      offset: constants.localHeaderOffset,
      references: ["CVE-2025-32434", "GHSA-53q9-r3pm-6pq6"],
    });
  }

  const chosen = dataPkl[0];
  if (chosen) findings.push(...(await checkStorages(entries, root, chosen, ctx, read)));

  for (const entry of entries) {
    if (
      entry.isDirectory ||
      !entry.name.startsWith(`${root}/code/`) ||
      !entry.name.endsWith(".py")
    ) {
      continue;
    }
    const source = entry.uncompressedSize <= MAX_CODE_BYTES ? await read(entry) : undefined;
    if (!source) continue;
    const text = new TextDecoder().decode(await source.read(0, source.size));
    for (const hit of scanTorchScriptSource(text)) {
      findings.push({ ...hit, message: `${entry.name}: ${hit.message}` });
    }
  }
  return findings;
}

async function checkStorages(
  entries: readonly ZipEntry[],
  root: string,
  dataPkl: ZipEntry,
  ctx: ScanContext,
  read: MemberReader,
): Promise<LocalFinding[]> {
  const source = await read(dataPkl);
  if (!source) return [];
  const report = await analysePickle(source, ctx);
  const members = new Map<string, ZipEntry>();
  for (const e of entries) {
    if (e.name.startsWith(`${root}/data/`)) members.set(e.name.slice(root.length + 6), e);
  }
  const findings: LocalFinding[] = [];
  const referenced = new Set<string>();
  for (const p of report.persistentIds) {
    if (p.pid.kind !== "tuple") continue;
    const [tag, type, key, , numel] = p.pid.items;
    if (
      tag?.kind !== "str" ||
      tag.value !== "storage" ||
      key?.kind !== "str" ||
      key.value === null
    ) {
      continue;
    }
    referenced.add(key.value);
    const member = members.get(key.value);
    if (!member) {
      findings.push({
        rule: PYTORCH_RULE.storageLayout,
        severity: "medium",
        message: `data.pkl refers to storage "${key.value}", but ${root}/data/${key.value} does not exist: torch.load would fail.`,
        offset: p.offset,
      });
      continue;
    }
    const size = type?.kind === "global" ? storageElementSize(type.module, type.name) : undefined;
    const count =
      numel?.kind === "int" && typeof numel.value === "number" ? numel.value : undefined;
    if (size !== undefined && count !== undefined && member.uncompressedSize < count * size) {
      findings.push({
        rule: PYTORCH_RULE.storageLayout,
        severity: "medium",
        message: `Storage "${key.value}" should hold ${count} × ${size} bytes, but ${member.name} has ${member.uncompressedSize}: torch.load would fail.`,
        offset: p.offset,
      });
    }
  }
  const unused = [...members.keys()].filter((k) => !referenced.has(k));
  if (unused.length > 0 && report.persistentIds.length > 0) {
    findings.push({
      rule: PYTORCH_RULE.unusedStorage,
      severity: "info",
      message: `${unused.length} member(s) under ${root}/data/ are not referenced by data.pkl (e.g. ${unused[0]}); they are never read.`,
    });
  }
  return findings;
}
