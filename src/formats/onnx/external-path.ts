/**
 * Why an ONNX external-data `location` may reach outside the model's folder. onnx.load joins it
 * to the model's directory with `os.path.join` (an absolute second argument replaces the base;
 * `..` climbs out), and onnxruntime does the same with its own path join; Windows loaders also
 * take drive letters, UNC paths and backslashes. Any `..` component is reported, even one that
 * would climb back in: onnx ≥ 1.16 refuses them all.
 */
export type ExternalPathProblem = "absolute" | "drive" | "url" | "parent" | "nul";

const URL_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;
const DRIVE = /^[A-Za-z]:/;

export function externalPathProblems(location: string): ExternalPathProblem[] {
  const problems: ExternalPathProblem[] = [];
  if (location.startsWith("/") || location.startsWith("\\")) problems.push("absolute");
  if (DRIVE.test(location)) problems.push("drive");
  if (URL_SCHEME.test(location)) problems.push("url");
  if (location.split(/[\\/]/).includes("..")) problems.push("parent");
  if (location.includes("\0")) problems.push("nul");
  return problems;
}

export function describePathProblems(problems: readonly ExternalPathProblem[]): string {
  const words: Record<ExternalPathProblem, string> = {
    absolute: "an absolute path",
    drive: "a Windows drive path",
    url: "a URL",
    parent: "a `..` component that climbs out of the model's folder",
    nul: "a NUL byte (the path is cut there by C loaders)",
  };
  return problems.map((p) => words[p]).join(", ");
}
