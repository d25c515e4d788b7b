import type { ByteSource } from "../core/byte-source.js";
import type { SafetensorsDtype } from "./dtypes.js";

/** Where one tensor's elements live: a storage's bytes, read through a byte source. */
export interface StorageBytes {
  /** The storage's bytes (a zip member, a window of the file, bytes decoded from the pickle). */
  source: ByteSource;
  /** Elements the storage holds. */
  numel: number;
  /** Bytes per element. */
  elementSize: number;
  /** True when the bytes are big-endian and must be swapped to safetensors' little-endian. */
  bigEndian: boolean;
  /** The storage's name in the checkpoint (a zip member, a legacy key), for messages. */
  label: string;
}

/** One tensor to write: the strided view `offset`/`shape`/`strides` (in elements) of a storage. */
export interface TensorPlan {
  /** Name in the safetensors file (nested dict keys joined with `.`). */
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Element strides, one per dimension (0 for an expanded dimension). */
  strides: number[];
  /** Element offset of the first element in the storage. */
  offset: number;
  storage: StorageBytes;
}

/** A value left out by `--drop-non-tensors`, and why it is not a tensor. */
export interface DroppedValue {
  name: string;
  reason: string;
}

/** What a conversion will write. */
export interface ConversionPlan {
  /** The input format, as detected from the bytes. */
  format: "pytorch-zip" | "pytorch-legacy" | "npy" | "npz" | "pickle" | "joblib";
  tensors: TensorPlan[];
  dropped: DroppedValue[];
  /** Tensors sharing a storage with another (each is written with its own bytes). */
  sharedStorages: number;
}

/** Why a file is not converted: the global or construct that stops it, and where. */
export interface Refusal {
  reason: string;
  /** Byte offset in the pickle (or file) where the refused construct is. */
  offset?: number;
  /** Archive member holding it, e.g. `archive/data.pkl`. */
  member?: string;
  /** The global that is refused, `module.name`. */
  global?: string;
}

export interface ConvertOptions {
  /** Convert the tensors and list the other values instead of refusing them. @default false */
  dropNonTensors?: boolean;
  /** Largest pickle text/bytes argument decoded into memory (array data in old pickles). @default 64 MiB */
  maxInlineBytes?: number;
  /** Bytes a deflated archive member may inflate to. @default 512 MiB */
  maxMemberBytes?: number;
}
