/**
 * Extensions that model files and their archives usually carry. Detection never dispatches on
 * these (DESIGN.md principle 2); they only decide how loudly an *unrecognised* file is reported:
 * a `.pt` whose bytes match no format we know cannot be vouched for (fail closed), whereas a
 * `README.md` is simply not a model.
 */
export const MODEL_EXTENSIONS: ReadonlySet<string> = new Set([
  "bin",
  "pt",
  "pth",
  "pt2",
  "ckpt",
  "pkl",
  "pickle",
  "joblib",
  "dat",
  "data",
  "npy",
  "npz",
  "h5",
  "hdf5",
  "keras",
  "pb",
  "onnx",
  "gguf",
  "ggml",
  "safetensors",
  "msgpack",
  "tflite",
  "mar",
  "model",
  "sav",
  "dill",
  "cloudpickle",
  "zip",
  "7z",
  "tar",
  "tgz",
  "gz",
  "bz2",
  "xz",
  "lzma",
]);

export function hasModelExtension(name: string): boolean {
  const base = name.slice(name.lastIndexOf("/") + 1);
  const dot = base.lastIndexOf(".");
  if (dot <= 0) return false;
  return MODEL_EXTENSIONS.has(base.slice(dot + 1).toLowerCase());
}
