import { readFile, stat } from "node:fs/promises";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { POLICY_FILE_NAME, type PolicyFile, parsePolicyFile } from "../policy/policy-file.js";

/** A policy file that cannot be read or is not valid (exit code 2; the message names the file). */
export class PolicyFileError extends Error {
  readonly code = "MODELVET_POLICY";
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Finds `modelvet.yaml` in the folder of `start` (or `start` itself when it is a folder) or the
 * nearest folder above it. The search stops at the root of a git checkout (a folder holding
 * `.git`), so a file outside the repository is never picked up, and at the file-system root.
 * Returns the path relative to `cwd` when it lies inside it, else absolute; null when none.
 */
export async function findPolicyFile(
  start: string,
  cwd: string = process.cwd(),
): Promise<string | null> {
  const absolute = resolve(cwd, start);
  let dir = (await isFile(absolute)) ? dirname(absolute) : absolute;
  for (;;) {
    const candidate = join(dir, POLICY_FILE_NAME);
    if (await isFile(candidate)) return displayPath(candidate, cwd);
    if (await exists(join(dir, ".git"))) return null;
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

function displayPath(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel) ? rel : path;
}

/**
 * Reads and checks a policy file.
 * @throws PolicyFileError when it cannot be read or is not a valid policy.
 */
export async function loadPolicyFile(
  path: string,
  knownRules?: ReadonlySet<string>,
): Promise<PolicyFile> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new PolicyFileError(
      `${path}: cannot read the policy file (${code === "ENOENT" ? "no such file" : (code ?? "error")})`,
    );
  }
  const parsed = parsePolicyFile(
    text,
    knownRules ? { source: path, knownRules } : { source: path },
  );
  if (!parsed.ok) throw new PolicyFileError(parsed.error);
  return parsed.value;
}
