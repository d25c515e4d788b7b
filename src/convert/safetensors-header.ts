/**
 * The safetensors header for a plan: an 8-byte little-endian length, then JSON mapping each tensor
 * name to `{dtype, shape, data_offsets}` plus `__metadata__` (string values only), padded with
 * spaces to a multiple of 8 so the data that follows stays aligned. Tensors are laid out in name
 * order, back to back, so the offsets are contiguous and cover the whole data section.
 */

import type { SafetensorsDtype } from "./dtypes.js";
import { tensorByteLength } from "./materialise.js";
import type { TensorPlan } from "./types.js";

/** Where one tensor lands in the data section (after the header). */
export interface TensorSlot {
  tensor: TensorPlan;
  begin: number;
  end: number;
}

export interface SafetensorsLayout {
  /** The 8-byte length prefix and the padded JSON. */
  header: Uint8Array;
  /** Tensors in file order. */
  slots: TensorSlot[];
  /** Bytes of tensor data. */
  dataBytes: number;
}

/** Sorts by name (code-unit order) and assigns contiguous offsets. */
export function layoutSafetensors(
  tensors: readonly TensorPlan[],
  metadata: Readonly<Record<string, string>>,
): SafetensorsLayout {
  const sorted = [...tensors].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const json: Record<string, unknown> = { __metadata__: { ...metadata } };
  const slots: TensorSlot[] = [];
  let at = 0;
  for (const tensor of sorted) {
    const length = tensorByteLength(tensor);
    slots.push({ tensor, begin: at, end: at + length });
    json[tensor.name] = {
      dtype: tensor.dtype,
      shape: tensor.shape,
      data_offsets: [at, at + length],
    };
    at += length;
  }
  const text = new TextEncoder().encode(JSON.stringify(json));
  const padded = Math.ceil(text.length / 8) * 8;
  const header = new Uint8Array(8 + padded).fill(0x20, 8);
  new DataView(header.buffer).setBigUint64(0, BigInt(padded), true);
  header.set(text, 8);
  return { header, slots, dataBytes: at };
}

export interface ParsedTensorEntry {
  dtype: SafetensorsDtype;
  shape: number[];
  data_offsets: [number, number];
}

/** Reads back a header (for verification): the JSON, and where the data starts. */
export function parseSafetensorsHeader(json: Uint8Array): {
  entries: Record<string, ParsedTensorEntry>;
  metadata: Record<string, string>;
} {
  const parsed = JSON.parse(new TextDecoder().decode(json)) as Record<string, unknown>;
  const metadata = (parsed.__metadata__ ?? {}) as Record<string, string>;
  delete parsed.__metadata__;
  return { entries: parsed as Record<string, ParsedTensorEntry>, metadata };
}
