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
 * Reads what matters in an ONNX ModelProto (onnx/onnx.proto, field numbers below) without
 * reading tensor data: every node's op_type/domain (in the main graph, in subgraphs held by
 * attributes such as If/Loop bodies, in training graphs and in model-local functions), every
 * tensor's external-data entries (initializers, sparse initializers, attribute tensors — all the
 * tensors `onnx.load` resolves), opset imports, functions and metadata_props.
 */

/** Distinct entries kept in each list; the rest are counted. */
export const ONNX_MAX_LIST = 10_000;
const NAME_MAX = 1024;
const DATA_LOCATION_EXTERNAL = 1;

export interface OnnxOpUse {
  domain: string;
  opType: string;
  count: number;
  /** Name of the first node using it, and where (graph name or `function domain:name`). */
  firstNode: string;
  scope: string;
  offset: number;
}

export interface OnnxExternalData {
  tensor: string;
  location: string;
  offset?: string;
  length?: string;
  /** `data_location == EXTERNAL`: loaders use the entries only then. */
  external: boolean;
  scope: string;
  at: number;
}

export interface OnnxFunction {
  domain: string;
  name: string;
  nodes: number;
  offset: number;
}

export interface OnnxModelInfo {
  irVersion?: number;
  producerName?: string;
  producerVersion?: string;
  modelVersion?: number;
  opsetImports: { domain: string; version: number }[];
  /** Keyed `domain\u0000opType`. */
  ops: Map<string, OnnxOpUse>;
  nodes: number;
  graphs: number;
  tensors: number;
  externalData: OnnxExternalData[];
  externalDataCount: number;
  functions: OnnxFunction[];
  metadataProps: { key: string; value: string }[];
  /** Lists cut at ONNX_MAX_LIST. */
  truncatedLists: boolean;
}

export interface ReadOnnxResult {
  info: OnnxModelInfo;
  /** The first structural fault or limit; what was read before it is in `info`. */
  error?: ProtoError;
}

export async function readOnnxModel(
  source: ByteSource,
  budget: WalkBudget = createWalkBudget(),
): Promise<ReadOnnxResult> {
  const walker = new OnnxWalker(new ChunkedReader(source), budget);
  const error = await walker.model(0, source.size);
  return error ? { info: walker.info, error } : { info: walker.info };
}

const isLen = (f: ProtoField) => f.wireType === WIRE_LEN;
const isVarint = (f: ProtoField) => f.wireType === WIRE_VARINT;

class OnnxWalker {
  readonly info: OnnxModelInfo = {
    opsetImports: [],
    ops: new Map(),
    nodes: 0,
    graphs: 0,
    tensors: 0,
    externalData: [],
    externalDataCount: 0,
    functions: [],
    metadataProps: [],
    truncatedLists: false,
  };

  constructor(
    private readonly reader: ChunkedReader,
    private readonly budget: WalkBudget,
  ) {}

  private text(f: ProtoField, max = NAME_MAX): Promise<string> {
    return readString(this.reader, f, max).then((s) => s.text);
  }

  private walk(
    f: ProtoField | { start: number; length: number },
    depth: number,
    visit: (field: ProtoField) => Promise<ProtoError | undefined> | undefined,
  ): Promise<ProtoError | undefined> {
    return walkMessage(this.reader, f.start, f.start + f.length, depth, this.budget, visit);
  }

  model(start: number, end: number): Promise<ProtoError | undefined> {
    const info = this.info;
    return this.walk({ start, length: end - start }, 0, (f) => {
      switch (f.number) {
        case 1:
          if (isVarint(f)) info.irVersion = f.value;
          return undefined;
        case 2:
          return isLen(f)
            ? this.text(f).then((t) => {
                info.producerName = t;
                return undefined;
              })
            : undefined;
        case 3:
          return isLen(f)
            ? this.text(f).then((t) => {
                info.producerVersion = t;
                return undefined;
              })
            : undefined;
        case 5:
          if (isVarint(f)) info.modelVersion = f.value;
          return undefined;
        case 7:
          return isLen(f) ? this.graph(f, 1, "main graph") : undefined;
        case 8:
          return isLen(f) ? this.opset(f, 1, info.opsetImports) : undefined;
        case 14:
          return isLen(f) ? this.metadataProp(f, 1) : undefined;
        case 20:
          return isLen(f)
            ? this.walk(f, 1, (g) =>
                (g.number === 1 || g.number === 2) && isLen(g)
                  ? this.graph(
                      g,
                      2,
                      g.number === 1 ? "training initialization" : "training algorithm",
                    )
                  : undefined,
              )
            : undefined;
        case 25:
          return isLen(f) ? this.function(f, 1) : undefined;
        default:
          return undefined;
      }
    });
  }

  private async opset(
    f: ProtoField,
    depth: number,
    into: { domain: string; version: number }[],
  ): Promise<ProtoError | undefined> {
    let domain = "";
    let version = 0;
    const e = await this.walk(f, depth, (g) => {
      if (g.number === 1 && isLen(g))
        return this.text(g).then((t) => {
          domain = t;
          return undefined;
        });
      if (g.number === 2 && isVarint(g)) version = g.value;
      return undefined;
    });
    if (into.length < ONNX_MAX_LIST) into.push({ domain, version });
    else this.info.truncatedLists = true;
    return e;
  }

