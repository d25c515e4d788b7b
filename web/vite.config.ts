import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const here = fileURLToPath(new URL(".", import.meta.url));

/**
 * The browser app (scanner and gate dashboard): `npm run build:web` writes a static site to
 * dist-web/, with relative asset URLs so it can be served from any path.
 */
export default defineConfig({
  root: here,
  base: "./",
  publicDir: false,
  build: {
    outDir: fileURLToPath(new URL("../dist-web", import.meta.url)),
    emptyOutDir: true,
    target: "es2022",
    chunkSizeWarningLimit: 4096,
  },
  worker: { format: "es" },
  server: { fs: { allow: [fileURLToPath(new URL("..", import.meta.url))] } },
});
