/**
 * TensorFlow ops that reach outside the graph when a session or a loaded SavedModel runs them,
 * as data. `path` says where the op takes the file name from (an input resolved through Const
 * nodes, or an attribute), so the report can name it.
 *
 * Kinds: `python` runs a Python function (critical); `file` reads, writes, lists or maps files
 * (high); `network` talks to another process (high); `checkpoint` is the saver/restore and vocab
 * machinery every SavedModel carries, reported as info unless its path is a constant that leaves
 * the model's folder (then it is a `file` op).
 */
export type TfOpKind = "python" | "file" | "network" | "checkpoint";

export type TfPathSource = { input: number } | { attr: string };

export interface TfOpClass {
  kind: TfOpKind;
  /** What running it does, e.g. "reads a whole file". */
  effect: string;
  path?: TfPathSource;
}

const PY = (effect: string): TfOpClass => ({ kind: "python", effect, path: { attr: "token" } });
const FILE = (effect: string, path?: TfPathSource): TfOpClass =>
  path ? { kind: "file", effect, path } : { kind: "file", effect };
const NET = (effect: string, path?: TfPathSource): TfOpClass =>
  path ? { kind: "network", effect, path } : { kind: "network", effect };
const CKPT = (effect: string, path: TfPathSource): TfOpClass => ({
  kind: "checkpoint",
  effect,
  path,
});

const input0 = { input: 0 };
const input1 = { input: 1 };

export const TF_OP_CLASSES: ReadonlyMap<string, TfOpClass> = new Map([
  ["PyFunc", PY("calls the Python function registered under its token")],
  ["PyFuncStateless", PY("calls the Python function registered under its token")],
  ["EagerPyFunc", PY("calls the Python function registered under its token")],

  ["ReadFile", FILE("reads a whole file", input0)],
  ["WriteFile", FILE("writes a file", input0)],
  ["MatchingFiles", FILE("lists files matching a glob", input0)],
  ["MatchingFilesDataset", FILE("lists files matching a glob", input0)],
  ["ExperimentalMatchingFilesDataset", FILE("lists files matching a glob", input0)],
  ["ImmutableConst", FILE("memory-maps a file", { attr: "memory_region_name" })],
  ["WholeFileReader", FILE("reads whole files named by a queue")],
  ["WholeFileReaderV2", FILE("reads whole files named by a queue")],
  ["TextLineReader", FILE("reads text files named by a queue")],
  ["TextLineReaderV2", FILE("reads text files named by a queue")],
  ["FixedLengthRecordReader", FILE("reads record files named by a queue")],
  ["FixedLengthRecordReaderV2", FILE("reads record files named by a queue")],
  ["TFRecordReader", FILE("reads TFRecord files named by a queue")],
  ["TFRecordReaderV2", FILE("reads TFRecord files named by a queue")],
  ["LMDBReader", FILE("reads LMDB databases named by a queue")],
  ["RecordInput", FILE("reads record files matching a pattern", { attr: "file_pattern" })],
  ["TextLineDataset", FILE("reads text files", input0)],
  ["TFRecordDataset", FILE("reads TFRecord files", input0)],
  ["TFRecordDatasetV2", FILE("reads TFRecord files", input0)],
  ["FixedLengthRecordDataset", FILE("reads record files", input0)],
  ["FixedLengthRecordDatasetV2", FILE("reads record files", input0)],
  ["CSVDataset", FILE("reads CSV files", input0)],
  ["CSVDatasetV2", FILE("reads CSV files", input0)],
  ["ExperimentalCSVDataset", FILE("reads CSV files", input0)],
  ["LMDBDataset", FILE("reads LMDB databases", input0)],
  ["ExperimentalLMDBDataset", FILE("reads LMDB databases", input0)],
  ["SqlDataset", FILE("opens a database and runs a query", input1)],
  ["ExperimentalSqlDataset", FILE("opens a database and runs a query", input1)],
  ["LoadDataset", FILE("reads a saved dataset", input0)],
  ["DatasetToTFRecord", FILE("writes a TFRecord file", input1)],
  ["ExperimentalDatasetToTFRecord", FILE("writes a TFRecord file", input1)],
  ["SaveDataset", FILE("writes a dataset to a directory", input1)],
  ["SaveDatasetV2", FILE("writes a dataset to a directory", input1)],
  ["DistributedSave", FILE("writes a dataset to a directory", input1)],
  ["SnapshotDataset", FILE("writes dataset snapshots to a directory", input1)],
  ["SnapshotDatasetV2", FILE("writes dataset snapshots to a directory", input1)],
  ["CreateSummaryFileWriter", FILE("writes event files into a directory", input1)],
  ["CreateSummaryDbWriter", FILE("writes a summary database", input1)],
  ["FixedUnigramCandidateSampler", FILE("reads a vocabulary file", { attr: "vocab_file" })],
  ["GenerateVocabRemapping", FILE("reads vocabulary files", input0)],
  ["LoadAndRemapMatrix", FILE("reads a checkpoint file", input0)],
  ["FileSystemSetConfiguration", FILE("changes file-system configuration", input0)],

  ["DataServiceDataset", NET("reads data from a tf.data service over the network", input1)],
  ["DataServiceDatasetV2", NET("reads data from a tf.data service over the network", input1)],
  ["DataServiceDatasetV3", NET("reads data from a tf.data service over the network", input1)],
  ["DataServiceDatasetV4", NET("reads data from a tf.data service over the network", input1)],
  ["RegisterDataset", NET("sends a dataset to a tf.data service over the network", input1)],
  ["RegisterDatasetV2", NET("sends a dataset to a tf.data service over the network", input1)],

  ["Save", CKPT("writes a checkpoint", input0)],
  ["SaveSlices", CKPT("writes a checkpoint", input0)],
  ["SaveV2", CKPT("writes a checkpoint", input0)],
  ["Restore", CKPT("reads a checkpoint", input0)],
  ["RestoreSlice", CKPT("reads a checkpoint", input0)],
  ["RestoreV2", CKPT("reads a checkpoint", input0)],
  ["MergeV2Checkpoints", CKPT("merges checkpoint files (and deletes the parts)", input1)],
  ["InitializeTableFromTextFile", CKPT("reads a vocabulary file", input1)],
  ["InitializeTableFromTextFileV2", CKPT("reads a vocabulary file", input1)],
]);

/** Debug ops whose `debug_urls` attribute sends tensors to files (`file://`) or peers (`grpc://`). */
export const TF_DEBUG_URL_OPS: ReadonlySet<string> = new Set([
  "DebugIdentity",
  "DebugIdentityV2",
  "DebugIdentityV3",
  "DebugNanCount",
  "DebugNumericSummary",
  "DebugNumericSummaryV2",
]);

/** Proto codecs whose `descriptor_source` attribute may name a descriptor file to read. */
export const TF_DESCRIPTOR_SOURCE_OPS: ReadonlySet<string> = new Set([
  "DecodeProtoV2",
  "EncodeProto",
]);
