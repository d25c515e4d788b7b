import { datasetInfo, listFiles, modelInfo, spaceInfo } from "@huggingface/hub";
import type { ScanInput } from "../../src/scan/scan.js";
import { ByteBudget, openHttpSource } from "../../src/sources/http-range-source.js";

/** Bytes one repository scan may fetch by range requests, all files together. */
export const HUB_BYTE_BUDGET = 512 * 1024 * 1024;

export type HubRepoType = "model" | "dataset" | "space";

export interface HubTarget {
  type: HubRepoType;
  /** `org/name`. */
  id: string;
  /** Branch, tag or commit; the default branch when absent. */
  revision?: string;
}

/**
 * Reads `hf://[datasets/|spaces/]org/name[@revision]` (or the same without the scheme, or a Hub
 * page URL's path). Returns an error message for anything else.
 */
export function parseHubTarget(text: string): HubTarget | string {
  let rest = text.trim().replace(/^hf:\/\//, "");
  let type: HubRepoType = "model";
  for (const [prefix, t] of [
    ["datasets/", "dataset"],
    ["spaces/", "space"],
    ["models/", "model"],
  ] as const) {
    if (rest.startsWith(prefix)) {
      type = t;
      rest = rest.slice(prefix.length);
    }
  }
  let revision: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    revision = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (revision === "") return "Give a branch, tag or commit after '@'.";
  }
  const id = rest.replace(/\/+$/, "");
  const parts = id.split("/");
  if (
    parts.length > 2 ||
    parts.some((p) => !/^[A-Za-z0-9][\w.-]*$/.test(p) || p.includes("..") || p.endsWith("."))
  ) {
    return "Expected hf://org/name or hf://org/name@revision (datasets/ or spaces/ may lead).";
  }
  return revision === undefined ? { type, id } : { type, id, revision };
}

function typePrefix(type: HubRepoType): string {
  return type === "model" ? "" : `${type}s/`;
}

export interface HubPlan {
  commit: string;
  inputs: ScanInput[];
  budget: ByteBudget;
}

/**
 * Resolves the revision to a commit, lists every file there, and opens each lazily as a range
 * source at that commit. Files are named `hf://org/name@commit/path`, as the CLI names them. The
 * token goes to the Hub's origin only (http-range-source.ts drops it on a redirect to a CDN).
 */
export async function planHubScan(
  target: HubTarget,
  options: { endpoint: string; token?: string; onBytes?: (n: number) => void },
): Promise<HubPlan> {
  const hubUrl = options.endpoint.replace(/\/+$/, "");
  const credentials = options.token ? { accessToken: options.token } : {};
  const common = {
    name: target.id,
    revision: target.revision ?? "main",
    hubUrl,
    additionalFields: ["sha"] as "sha"[],
    ...credentials,
  };
  const info =
    target.type === "model"
      ? await modelInfo(common)
      : target.type === "dataset"
        ? await datasetInfo(common)
        : await spaceInfo(common);
  const commit = (info as { sha?: unknown }).sha;
  if (typeof commit !== "string" || !/^[0-9a-f]{40}$/i.test(commit)) {
    throw new Error(`the Hub at ${hubUrl} did not say which commit ${target.id} is at`);
  }
  const paths: string[] = [];
  for await (const entry of listFiles({
    repo: { type: target.type, name: target.id },
    revision: commit,
    recursive: true,
    hubUrl,
    ...credentials,
  })) {
    if (entry.type === "file") paths.push(entry.path);
  }
  paths.sort();
  const budget = new ByteBudget(HUB_BYTE_BUDGET);
  const headers = options.token ? { authorization: `Bearer ${options.token}` } : undefined;
  const prefix = typePrefix(target.type);
  const inputs = paths.map((path): ScanInput => {
    const url = `${hubUrl}/${prefix}${target.id}/resolve/${commit}/${path.split("/").map(encodeURIComponent).join("/")}`;
    return {
      path: `hf://${prefix}${target.id}@${commit}/${path}`,
      open: async () => {
        const opened = await openHttpSource(url, {
          budget,
          ...(headers ? { headers } : {}),
          ...(options.onBytes ? { onBytes: options.onBytes } : {}),
        });
        return { source: opened.source };
      },
    };
  });
  return { commit, inputs, budget };
}
