import { stat } from "node:fs/promises";
import { dirname, isAbsolute, relative, resolve } from "node:path";
import { EMPTY_POLICY_FILE, type PolicyFile } from "../policy/policy-file.js";
import { allRules } from "../scan/all-rules.js";
import { normalisePath } from "../scan/apply-policy.js";
import { findPolicyFile, loadPolicyFile } from "../sources/policy-file-loader.js";
import { PathError } from "../sources/walk.js";
import type { PolicyChoice } from "./program.js";

/** The policy file in force and where it is (null: none). */
export interface ResolvedPolicy {
  path: string | null;
  file: PolicyFile;
}

/**
 * `--policy FILE`, `--no-policy`, or `modelvet.yaml` found upward from `start`.
 * @throws PathError when `start` does not exist; PolicyFileError for a bad policy file.
 */
export async function resolvePolicy(choice: PolicyChoice, start: string): Promise<ResolvedPolicy> {
  if (choice === false) return { path: null, file: EMPTY_POLICY_FILE };
  let path: string | null;
  if (typeof choice === "string") path = choice;
  else {
    try {
      await stat(start);
    } catch {
      throw new PathError(`${start}: no such file or folder`);
    }
    path = await findPolicyFile(start);
  }
  if (path === null) return { path: null, file: EMPTY_POLICY_FILE };
  const knownRules = new Set(allRules().map((r) => r.id));
  return { path, file: await loadPolicyFile(path, knownRules) };
}

/**
 * Maps a scanned path to the form globs and baselines use: relative to `dir` with `/`
 * separators. URLs and other non-file inputs are only normalised.
 */
export function relativeTo(dir: string): (path: string) => string {
  const base = resolve(dir);
  return (path) => {
    if (/^[A-Za-z][A-Za-z0-9+.-]+:/.test(path) && !/^[A-Za-z]:[\\/]/.test(path)) {
      return normalisePath(path);
    }
    const rel = relative(base, resolve(path));
    return normalisePath(isAbsolute(rel) ? resolve(path) : rel);
  };
}

/** The folder of a file, for {@link relativeTo}. */
export function folderOf(file: string): string {
  return dirname(resolve(file));
}
