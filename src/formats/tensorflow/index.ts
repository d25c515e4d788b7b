import type { LocalFinding } from "../../core/finding.js";
import { describePathProblems, externalPathProblems } from "../onnx/external-path.js";
import { createWalkBudget, type ProtoError } from "../protobuf/wire-reader.js";
import type { Analysis, Artifact, FormatAnalyser, Probe, ScanContext } from "../types.js";
import { detectTensorflow, sniffTensorflow, type TfFileKind } from "./detect-tensorflow.js";
import { readKerasMetadata } from "./keras-metadata.js";
import {
  TF_DEBUG_URL_OPS,
  TF_DESCRIPTOR_SOURCE_OPS,
  TF_OP_CLASSES,
  type TfOpClass,
  type TfOpKind,
} from "./op-classes.js";
import { readTfGraph, TF_DT_STRING, type TfGraphKind, type TfNode } from "./read-graph.js";
import { TF_RULES, type TfRuleKey } from "./rules.js";
import { isStandardTfOp } from "./standard-ops.js";

const PROBE_BYTES = 64 * 1024;
const LIST_IN_MESSAGE = 12;
/** Findings kept per flagged op type; the rest are counted in one more finding. */
const PER_OP_FINDINGS = 20;
/** Node names remembered for resolving file-name inputs. */
const MAX_REMEMBERED = 200_000;
/** Identity-like hops followed when resolving an input to a constant. */
const MAX_HOPS = 4;
/** A model's whole config sits in the root object's JSON: allow more than one argument. */
const KERAS_MAX_JSON = 16 * 1024 * 1024;
const PASS_THROUGH = new Set(["Identity", "Snapshot", "StopGradient", "IdentityN"]);

function finding(key: TfRuleKey, message: string, extra: Partial<LocalFinding> = {}): LocalFinding {
  const rule = TF_RULES[key];
  return { rule: rule.id, severity: rule.severity, message, ...extra };
}

