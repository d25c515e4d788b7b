import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { memorySource } from "../src/core/byte-source.js";
import { DEFAULT_LIMITS } from "../src/core/limits.js";
import { onnxFormat } from "../src/formats/onnx/index.js";
import { pickleFormat } from "../src/formats/pickle/index.js";
import { tensorflowFormat } from "../src/formats/tensorflow/index.js";
import { tfliteFormat } from "../src/formats/tflite/index.js";
import type { FormatAnalyser, Probe, ScanContext } from "../src/formats/types.js";
import { zipFormat } from "../src/formats/zip/index.js";
import { BUILTIN_POLICY } from "../src/policy/index.js";
import type { ArtifactResult } from "../src/scan/results.js";
import { scanArtifact } from "../src/scan/scan-artifact.js";

/**
 * What the ONNX, TensorFlow and TFLite module tests share: the formats whose bytes can be
 * confused with theirs (in registry order), their fixture manifests and the files of every other
 * fixture folder, which none of them may claim.
 */
export const PROTOBUF_FORMATS: readonly FormatAnalyser[] = [
  tfliteFormat,
  zipFormat,
  onnxFormat,
  tensorflowFormat,
  pickleFormat,
];
export const FIXTURES = join(import.meta.dirname, "fixtures");

export const ctx = (): ScanContext => ({
  limits: DEFAULT_LIMITS,
  policy: BUILTIN_POLICY,
  depth: 0,
});

export interface ProtobufFixture {
  file: string;
  expect: "safe" | "suspicious" | "malicious" | "error";
  format: string;
  rule: string | null;
  op: string | null;
  technique: string;
  proof: string;
}

export function readManifest(folder: string): { dir: string; fixtures: ProtobufFixture[] } {
  const dir = join(FIXTURES, folder);
  const manifest: { fixtures: ProtobufFixture[] } = JSON.parse(
    readFileSync(join(dir, "manifest.json"), "utf8"),
  );
  return { dir, fixtures: manifest.fixtures };
}

/** Scans one file through {@link PROTOBUF_FORMATS}, as the engine would. */
export function scanFixture(path: string, name = path): Promise<ArtifactResult> {
  return scanArtifact(
    { file: name, member: [], source: memorySource(readFileSync(path)) },
    ctx(),
    PROTOBUF_FORMATS,
  );
}

export function probeOf(bytes: Uint8Array): Probe {
  const head = bytes.subarray(0, 64 * 1024 + 22);
  return {
    head,
    tail: bytes.subarray(Math.max(0, bytes.length - 64 * 1024 - 22)),
    size: bytes.length,
  };
}

const FOLDERS = [
  "pickle",
  "torch",
  "joblib",
  "numpy",
  "tar",
  "zip",
  "onnx",
  "tensorflow",
  "tflite",
];

/** Every file in the pickle, archive and protobuf/FlatBuffer fixture folders but those named. */
export function otherFixtures(except: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(p);
    }
  };
  for (const name of FOLDERS) {
    const p = join(FIXTURES, name);
    if (!except.includes(name) && existsSync(p)) walk(p);
  }
  return out;
}
