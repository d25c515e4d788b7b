/**
 * Walks a Keras model config — Keras 3's config.json, an HDF5 `model_config` / `training_config`
 * attribute, `model.to_json()` — and reports what loading it would reach: Lambda bytecode,
 * classes and functions outside Keras, and Keras' own loaders and file helpers that the published
 * safe_mode bypasses use. Every object `{class_name, config, module?, registered_name?}` is seen,
 * at any depth (layers, nested models, initializers, optimizers, losses, Lambda functions).
 */

import type { LocalFinding, Severity } from "../../core/finding.js";
import type { ScanContext } from "../types.js";
import { type LambdaSite, lambdaFinding } from "./decode-lambda.js";
import {
  isKerasBuiltinClass,
  isKerasOwnModule,
  KERAS_BUILTIN_FUNCTIONS,
  KERAS_SPECIAL_CLASS_NAMES,
} from "./known-layers.js";
import { KERAS_RULES } from "./rules.js";
import { RISKY_TF_OP_PREFIXES, UNSAFE_KERAS_BY_NAME } from "./unsafe-references.js";

/** JSON nodes visited in one config before the rest is skipped (a finding says so). */
export const KERAS_MAX_CONFIG_NODES = 2_000_000;
/** Deepest JSON nesting walked. */
export const KERAS_MAX_CONFIG_DEPTH = 1000;

export interface KerasConfigOptions {
  /** Where the config comes from: legacy HDF5, Keras 3 config.json, or model.to_json(). */
  origin: LambdaSite["origin"];
  /** Named in messages, e.g. `HDF5 attribute model_config`. */
  source: string;
}

export interface KerasConfigStats {
  /** Objects with a `class_name`. */
  objects: number;
  lambdas: number;
  customObjects: number;
  unsafeReferences: number;
  /** The walk stopped at a limit. */
  truncated: boolean;
  /** The outermost class, e.g. `Sequential`. */
  rootClass?: string;
}

export interface KerasConfigReport {
  findings: LocalFinding[];
  stats: KerasConfigStats;
}

interface Frame {
  value: unknown;
  depth: number;
  /** Key under which the value sits in its parent object. */
  key: string;
  /** Nearest enclosing serialized object: its class name and layer name. */
  owner?: { className: string; name?: string };
}

