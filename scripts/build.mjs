// Builds the `streamc` CLI into dist/streamc.mjs: one ESM file, packages left external.
// Runs on `npm install` (prepare) so that `npx streamc` works straight after install.
import { build } from "esbuild";

await build({
  entryPoints: ["bin/streamc.ts"],
  outfile: "dist/streamc.mjs",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  packages: "external",
  sourcemap: "linked",
  banner: { js: "#!/usr/bin/env node" },
  logLevel: "warning",
});
