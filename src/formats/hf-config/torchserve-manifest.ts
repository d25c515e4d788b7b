import type { LocalFinding } from "../../core/finding.js";
import type { Analysis, Artifact, FormatAnalyser, Probe } from "../types.js";
import { isJsonObject, type JsonObject } from "./parse-json.js";
import { jsonObjectHead, readJsonArtifact } from "./read-json.js";
import { HF_RULES } from "./rules.js";

/** TorchServe's default handlers (`ts.torch_handler.*`): code shipped with TorchServe itself. */
export const TORCHSERVE_BUILTIN_HANDLERS: ReadonlySet<string> = new Set([
  "image_classifier",
  "image_segmenter",
  "object_detector",
  "text_classifier",
  "base_handler",
]);

/**
 * `MAR-INF/MANIFEST.json` of a TorchServe model archive (`.mar`, a zip the zip analyser opens):
 * a JSON object with `"archiverVersion"`, or `"runtime"` and `"model"`, in its head.
 */
export function detectTorchServeManifest(probe: Probe): boolean {
  const text = jsonObjectHead(probe.head);
  if (text === null) return false;
  return (
    /"archiverVersion"\s*:/.test(text) || (/"runtime"\s*:/.test(text) && /"model"\s*:/.test(text))
  );
}

/** `handler.py:handle` → module `handler`, entry `handle`. */
export function handlerModule(handler: string): { module: string; entry: string | null } {
  const colon = handler.lastIndexOf(":");
  const path = colon < 0 ? handler : handler.slice(0, colon);
  const entry = colon < 0 ? null : handler.slice(colon + 1);
  const module = path.replace(/\.py$/, "").replace(/[\\/]/g, ".");
  return { module, entry };
}

/**
 * Names the code TorchServe runs for this archive: the handler (a built-in one, or a module of the
 * archive, which the engine analyses as a member with the Python analyser), the eager-mode model
 * file, and a requirements file.
 */
export async function analyseTorchServeManifest(artifact: Artifact): Promise<Analysis> {
  const read = await readJsonArtifact(artifact);
  if (!read.ok) {
    return {
      format: "torchserve-manifest",
      findings: read.findings,
      children: [],
      ...(read.unanalysable ? { unanalysable: true } : {}),
    };
  }
  const manifest = read.value;
  const model = isJsonObject(manifest) ? manifest.get("model") : undefined;
  if (!isJsonObject(manifest) || !isJsonObject(model)) {
    return { format: "torchserve-manifest", findings: [], children: [], notThisFormat: true };
  }
  const findings: LocalFinding[] = [];
  const handler = stringField(model, "handler");
  const handlerRule = HF_RULES.torchServeHandler;
  if (handler !== null) {
    const { module, entry } = handlerModule(handler);
    const builtin = TORCHSERVE_BUILTIN_HANDLERS.has(module);
    findings.push({
      rule: handlerRule.id,
      severity: handlerRule.severity,
      message: builtin
        ? `TorchServe serves this model with its built-in \`${module}\` handler (code that ships with TorchServe).`
        : `TorchServe runs this handler's code when the model is served: it imports \`${module}\` (\`${handler}\`) from the archive${entry ? ` and calls \`${entry}\`` : ""}. The handler's .py member is analysed as Python where it is scanned.`,
      evidence: {
        global: builtin ? `ts.torch_handler.${module}` : module,
        pseudocode: builtin
          ? `importlib.import_module("ts.torch_handler.${module}")`
          : `importlib.import_module(${JSON.stringify(module)})${entry ? `.${entry}(data, context)` : ""}`,
      },
    });
  }
  const modelFile = stringField(model, "modelFile");
  if (modelFile !== null) {
    findings.push({
      rule: handlerRule.id,
      severity: handlerRule.severity,
      message: `TorchServe imports \`${modelFile}\` from the archive to build the eager-mode model; it is analysed as Python where it is scanned.`,
      evidence: { global: handlerModule(modelFile).module },
    });
  }
  const requirements = stringField(model, "requirementsFile");
  if (requirements !== null) {
    const rule = HF_RULES.torchServeRequirements;
    findings.push({
      rule: rule.id,
      severity: rule.severity,
      message: `The archive ships \`${requirements}\`: with install_py_dep_per_model=true TorchServe pip-installs it, running each package's setup code.`,
    });
  }
  const details: Record<string, string> = {};
  for (const key of ["modelName", "modelVersion", "serializedFile", "handler", "modelFile"]) {
    const value = stringField(model, key);
    if (value !== null) details[key] = value.slice(0, 200);
  }
  const version = manifest.get("archiverVersion");
  if (typeof version === "string") details.archiverVersion = version.slice(0, 50);
  return { format: "torchserve-manifest", findings, children: [], details };
}

function stringField(object: JsonObject, key: string): string | null {
  const value = object.get(key);
  return typeof value === "string" && value !== "" ? value : null;
}

export const torchServeManifestFormat: FormatAnalyser = {
  id: "torchserve-manifest",
  version: 1,
  description:
    "TorchServe model archive manifests (MAR-INF/MANIFEST.json): the handler code served",
  detect: detectTorchServeManifest,
  analyse: analyseTorchServeManifest,
};