interface CustomUse {
  module?: string;
  name: string;
  registered?: string;
  kind: "class" | "function";
  layers: Set<string>;
  count: number;
  reason?: string;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json =>
  v !== null && typeof v === "object" && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const quote = (s: string) => `\`${s.length > 200 ? `${s.slice(0, 200)}…` : s}\``;

/** `module.fn(inputs, **{"a": 1})` for a function, `module.Class.from_config(…)` for a class. */
function callText(path: string, kind: "class" | "function", args: string | undefined): string {
  if (kind === "class") return `${path}.from_config(…)`;
  return args === undefined ? `${path}(inputs)` : `${path}(inputs, **${args})`;
}

/** Checks one parsed config. Pure: bad shapes are skipped, never thrown on; the input is not changed. */
export function checkKerasConfig(
  config: unknown,
  ctx: ScanContext,
  options: KerasConfigOptions,
): KerasConfigReport {
  const findings: LocalFinding[] = [];
  const custom = new Map<string, CustomUse>();
  const stats: KerasConfigStats = {
    objects: 0,
    lambdas: 0,
    customObjects: 0,
    unsafeReferences: 0,
    truncated: false,
  };
  if (isObject(config) && typeof config.class_name === "string")
    stats.rootClass = config.class_name;

  const unsafe = (
    f: Omit<LocalFinding, "rule" | "severity">,
    severity: Severity = KERAS_RULES.unsafeReference.severity,
  ) => {
    stats.unsafeReferences++;
    findings.push({ rule: KERAS_RULES.unsafeReference.id, severity, ...f });
  };
  const lambda = (payload: unknown, site: LambdaSite) => {
    stats.lambdas++;
    findings.push(lambdaFinding(payload, site, ctx));
  };
  const useCustom = (use: Omit<CustomUse, "layers" | "count">, layer: string | undefined) => {
    const key = `${use.kind}|${use.module ?? ""}|${use.name}|${use.registered ?? ""}`;
    let entry = custom.get(key);
    if (entry === undefined) {
      entry = { ...use, layers: new Set(), count: 0 };
      custom.set(key, entry);
    }
    entry.count++;
    if (layer !== undefined && entry.layers.size < 10) entry.layers.add(layer);
  };
  const inLayer = (layer: string | undefined) =>
    layer === undefined ? "" : ` (layer ${JSON.stringify(layer)})`;

  /** A `module` + name reference (class or function) as Keras resolves it. */
  const reference = (
    module: string | undefined,
    name: string,
    kind: "class" | "function",
    registered: string | undefined,
    layer: string | undefined,
    node: Json,
    parentConfig: Json | undefined,
  ) => {
    const args = isObject(parentConfig?.arguments)
      ? JSON.stringify(parentConfig.arguments)
      : undefined;
    if (module !== undefined && module !== "") {
      const verdict = ctx.policy.classifyGlobal(module, name);
      if (verdict.class === "dangerous") {
        unsafe({
          message: `${options.source}${inLayer(layer)} references the ${kind} ${quote(`${module}.${name}`)}: Keras before 3.9 imports ${quote(module)} and uses it even with safe_mode=True (CVE-2025-1550). ${verdict.reason}`,
          evidence: {
            global: `${module}.${name}`,
            pseudocode: callText(`${module}.${name}`, kind, args),
          },
          references: ["CVE-2025-1550", ...(verdict.references ?? [])],
        });
        return;
      }
      if (isKerasOwnModule(module)) {
        knownUnsafe(name, kind, `${module}.${name}`, layer, node, args);
        return;
      }
      if (kind === "function" && module === "builtins" && KERAS_BUILTIN_FUNCTIONS.has(name)) return;
      useCustom(
        { module, name, kind, ...(registered ? { registered } : {}), reason: verdict.reason },
        layer,
      );
      return;
    }
    if (kind === "function") {
      if (!KERAS_BUILTIN_FUNCTIONS.has(name)) useCustom({ name, kind }, layer);
      return;
    }
    if (
      isKerasBuiltinClass(name) ||
      (registered !== undefined && isKerasBuiltinClass(registered))
    ) {
      knownUnsafe(name, kind, name, layer, node, args);
      return;
    }
    useCustom({ name, kind, ...(registered ? { registered } : {}) }, layer);
  };

  /** Keras' own loaders, file helpers and bypasses; TFSMLayer; risky TF ops in TFOpLambda. */
  const knownUnsafe = (
    name: string,
    kind: "class" | "function",
    path: string,
    layer: string | undefined,
    node: Json,
    args: string | undefined,
  ) => {
    const hit = UNSAFE_KERAS_BY_NAME.get(name);
    if (hit !== undefined && hit.kind === kind) {
      const inner = isObject(node.config) ? node.config : {};
      const filepath = str(inner.filepath);
      const detail =
        name === "TFSMLayer" && filepath !== undefined
          ? ` Its filepath is ${quote(filepath)}.`
          : "";
      unsafe({
        message: `${options.source}${inLayer(layer)} reaches ${quote(path)}: it ${hit.reason}${detail}`,
        evidence: {
          global: path.includes(".") ? path : hit.path,
          pseudocode:
            filepath === undefined
              ? callText(path, kind, args)
              : `${path}(filepath=${JSON.stringify(filepath)})`,
        },
        references: [...hit.references],
      });
      return;
    }
    if ((name === "TFOpLambda" || name === "SlicingOpLambda") && isObject(node.config)) {
      const fn = str(node.config.function);
      if (fn !== undefined && RISKY_TF_OP_PREFIXES.some((p) => fn === p || fn.startsWith(p))) {
        unsafe(
          {
            message: `${options.source}${inLayer(layer)} is a ${name} calling ${quote(`tf.${fn}`)}, a TensorFlow function that touches files or runs Python, every time the model runs.`,
            evidence: { global: `tf.${fn}`, pseudocode: `tf.${fn}(…)` },
          },
          "high",
        );
      }
    }
  };

  /** Objects already reported through their parent (a Lambda's function reference). */
  const handled = new WeakSet<object>();
  const stack: Frame[] = [{ value: config, depth: 0, key: "" }];
  let nodes = 0;
  while (stack.length > 0) {
    const frame = stack.pop()!;
    if (++nodes > KERAS_MAX_CONFIG_NODES || frame.depth > KERAS_MAX_CONFIG_DEPTH) {
      stats.truncated = true;
      break;
    }
    const { value, depth } = frame;
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) {
        stack.push({
          value: value[i],
          depth: depth + 1,
          key: frame.key,
          ...(frame.owner ? { owner: frame.owner } : {}),
        });
      }
      continue;
    }
    if (!isObject(value)) continue;