  private async stringEntry(
    f: ProtoField,
    depth: number,
    max: number,
  ): Promise<{ key: string; value: string; error?: ProtoError }> {
    let key = "";
    let value = "";
    const error = await this.walk(f, depth, (g) => {
      if (g.number === 1 && isLen(g))
        return this.text(g, max).then((t) => {
          key = t;
          return undefined;
        });
      if (g.number === 2 && isLen(g))
        return this.text(g, max).then((t) => {
          value = t;
          return undefined;
        });
      return undefined;
    });
    return error ? { key, value, error } : { key, value };
  }

  private async metadataProp(f: ProtoField, depth: number): Promise<ProtoError | undefined> {
    const entry = await this.stringEntry(f, depth, 4096);
    if (this.info.metadataProps.length < ONNX_MAX_LIST) {
      this.info.metadataProps.push({ key: entry.key, value: entry.value });
    } else this.info.truncatedLists = true;
    return entry.error;
  }

  private graph(f: ProtoField, depth: number, scope: string): Promise<ProtoError | undefined> {
    this.info.graphs++;
    return this.walk(f, depth, (g) => {
      if (!isLen(g)) return undefined;
      switch (g.number) {
        case 1:
          return this.node(g, depth + 1, scope);
        case 5:
          return this.tensor(g, depth + 1, scope);
        case 15:
          return this.sparseTensor(g, depth + 1, scope);
        default:
          return undefined;
      }
    });
  }

  private async node(f: ProtoField, depth: number, scope: string): Promise<ProtoError | undefined> {
    this.info.nodes++;
    let name = "";
    let opType = "";
    let domain = "";
    const error = await this.walk(f, depth, (g) => {
      if (!isLen(g)) return undefined;
      switch (g.number) {
        case 3:
          return this.text(g).then((t) => {
            name = t;
            return undefined;
          });
        case 4:
          return this.text(g).then((t) => {
            opType = t;
            return undefined;
          });
        case 7:
          return this.text(g).then((t) => {
            domain = t;
            return undefined;
          });
        case 5:
          return this.attribute(g, depth + 1, scope);
        default:
          return undefined;
      }
    });
    const key = `${domain}\u0000${opType}`;
    const use = this.info.ops.get(key);
    if (use) use.count++;
    else if (this.info.ops.size < ONNX_MAX_LIST) {
      this.info.ops.set(key, {
        domain,
        opType,
        count: 1,
        firstNode: name,
        scope,
        offset: f.offset,
      });
    } else this.info.truncatedLists = true;
    return error;
  }

  private attribute(f: ProtoField, depth: number, scope: string): Promise<ProtoError | undefined> {
    return this.walk(f, depth, (g) => {
      if (!isLen(g)) return undefined;
      switch (g.number) {
        case 5:
        case 10:
          return this.tensor(g, depth + 1, scope);
        case 6:
        case 11:
          return this.graph(g, depth + 1, `${scope} › subgraph`);
        case 22:
        case 23:
          return this.sparseTensor(g, depth + 1, scope);
        default:
          return undefined;
      }
    });
  }

  private sparseTensor(
    f: ProtoField,
    depth: number,
    scope: string,
  ): Promise<ProtoError | undefined> {
    return this.walk(f, depth, (g) =>
      (g.number === 1 || g.number === 2) && isLen(g) ? this.tensor(g, depth + 1, scope) : undefined,
    );
  }

  private async tensor(
    f: ProtoField,
    depth: number,
    scope: string,
  ): Promise<ProtoError | undefined> {
    this.info.tensors++;
    let name = "";
    let external = false;
    const entries: { key: string; value: string; at: number }[] = [];
    const error = await this.walk(f, depth, (g) => {
      if (g.number === 8 && isLen(g))
        return this.text(g).then((t) => {
          name = t;
          return undefined;
        });
      if (g.number === 14 && isVarint(g)) external = g.value === DATA_LOCATION_EXTERNAL;
      if (g.number === 13 && isLen(g)) {
        return this.stringEntry(g, depth + 1, 64 * 1024).then((e) => {
          if (entries.length < 64) entries.push({ key: e.key, value: e.value, at: g.offset });
          return e.error;
        });
      }
      return undefined;
    });
    const location = entries.filter((e) => e.key === "location").at(-1);
    if (location) {
      this.info.externalDataCount++;
      if (this.info.externalData.length < ONNX_MAX_LIST) {
        const offset = entries.filter((e) => e.key === "offset").at(-1)?.value;
        const length = entries.filter((e) => e.key === "length").at(-1)?.value;
        this.info.externalData.push({
          tensor: name,
          location: location.value,
          ...(offset === undefined ? {} : { offset }),
          ...(length === undefined ? {} : { length }),
          external,
          scope,
          at: location.at,
        });
      } else this.info.truncatedLists = true;
    }
    return error;
  }

  private async function(f: ProtoField, depth: number): Promise<ProtoError | undefined> {
    let name = "";
    let domain = "";
    const before = this.info.nodes;
    const scopeOf = () => `function ${domain}:${name}`;
    // Name and domain (fields 1 and 10) may come after the nodes: read them first.
    const head = await this.walk(f, depth, (g) => {
      if (g.number === 1 && isLen(g))
        return this.text(g).then((t) => {
          name = t;
          return undefined;
        });
      if (g.number === 10 && isLen(g))
        return this.text(g).then((t) => {
          domain = t;
          return undefined;
        });
      return undefined;
    });
    if (head) return head;
    const error = await this.walk(f, depth, (g) =>
      g.number === 7 && isLen(g) ? this.node(g, depth + 1, scopeOf()) : undefined,
    );
    if (this.info.functions.length < ONNX_MAX_LIST) {
      this.info.functions.push({ domain, name, nodes: this.info.nodes - before, offset: f.offset });
    } else this.info.truncatedLists = true;
    return error;
  }
}
