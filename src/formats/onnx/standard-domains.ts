/**
 * Operator-set domains as data. ONNX's own domains need nothing but the runtime; onnxruntime's
 * contrib domains are compiled into onnxruntime; anything else names a custom-op library.
 * (`""` and `ai.onnx` are the same default domain.)
 */
export const ONNX_STANDARD_DOMAINS: ReadonlySet<string> = new Set([
  "",
  "ai.onnx",
  "ai.onnx.ml",
  "ai.onnx.training",
  "ai.onnx.preview.training",
]);

/** onnxruntime's built-in contrib-op domains (kMSDomain and kin in onnxruntime/core/graph/constants.h). */
export const ONNX_RUNTIME_CONTRIB_DOMAINS: ReadonlySet<string> = new Set([
  "com.microsoft",
  "com.microsoft.nchwc",
  "com.microsoft.experimental",
  "com.microsoft.dml",
]);

export type DomainClass = "standard" | "contrib" | "custom";

export function classifyDomain(domain: string): DomainClass {
  if (ONNX_STANDARD_DOMAINS.has(domain)) return "standard";
  if (ONNX_RUNTIME_CONTRIB_DOMAINS.has(domain)) return "contrib";
  return "custom";
}