    let owner = frame.owner;
    const className = str(value.class_name);
    if (className !== undefined) {
      stats.objects++;
      const inner = isObject(value.config) ? value.config : undefined;
      const layerName = str(inner?.name) ?? owner?.name;
      const module = str(value.module);
      const registered = str(value.registered_name);
      if (className === "__lambda__") {
        lambda(value.config, {
          className: owner?.className ?? "__lambda__",
          field: frame.key || "function",
          origin: options.origin,
          ...(owner?.name === undefined ? {} : { layer: owner.name }),
        });
        continue; // the payload has been reported; nothing below it is a reference
      }
      if (className === "function") {
        const fn = str(value.config);
        if (fn !== undefined)
          reference(module, fn, "function", registered, layerName, value, undefined);
      } else if (className === "__typespec__") {
        const spec = str(value.spec_name);
        if (spec !== undefined)
          reference(module, spec, "class", registered, layerName, value, undefined);
      } else if (!KERAS_SPECIAL_CLASS_NAMES.has(className)) {
        reference(module, className, "class", registered, layerName, value, undefined);
        owner = { className, ...(layerName === undefined ? {} : { name: layerName }) };
      }
      // A function reference a layer calls (Lambda): checked here, with the layer's arguments.
      if (
        inner !== undefined &&
        isObject(inner.function) &&
        inner.function.class_name === "function"
      ) {
        const fn = str(inner.function.config);
        if (fn !== undefined) {
          const fnModule = str(inner.function.module);
          const fnRegistered = str(inner.function.registered_name);
          reference(fnModule, fn, "function", fnRegistered, layerName, inner.function, inner);
        }
        handled.add(inner.function);
      }
    }

    // Keras 2 functions: `function_type: "lambda"` (bytecode) or `"function"` (a name in `module`).
    const handledKeys = new Set<string>();
    for (const [key, kind] of Object.entries(value)) {
      if (!key.endsWith("_type") || (kind !== "lambda" && kind !== "function")) continue;
      const field = key.slice(0, -"_type".length);
      if (!(field in value)) continue;
      const site = owner ?? { className: "Lambda" };
      if (kind === "lambda") {
        lambda(value[field], {
          className: site.className,
          field,
          origin: options.origin,
          ...(site.name === undefined ? {} : { layer: site.name }),
        });
      } else {
        const fn = str(value[field]);
        const fnModule = str(value[field === "function" ? "module" : `${field}_module`]);
        if (fn !== undefined)
          reference(fnModule, fn, "function", undefined, site.name, value, value);
      }
      handledKeys.add(field);
    }

    const entries = Object.entries(value);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, child] = entries[i]!;
      if (child === null || typeof child !== "object" || handledKeys.has(key)) continue;
      if (handled.has(child)) continue;
      stack.push({ value: child, depth: depth + 1, key, ...(owner ? { owner } : {}) });
    }
  }

  for (const use of custom.values()) {
    stats.customObjects++;
    const rule = KERAS_RULES.customObject;
    const full = use.module === undefined ? use.name : `${use.module}.${use.name}`;
    const registered =
      use.registered && use.registered !== use.name
        ? ` (registered as ${quote(use.registered)})`
        : "";
    const where =
      use.layers.size > 0
        ? ` Used ${use.count} time(s), by ${[...use.layers].map((l) => JSON.stringify(l)).join(", ")}.`
        : ` Used ${use.count} time(s).`;
    const how =
      use.module === undefined
        ? "it is not a Keras built-in, so loading needs its code from custom_objects or a registered class, and that code runs"
        : `it is not part of Keras: loading needs module ${quote(use.module)} (keras before 3.9 imports it by itself), and its code runs`;
    findings.push({
      rule: rule.id,
      severity: rule.severity,
      message: `${options.source} names the ${use.kind} ${quote(full)}${registered}: ${how}.${where}`,
      evidence: { global: full },
    });
  }
  if (stats.truncated) {
    findings.push({
      rule: "limits.exceeded",
      severity: "high",
      message: `${options.source} is larger or deeper than modelvet walks (${KERAS_MAX_CONFIG_NODES} nodes, depth ${KERAS_MAX_CONFIG_DEPTH}); the rest was not checked.`,
    });
  }
  return { findings, stats };
}
