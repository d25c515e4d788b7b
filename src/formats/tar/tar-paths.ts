/** Path checks on tar member names and link targets (pure string functions). */

/** POSIX `os.path.normpath`, which `TarFile.getmember` applies before comparing names. */
export function normalizeMemberPath(path: string): string {
  if (path === "") return ".";
  // POSIX keeps exactly two leading slashes; one or three and more become one.
  const lead = !path.startsWith("/")
    ? ""
    : path.startsWith("//") && !path.startsWith("///")
      ? "//"
      : "/";
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part !== ".." || (lead === "" && out.length === 0) || out.at(-1) === "..") out.push(part);
    else if (out.length > 0) out.pop();
  }
  const joined = lead + out.join("/");
  return joined === "" ? "." : joined;
}

/** Splits on both separators: Windows extractors treat `\` as one. */
function segments(path: string): string[] {
  return path.split(/[\\/]/);
}

/** `/x`, `\x`, `C:x`: extraction ignores the target folder. */
export function isAbsolutePath(path: string): boolean {
  return /^[\\/]/.test(path) || /^[A-Za-z]:/.test(path);
}

/** True when a `..` segment appears anywhere in the name. */
export function hasTraversal(path: string): boolean {
  return segments(path).includes("..");
}

/**
 * True when a link target resolves outside the extraction folder: absolute, or climbing above
 * it. Symbolic links resolve from the link's folder, hard links from the archive root.
 */
export function linkEscapes(linkName: string, target: string, symbolic: boolean): boolean {
  if (isAbsolutePath(target)) return true;
  const parts = segments(linkName).slice(0, -1);
  const base = symbolic ? parts.filter((p) => p !== "" && p !== ".") : [];
  let depth = 0;
  for (const part of base) depth += part === ".." ? -1 : 1;
  if (depth < 0) return true;
  for (const part of segments(target)) {
    if (part === "" || part === ".") continue;
    depth += part === ".." ? -1 : 1;
    if (depth < 0) return true;
  }
  return false;
}
