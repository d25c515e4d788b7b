import { chatTemplateFormat } from "./chat-template/index.js";
import { compressedFormat } from "./compressed/index.js";
import { ggufFormat } from "./gguf/index.js";
import { hdf5Format } from "./hdf5/index.js";
import { hfConfigFormat, nemoConfigFormat, torchServeManifestFormat } from "./hf-config/index.js";
import { joblibFormat } from "./joblib/index.js";
import { kerasConfigFormat } from "./keras/index.js";
import { flaxMsgpackFormat } from "./msgpack/index.js";
import { npyFormat } from "./numpy/index.js";
import { onnxFormat } from "./onnx/index.js";
import { pickleFormat } from "./pickle/index.js";
import { pythonSourceFormat } from "./python-source/index.js";
import { pytorchLegacyFormat } from "./pytorch/legacy.js";
import { safetensorsFormat } from "./safetensors/index.js";
import { sevenZipFormat } from "./sevenzip/index.js";
import { tarFormat } from "./tar/index.js";
import { tensorflowFormat } from "./tensorflow/index.js";
import { tfliteFormat } from "./tflite/index.js";
import type { FormatAnalyser } from "./types.js";
import { zipFormat } from "./zip/index.js";

/**
 * Every format analyser, in detection order (STYLE.md, after Trivy: one explicit list; a test
 * checks the ids are unique). Formats with a definite signature come first; pickle is last because
 * almost any byte can start one. Order matters where signatures overlap:
 * - tar before zip: a tar whose last member is a zip also shows a zip end record in its tail;
 * - tflite before zip: the TFLite metadata writer appends a zip of associated files to the model,
 *   which the tflite analyser hands on as a child;
 * - safetensors and gguf before zip: a header length or magic at offset 0 is decisive, whatever
 *   the tail holds;
 * - tar, compressed and the JSON/text formats before pickle: their first bytes are also pickle
 *   opcodes (`{` is EMPTY_DICT, `(` is MARK, letters are protocol-0 opcodes);
 * - keras-config before hf-config: both are JSON objects, a Keras config names its layer classes;
 * - hf-config before chat-template: a tokenizer_config.json can hold both `auto_map` and
 *   `chat_template`, and the hf-config analyser checks its templates too;
 * - pytorch-legacy, npy and joblib before pickle: all are pickles with a known frame around them.
 */
export const FORMATS: readonly FormatAnalyser[] = Object.freeze([
  tarFormat,
  compressedFormat,
  tfliteFormat,
  safetensorsFormat,
  ggufFormat,
  zipFormat,
  sevenZipFormat,
  hdf5Format,
  kerasConfigFormat,
  flaxMsgpackFormat,
  hfConfigFormat,
  torchServeManifestFormat,
  nemoConfigFormat,
  pythonSourceFormat,
  pytorchLegacyFormat,
  npyFormat,
  onnxFormat,
  tensorflowFormat,
  chatTemplateFormat,
  joblibFormat,
  pickleFormat,
]);
