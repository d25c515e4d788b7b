import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { planConversion } from "../convert/plan.js";
import { layoutSafetensors } from "../convert/safetensors-header.js";
import type { ConversionPlan, Refusal } from "../convert/types.js";
import { scanFile } from "../scan/scan.js";
import { openFile } from "../sources/file-source.js";
import { writeSafetensors } from "../sources/write-safetensors.js";
import { VERSION } from "../version.js";
import { UsageError } from "./errors.js";
import { EXIT } from "./exit-code.js";
import type { ConvertCommandOptions } from "./program.js";
import type { Terminal } from "./run-scan.js";

/** A file that is not converted, and why (exit code 1). */
class ConvertRefused extends Error {}

interface Prepared {
  input: string;
  output: string;
  plan: ConversionPlan;
  sha256: string;
  close: () => Promise<void>;
}

const exists = (path: string): Promise<boolean> =>
  stat(path).then(
    () => true,
    () => false,
  );

function describeRefusal(input: string, r: Refusal): string {
  const where = [
    r.member === undefined ? "" : `in ${r.member}`,
    r.offset === undefined ? "" : `at offset ${r.offset}`,
  ]
    .filter(Boolean)
    .join(" ");
  return `refused to convert ${input}: ${r.reason}${where ? ` (${where})` : ""}`;
}

/** Scans, then plans one file; refuses malicious files and anything the plan refuses. */
async function prepare(input: string, output: string, drop: boolean): Promise<Prepared> {
  const scanned = await scanFile({ path: input, open: () => openFile(input, { hash: false }) });
  if (scanned.verdict === "malicious") {
    const reasons = scanned.findings
      .filter((f) => f.severity === "critical")
      .slice(0, 3)
      .map((f) => `  ${f.rule}: ${f.message}`)
      .join("\n");
    throw new ConvertRefused(
      `refused to convert ${input}: the scan finds it malicious; nothing was written\n${reasons}`,
    );
  }
  const opened = await openFile(input, { hash: true });
  const close = async () => opened.close?.();
  try {
    const plan = await planConversion(opened.source, { dropNonTensors: drop });
    if (!plan.ok) throw new ConvertRefused(describeRefusal(input, plan.error));
    if (plan.value.tensors.length === 0) {
      throw new ConvertRefused(`refused to convert ${input}: it holds no tensors`);
    }
    const sha256 = await opened.sha256!();
    return { input, output, plan: plan.value, sha256, close };
  } catch (error) {
    await close();
    throw error;
  }
}

async function write(p: Prepared, term: Terminal): Promise<number> {
  try {
    const layout = layoutSafetensors(p.plan.tensors, {
      format: "pt",
      source: basename(p.input),
      source_sha256: p.sha256,
      converted_by: `modelvet ${VERSION}`,
    });
    const written = await writeSafetensors(p.output, layout);
    const shared =
      p.plan.sharedStorages > 0
        ? `, ${p.plan.sharedStorages} sharing a storage (each written with its own bytes)`
        : "";
    term.stdout.write(
      `converted ${p.input} → ${p.output}: ${p.plan.tensors.length} tensors, ${written.bytes} bytes${shared}; verified\n`,
    );
    for (const d of p.plan.dropped) term.stdout.write(`  dropped ${d.name}: ${d.reason}\n`);
    return layout.dataBytes;
  } finally {
    await p.close();
  }
}

/** `pytorch_model-00001-of-00002.bin` → `model-00001-of-00002.safetensors`. */
export function safetensorsName(binName: string): string {
  return binName.replace(/^pytorch_model/, "model").replace(/\.bin$/, ".safetensors");
}

async function convertFolder(dir: string, options: ConvertCommandOptions, term: Terminal) {
  const names = (await readdir(dir)).filter((n) => /^pytorch_model.*\.bin$/.test(n)).sort();
  const indexName = "pytorch_model.bin.index.json";
  let shards = names;
  let index: { metadata?: unknown; weight_map?: Record<string, string> } | undefined;
  if (await exists(join(dir, indexName))) {
    index = JSON.parse(await readFile(join(dir, indexName), "utf8"));
    const listed = [...new Set(Object.values(index?.weight_map ?? {}))].sort();
    if (listed.length === 0) throw new UsageError(`${indexName} lists no shards`);
    for (const n of listed) {
      if (!/^[^/\\]+\.bin$/.test(n) || !names.includes(n)) {
        throw new UsageError(`${indexName} names ${JSON.stringify(n)}, which is not in ${dir}`);
      }
    }
    shards = listed;
  }
  if (shards.length === 0) throw new UsageError(`${dir} holds no pytorch_model*.bin file`);
  const outputs = shards.map((n) => join(dir, safetensorsName(n)));
  const outIndex = join(dir, "model.safetensors.index.json");
  if (!options.force) {
    for (const o of [...outputs, ...(index ? [outIndex] : [])]) {
      if (await exists(o)) throw new UsageError(`${o} exists; use --force to overwrite it`);
    }
  }
  // Plan every shard before writing any, so that a refused shard leaves nothing behind.
  const prepared: Prepared[] = [];
  try {
    for (const [i, n] of shards.entries()) {
      prepared.push(await prepare(join(dir, n), outputs[i]!, options.dropNonTensors));
    }
  } catch (error) {
    for (const p of prepared) await p.close();
    throw error;
  }
  let total = 0;
  const weightMap: Record<string, string> = {};
  for (const p of prepared) {
    const names = p.plan.tensors.map((t) => t.name);
    total += await write(p, term);
    for (const name of names) weightMap[name] = basename(p.output);
  }
  if (index) {
    const sorted = Object.fromEntries(
      Object.entries(weightMap).sort(([a], [b]) => (a < b ? -1 : 1)),
    );
    await writeFile(
      outIndex,
      `${JSON.stringify({ metadata: { total_size: total }, weight_map: sorted }, null, 2)}\n`,
    );
    term.stdout.write(`wrote ${outIndex}\n`);
  }
}

/** `modelvet convert`: returns the exit code (0 converted, 1 refused); usage errors throw. */
export async function runConvert(options: ConvertCommandOptions, term: Terminal): Promise<number> {
  const info = await stat(options.input).catch(() => {
    throw new UsageError(`${options.input}: no such file or folder`);
  });
  try {
    if (info.isDirectory()) {
      if (options.output !== undefined) {
        throw new UsageError("-o/--output names one file; a folder is converted in place");
      }
      await convertFolder(options.input, options, term);
      return EXIT.clean;
    }
    const output =
      options.output ??
      join(
        dirname(options.input),
        `${basename(options.input).replace(/\.[^.]*$/, "")}.safetensors`,
      );
    if (output === options.input) throw new UsageError("the output would overwrite the input");
    if (!options.force && (await exists(output))) {
      throw new UsageError(`${output} exists; use --force to overwrite it`);
    }
    await write(await prepare(options.input, output, options.dropNonTensors), term);
    return EXIT.clean;
  } catch (error) {
    if (error instanceof ConvertRefused) {
      term.stderr.write(`modelvet: ${error.message}\n`);
      return EXIT.findings;
    }
    throw error;
  }
}
