import type { ByteSource } from "../../core/byte-source.js";
import {
  ChunkedReader,
  createWalkBudget,
  type ProtoError,
  type ProtoField,
  readString,
  type WalkBudget,
  WIRE_LEN,
  WIRE_VARINT,
  walkMessage,
} from "../protobuf/wire-reader.js";

/**
 * Reads the graphs of a TensorFlow SavedModel (`saved_model.pb`: SavedModel → MetaGraphDef →
 * GraphDef, field numbers from tensorflow/core/protobuf/{saved_model,meta_graph}.proto and
 * tensorflow/core/framework/{graph,node_def,function,attr_value,tensor,op_def}.proto) or of a
 * bare GraphDef (a frozen `.pb`), handing every NodeDef — in the graph and in every function of
 * its library — to a visitor, with the attributes a report needs. Tensor contents are skipped.
 */

export type TfGraphKind = "saved-model" | "graph-def";

export interface TfAttr {
  /** `s` (bytes as text). */
  s?: string;
  /** `list.s`, first items. */
  list: string[];
  /** `tensor.string_val`, first items. */
  tensorStrings: string[];
  /** `tensor.dtype` or `type`. */
  dtype?: number;
  /** `func.name`. */
  func?: string;
}

export interface TfNode {
  name: string;
  op: string;
  inputs: string[];
  attrs: Map<string, TfAttr>;
  /** `graph` or `function <name>`. */
  scope: string;
  offset: number;
}

export interface TfGraphInfo {
  kind: TfGraphKind;
  schemaVersion?: number;
  metaGraphs: number;
  tags: string[];
  tensorflowVersion?: string;
  nodes: number;
  /** Names of the functions in the graphs' libraries (first TF_MAX_LIST). */
  functions: string[];
  functionCount: number;
  assets: { filename: string; tensor: string; offset: number }[];
}

export interface ReadTfResult {
  info: TfGraphInfo;
  error?: ProtoError;
}

export const TF_MAX_LIST = 10_000;
const NAME_MAX = 1024;
const VALUE_MAX = 4096;
const MAX_ITEMS = 16;
const MAX_ATTRS = 64;
export const TF_DT_STRING = 7;

const isLen = (f: ProtoField) => f.wireType === WIRE_LEN;
const isVarint = (f: ProtoField) => f.wireType === WIRE_VARINT;

export async function readTfGraph(
  source: ByteSource,
  kind: TfGraphKind,
  onNode: (node: TfNode) => void,
  budget: WalkBudget = createWalkBudget(),
): Promise<ReadTfResult> {
  const walker = new TfWalker(new ChunkedReader(source), budget, onNode, kind);
  const whole = { start: 0, length: source.size };
  const error =
    kind === "saved-model" ? await walker.savedModel(whole) : await walker.graphDef(whole, 0);
  return error ? { info: walker.info, error } : { info: walker.info };
}

class TfWalker {
  readonly info: TfGraphInfo;

  constructor(
    private readonly reader: ChunkedReader,
    private readonly budget: WalkBudget,
    private readonly onNode: (node: TfNode) => void,
    kind: TfGraphKind,
  ) {
    this.info = {
      kind,
      metaGraphs: 0,
      tags: [],
      nodes: 0,
      functions: [],
      functionCount: 0,
      assets: [],
    };
  }

  private text(f: ProtoField, max = NAME_MAX): Promise<string> {
    return readString(this.reader, f, max).then((s) => s.text);
  }

  private walk(
    f: { start: number; length: number },
    depth: number,
    visit: (field: ProtoField) => Promise<ProtoError | undefined> | undefined,
  ): Promise<ProtoError | undefined> {
    return walkMessage(this.reader, f.start, f.start + f.length, depth, this.budget, visit);
  }

  savedModel(f: { start: number; length: number }): Promise<ProtoError | undefined> {
    return this.walk(f, 0, (g) => {
      if (g.number === 1 && isVarint(g)) this.info.schemaVersion = g.value;
      if (g.number === 2 && isLen(g)) {
        this.info.metaGraphs++;
        return this.metaGraph(g, 1);
      }
      return undefined;
    });
  }

  private metaGraph(f: ProtoField, depth: number): Promise<ProtoError | undefined> {
    return this.walk(f, depth, (g) => {
      if (!isLen(g)) return undefined;
      switch (g.number) {
        case 1:
          return this.metaInfo(g, depth + 1);
        case 2:
          return this.graphDef(g, depth + 1);
        case 6:
          return this.asset(g, depth + 1);
        default:
          return undefined;
      }
    });
  }

  /** AssetFileDef: 1 tensor_info (TensorInfo, whose field 1 is the tensor name), 2 filename. */
  private async asset(f: ProtoField, depth: number): Promise<ProtoError | undefined> {
    let filename = "";
    let tensor = "";
    let offset = f.offset;
    const error = await this.walk(f, depth, (g) => {
      if (g.number === 2 && isLen(g)) {
        offset = g.offset;
        return this.text(g, VALUE_MAX).then((t) => {
          filename = t;
          return undefined;
        });
      }
      if (g.number === 1 && isLen(g)) {
        return this.walk(g, depth + 1, (h) =>
          h.number === 1 && isLen(h)
            ? this.text(h).then((t) => {
                tensor = t;
                return undefined;
              })
            : undefined,
        );
      }
      return undefined;
    });
    if (this.info.assets.length < TF_MAX_LIST) this.info.assets.push({ filename, tensor, offset });
    return error;
  }

