import { describe, expect, it } from "vitest";
import { TORCH_STORAGE_ELEMENT_SIZE } from "../policy/torch-storages.js";
import { DTYPE_SIZE, REFUSED_DTYPES, STORAGE_DTYPE } from "./dtypes.js";

describe("storage classes", () => {
  it("every storage class torch can name is either converted or refused with a reason", () => {
    for (const name of Object.keys(TORCH_STORAGE_ELEMENT_SIZE)) {
      expect(name in STORAGE_DTYPE !== name in REFUSED_DTYPES, name).toBe(true);
    }
    for (const name of [...Object.keys(STORAGE_DTYPE), ...Object.keys(REFUSED_DTYPES)]) {
      expect(TORCH_STORAGE_ELEMENT_SIZE[name], name).toBeDefined();
    }
  });

  it("a converted storage's dtype has the storage's element size", () => {
    for (const [name, dtype] of Object.entries(STORAGE_DTYPE)) {
      expect(DTYPE_SIZE[dtype], name).toBe(TORCH_STORAGE_ELEMENT_SIZE[name]);
    }
  });
});