function quote(text: string): string {
  return JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}…` : text);
}

function listed<T>(items: readonly T[], show: (item: T) => string): string {
  const head = items.slice(0, LIST_IN_MESSAGE).map(show).join(", ");
  return items.length > LIST_IN_MESSAGE
    ? `${head} and ${items.length - LIST_IN_MESSAGE} more`
    : head;
}

/** What is remembered of a node for resolving other nodes' inputs. */
interface Remembered {
  op: string;
  input?: string;
  text?: string;
}

/** A node whose op reaches outside the graph, with what it touches. */
interface Flagged {
  node: TfNode;
  kind: TfOpKind;
  effect: string;
  /** Attribute path, known at once. */
  path?: string;
  /** Input to resolve after the walk. */
  pathInput?: string;
}

interface OpUse {
  count: number;
  first: TfNode;
}

/** Looks at each node as it is read; resolves and reports after the walk. */
class GraphAudit {
  private readonly remembered = new Map<string, Remembered>();
  private readonly flagged: Flagged[] = [];
  private readonly flaggedPerOp = new Map<string, number>();
  readonly ops = new Map<string, OpUse>();
  private droppedFlags = 0;

  visit = (node: TfNode): void => {
    const use = this.ops.get(node.op);
    if (use) use.count++;
    else if (this.ops.size < 100_000) this.ops.set(node.op, { count: 1, first: node });
    this.remember(node);
    const flag = this.classify(node);
    if (!flag) return;
    const n = (this.flaggedPerOp.get(node.op) ?? 0) + 1;
    this.flaggedPerOp.set(node.op, n);
    if (n <= PER_OP_FINDINGS) this.flagged.push(flag);
    else this.droppedFlags++;
  };

  private remember(node: TfNode): void {
    if (this.remembered.size >= MAX_REMEMBERED) return;
    const isConst = node.op === "Const";
    if (!isConst && !PASS_THROUGH.has(node.op) && node.op !== "Placeholder") return;
    const value = node.attrs.get("value");
    const entry: Remembered = { op: node.op };
    if (isConst && value?.dtype === TF_DT_STRING && value.tensorStrings.length > 0) {
      entry.text = value.tensorStrings[0]!;
    }
    if (node.inputs[0] !== undefined) entry.input = node.inputs[0];
    this.remembered.set(`${node.scope}\u0000${node.name}`, entry);
  }

  private classify(node: TfNode): Flagged | undefined {
    const cls: TfOpClass | undefined = TF_OP_CLASSES.get(node.op);
    if (cls) {
      const flag: Flagged = { node, kind: cls.kind, effect: cls.effect };
      if (cls.path && "attr" in cls.path) {
        const attr = node.attrs.get(cls.path.attr);
        const path = attr?.s;
        if (cls.path.attr === "vocab_file" && !path) return undefined;
        if (path !== undefined) flag.path = path;
      } else if (cls.path) {
        const input = node.inputs[cls.path.input];
        if (input !== undefined) flag.pathInput = input;
      }
      return flag;
    }
    if (TF_DEBUG_URL_OPS.has(node.op)) {
      const urls = node.attrs.get("debug_urls")?.list ?? [];
      const file = urls.find((u) => u.startsWith("file://"));
      const peer = urls.find((u) => !u.startsWith("file://"));
      if (file) return { node, kind: "file", effect: "writes debug dumps of tensors", path: file };
      if (peer)
        return { node, kind: "network", effect: "sends tensors to a debug server", path: peer };
      return undefined;
    }
    if (node.op === "PrintV2") {
      const stream = node.attrs.get("output_stream")?.s ?? "";
      if (stream.startsWith("file://"))
        return { node, kind: "file", effect: "appends to a file", path: stream };
      return undefined;
    }
    if (TF_DESCRIPTOR_SOURCE_OPS.has(node.op)) {
      const source = node.attrs.get("descriptor_source")?.s ?? "";
      if (source !== "" && source !== "local://") {
        return { node, kind: "file", effect: "reads a protobuf descriptor file", path: source };
      }
    }
    return undefined;
  }

  /** A node input resolved through Identity-like nodes to a string constant, if it is one. */
  private resolve(scope: string, input: string): string | undefined {
    let name = input;
    for (let hop = 0; hop <= MAX_HOPS; hop++) {
      const key = name.replace(/^\^/, "").split(":")[0] ?? "";
      const entry = this.remembered.get(`${scope}\u0000${key}`);
      if (!entry) return undefined;
      if (entry.text !== undefined) return entry.text;
      if (!PASS_THROUGH.has(entry.op) || entry.input === undefined) return undefined;
      name = entry.input;
    }
    return undefined;
  }

  /** Flagged nodes of the main graph whose file-name input is the node `name`. */
  consumersOf(name: string): TfNode[] {
    return this.flagged
      .filter(
        (f) => f.node.scope === "graph" && f.pathInput?.replace(/^\^/, "").split(":")[0] === name,
      )
      .map((f) => f.node);
  }

  findings(functionNames: ReadonlySet<string>): LocalFinding[] {
    const findings: LocalFinding[] = [];
    const checkpoint = new Map<string, number>();
    for (const f of this.flagged) {
      const path =
        f.path ?? (f.pathInput === undefined ? undefined : this.resolve(f.node.scope, f.pathInput));
      const where = `node ${quote(f.node.name)} (${f.node.scope})`;
      const shownPath =
        path !== undefined
          ? quote(path)
          : f.pathInput !== undefined
            ? `<input ${quote(f.pathInput)}>`
            : undefined;
      const call = `tf.raw_ops.${f.node.op}(${shownPath ? shownPath : "..."})`;
      const evidence = { global: `tf.raw_ops.${f.node.op}`, pseudocode: call };
      const offset = f.node.offset;
      switch (f.kind) {
        case "python": {
          const token = f.node.attrs.get("token")?.s;
          findings.push(
            finding(
              "pythonOp",
              `${where} is a ${f.node.op} op: running the graph ${f.effect}${token ? ` (${quote(token)})` : ""}, i.e. arbitrary Python in the loading process.`,
              {
                offset,
                evidence: {
                  ...evidence,
                  pseudocode: `tf.raw_ops.${f.node.op}(token=${quote(token ?? "")})`,
                },
              },
            ),
          );
          break;
        }
        case "file":
          findings.push(
            finding(
              "fileOp",
              `${where} ${f.effect}${shownPath ? `: ${shownPath}` : ""} when the graph runs.`,
              { offset, evidence },
            ),
          );
          break;
        case "network":
          findings.push(
            finding("networkOp", `${where} ${f.effect}${shownPath ? `: ${shownPath}` : ""}.`, {
              offset,
              evidence,
            }),
          );
          break;
        case "checkpoint": {
          const problems = path === undefined ? [] : externalPathProblems(path);
          if (problems.length > 0) {
            findings.push(
              finding(
                "fileOp",
                `${where} ${f.effect} at the constant path ${quote(path!)} (${describePathProblems(problems)}): not the path the loader passes in.`,
                { offset, evidence },
              ),
            );
          } else {
            checkpoint.set(f.node.op, (checkpoint.get(f.node.op) ?? 0) + 1);
          }
          break;
        }
      }
    }
    if (checkpoint.size > 0) {
      findings.push(
        finding(
          "checkpointOp",
          `Saver/restore and vocabulary ops: ${listed([...checkpoint], ([op, n]) => `${op} ×${n}`)}; they use the paths the loader passes in.`,
        ),
      );
    }
    if (this.droppedFlags > 0) {
      findings.push(
        finding(
          "limitsExceeded",
          `${this.droppedFlags} more nodes with file, network or Python ops were not listed (${PER_OP_FINDINGS} per op kept).`,
          { severity: "info" },
        ),
      );
    }
    const custom = [...this.ops].filter(
      ([op]) =>
        op !== "" && !isStandardTfOp(op) && !functionNames.has(op) && !TF_OP_CLASSES.has(op),
    );
    for (const [op, use] of custom.slice(0, 100)) {
      findings.push(
        finding(
          "customOp",
          `Op ${quote(op)} (${use.count} node(s), first ${quote(use.first.name)} in ${use.first.scope}) is not a standard TensorFlow op: the graph only runs after a native library registering it is loaded (tf.load_op_library).`,
          { offset: use.first.offset, evidence: { global: `tf.raw_ops.${op}` } },
        ),
      );
    }
    return findings;
  }
}

function errorFinding(error: ProtoError, what: string): LocalFinding {
  if (error.limit) {
    return finding("limitsExceeded", `The ${what} was not read to the end: ${error.message}.`, {
      offset: error.offset,
    });
  }
  return finding(
    "malformed",
    `The ${what} is malformed at offset ${error.offset}: ${error.message}. TensorFlow refuses it; what follows was not vetted.`,
    { offset: error.offset },
  );
}

async function analyseGraph(artifact: Artifact, kind: TfGraphKind): Promise<Analysis> {
  const audit = new GraphAudit();
  const { info, error } = await readTfGraph(artifact.source, kind, audit.visit, createWalkBudget());
  const findings = audit.findings(new Set(info.functions));
  for (const asset of info.assets) {
    const problems = externalPathProblems(asset.filename);
    if (problems.length === 0) continue;
    const tensor = asset.tensor.split(":")[0] ?? "";
    const readers = audit.consumersOf(tensor);
    const reader = readers[0];
    const readBy = reader
      ? `node ${quote(reader.name)} (${reader.op}) reads it`
      : "the graph reads it wherever the asset tensor is used";
    findings.push(
      finding(
        "assetPath",
        `Asset file name ${quote(asset.filename)} (${describePathProblems(problems)}) leaves the SavedModel: loading joins it to the assets folder, feeds the outside path into tensor ${quote(asset.tensor)}, and ${readBy}.`,
        {
          offset: asset.offset,
          evidence: {
            ...(reader ? { global: `tf.raw_ops.${reader.op}` } : {}),
            pseudocode: `os.path.join(export_dir, "assets", ${quote(asset.filename)})`,
          },
        },
      ),
    );
  }
  const what = kind === "saved-model" ? "SavedModel" : "GraphDef";
  if (error) findings.push(errorFinding(error, what));
  const details: Record<string, string | number | boolean> = {
    nodes: info.nodes,
    distinctOps: audit.ops.size,
    functions: info.functionCount,
  };
  if (kind === "saved-model") {
    details.metaGraphs = info.metaGraphs;
    if (info.tags.length > 0) details.tags = info.tags.join(", ");
    if (info.tensorflowVersion) details.tensorflowVersion = info.tensorflowVersion;
  }
  return {
    format: kind === "saved-model" ? "tf-savedmodel" : "tf-graphdef",
    findings,
    children: [],
    ...(error ? { unanalysable: true } : {}),
    details,
  };
}

async function analyseKerasMetadata(artifact: Artifact, ctx: ScanContext): Promise<Analysis> {
  const result = await readKerasMetadata(
    artifact.source,
    Math.max(ctx.limits.maxDecodedArgument, KERAS_MAX_JSON),
    createWalkBudget(),
  );
  const findings: LocalFinding[] = [];
  const unread = result.objects.filter((o) => o.unread);
  // A layer's config appears in its own object and again inside its parents' configs.
  const lambdas = new Map<string, { path: string; offset: number }>();
  for (const o of result.objects) {
    for (const name of o.lambdas) {
      const seen = lambdas.get(name);
      if (!seen || seen.path === "root") lambdas.set(name, { path: o.path, offset: o.offset });
    }
  }
  for (const [name, o] of lambdas) {
    findings.push(
      finding(
        "kerasLambda",
        `Object ${quote(o.path)} describes a Lambda layer ${quote(name)}: Keras rebuilds its Python function (marshalled bytecode) when this SavedModel is loaded with keras.models.load_model.`,
        { offset: o.offset, evidence: { global: "keras.layers.Lambda" } },
      ),
    );
  }
  if (unread.length > 0) {
    findings.push(
      finding(
        "limitsExceeded",
        `${unread.length} layer config(s) were too long or not JSON and were not checked: ${listed(unread, (o) => quote(o.path))}.`,
      ),
    );
  }
  if (result.error) findings.push(errorFinding(result.error, "keras_metadata.pb"));
  return {
    format: "tf-keras-metadata",
    findings,
    children: [],
    ...(result.error || unread.length > 0 ? { unanalysable: true } : {}),
    details: { objects: result.objectCount },
  };
}

async function probeOf(artifact: Artifact): Promise<Probe> {
  const { source } = artifact;
  const head = (await source.read(0, Math.min(PROBE_BYTES, source.size))).slice();
  return { head, tail: head, size: source.size };
}

/**
 * TensorFlow protobufs: a SavedModel's `saved_model.pb` (every MetaGraphDef's GraphDef and
 * function library), a bare frozen GraphDef, or Keras' `keras_metadata.pb`. Reports ops that run
 * Python, touch files or the network, and ops outside TensorFlow's standard set.
 */
export async function analyseTensorflow(artifact: Artifact, ctx: ScanContext): Promise<Analysis> {
  const kind: TfFileKind | undefined = sniffTensorflow(await probeOf(artifact));
  if (kind === "keras-metadata") return analyseKerasMetadata(artifact, ctx);
  return analyseGraph(artifact, kind ?? "saved-model");
}

export const tensorflowFormat: FormatAnalyser = {
  id: "tf-savedmodel",
  version: 1,
  description:
    "TensorFlow SavedModel (saved_model.pb), frozen GraphDef and keras_metadata.pb: Python, file, network and non-standard ops",
  detect: detectTensorflow,
  analyse: analyseTensorflow,
};

export { detectTensorflow, sniffTensorflow, type TfFileKind } from "./detect-tensorflow.js";
export { type KerasMetadataResult, readKerasMetadata } from "./keras-metadata.js";
export { TF_OP_CLASSES, type TfOpClass } from "./op-classes.js";
export { type ReadTfResult, readTfGraph, type TfGraphInfo, type TfNode } from "./read-graph.js";
export { TF_RULES } from "./rules.js";
export { isStandardTfOp, TF_STANDARD_OPS } from "./standard-ops.js";