  private metaInfo(f: ProtoField, depth: number): Promise<ProtoError | undefined> {
    return this.walk(f, depth, (g) => {
      if (g.number === 4 && isLen(g)) {
        return this.text(g).then((t) => {
          if (this.info.tags.length < MAX_ITEMS) this.info.tags.push(t);
          return undefined;
        });
      }
      if (g.number === 5 && isLen(g)) {
        return this.text(g).then((t) => {
          this.info.tensorflowVersion = t;
          return undefined;
        });
      }
      return undefined;
    });
  }

  graphDef(f: { start: number; length: number }, depth: number): Promise<ProtoError | undefined> {
    return this.walk(f, depth, (g) => {
      if (!isLen(g)) return undefined;
      if (g.number === 1) return this.node(g, depth + 1, "graph");
      if (g.number === 2) {
        return this.walk(g, depth + 1, (h) =>
          h.number === 1 && isLen(h) ? this.function(h, depth + 2) : undefined,
        );
      }
      return undefined;
    });
  }

  private async function(f: ProtoField, depth: number): Promise<ProtoError | undefined> {
    let name = "";
    // The signature (field 1, an OpDef whose field 1 is the name) usually comes first, but read
    // it in its own pass so that nodes are always attributed to their function.
    const head = await this.walk(f, depth, (g) =>
      g.number === 1 && isLen(g)
        ? this.walk(g, depth + 1, (h) =>
            h.number === 1 && isLen(h)
              ? this.text(h).then((t) => {
                  name = t;
                  return undefined;
                })
              : undefined,
          )
        : undefined,
    );
    if (head) return head;
    this.info.functionCount++;
    if (this.info.functions.length < TF_MAX_LIST) this.info.functions.push(name);
    return this.walk(f, depth, (g) =>
      g.number === 3 && isLen(g) ? this.node(g, depth + 1, `function ${name}`) : undefined,
    );
  }

  private async node(f: ProtoField, depth: number, scope: string): Promise<ProtoError | undefined> {
    this.info.nodes++;
    const node: TfNode = {
      name: "",
      op: "",
      inputs: [],
      attrs: new Map(),
      scope,
      offset: f.offset,
    };
    const error = await this.walk(f, depth, (g) => {
      if (!isLen(g)) return undefined;
      switch (g.number) {
        case 1:
          return this.text(g).then((t) => {
            node.name = t;
            return undefined;
          });
        case 2:
          return this.text(g).then((t) => {
            node.op = t;
            return undefined;
          });
        case 3:
          if (node.inputs.length >= MAX_ITEMS) return undefined;
          return this.text(g).then((t) => void node.inputs.push(t));
        case 5:
          return this.attrEntry(g, depth + 1, node.attrs);
        default:
          return undefined;
      }
    });
    this.onNode(node);
    return error;
  }

  private attrEntry(
    f: ProtoField,
    depth: number,
    attrs: Map<string, TfAttr>,
  ): Promise<ProtoError | undefined> {
    let key = "";
    const value: TfAttr = { list: [], tensorStrings: [] };
    return this.walk(f, depth, (g) => {
      if (g.number === 1 && isLen(g))
        return this.text(g).then((t) => {
          key = t;
          return undefined;
        });
      if (g.number === 2 && isLen(g)) return this.attrValue(g, depth + 1, value);
      return undefined;
    }).then((error) => {
      if (attrs.size < MAX_ATTRS || attrs.has(key)) attrs.set(key, value);
      return error;
    });
  }

  private attrValue(f: ProtoField, depth: number, into: TfAttr): Promise<ProtoError | undefined> {
    return this.walk(f, depth, (g) => {
      if (g.number === 6 && isVarint(g)) into.dtype = g.value;
      if (!isLen(g)) return undefined;
      switch (g.number) {
        case 2:
          return this.text(g, VALUE_MAX).then((t) => {
            into.s = t;
            return undefined;
          });
        case 1:
          return this.walk(g, depth + 1, (h) =>
            h.number === 2 && isLen(h) && into.list.length < MAX_ITEMS
              ? this.text(h, VALUE_MAX).then((t) => void into.list.push(t))
              : undefined,
          );
        case 8:
          return this.walk(g, depth + 1, (h) => {
            if (h.number === 1 && isVarint(h)) into.dtype = h.value;
            if (h.number === 8 && isLen(h) && into.tensorStrings.length < 4) {
              return this.text(h, VALUE_MAX).then((t) => void into.tensorStrings.push(t));
            }
            return undefined;
          });
        case 10:
          return this.walk(g, depth + 1, (h) =>
            h.number === 1 && isLen(h)
              ? this.text(h).then((t) => {
                  into.func = t;
                  return undefined;
                })
              : undefined,
          );
        default:
          return undefined;
      }
    });
  }
}
