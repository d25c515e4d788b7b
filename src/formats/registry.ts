import { pickleFormat } from "./pickle/index.js";
import { pytorchLegacyFormat } from "./pytorch/legacy.js";
import { sevenZipFormat } from "./sevenzip/index.js";
import type { FormatAnalyser } from "./types.js";
import { zipFormat } from "./zip/index.js";

/**
 * Every format analyser, in detection order: formats with a definite magic number first, pickle
 * last because almost any byte can start a pickle. One explicit list (STYLE.md, after Trivy); a
 * test checks the ids are unique.
 */
export const FORMATS: readonly FormatAnalyser[] = Object.freeze([
  zipFormat,
  sevenZipFormat,
  pytorchLegacyFormat,
  pickleFormat,
]);
