/**
 * Bundling with esbuild: the generated kernel module loaded in-process, and a whole program (the
 * plan, its kernels and a runtime entry) as one self-contained ES module for `streamc compile`.
 *
 * Contract:
 * - `kernelImports(imports, sourcePath)` says where a generated module imports from: the
 *   project's support and stdlib files through `streamc:` specifiers (resolved here), and each
 *   `import fn` module by its absolute path (the path as written is relative to the `.stream` file).
 * - `loadKernelModule(source, { sourcePath })` bundles the generated module (with the runtime
 *   helpers, the stdlib and the user's functions, TypeScript included), leaves `apache-arrow`
 *   external so that the kernels build columns with the host's Arrow classes, and imports it from
 *   a `data:` URL. It rejects when bundling fails (an imported file is missing or does not parse).
 * - `bundleProgram(options)` returns the text of one ES module that needs no node_modules: it
 *   exports `plan` (the physical plan, as JSON) and `kernels` (the kernel module), and, when given
 *   an `entry`, calls that module's export with `(plan, kernels)` on load.
 * The project's files are found relative to this module (compiler/ or dist/, both one level below
 * the project root).
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createRequire } from "node:module";
import { build, type Plugin } from "esbuild";
import type { KernelModule } from "../runtime/kernel.ts";
import type { PhysicalPlan } from "../runtime/plan.ts";
import { KERNEL_SUPPORT_SPECIFIER, type KernelModuleImports, SCALAR_FUNCTIONS_SPECIFIER, jsLiteral } from "./codegen.ts";
import type { ImportedFunction } from "./logical/plan.ts";

const projectRoot = fileURLToPath(new URL("..", import.meta.url));

/** The project files a generated module imports, by the specifier it uses. */
const projectModules: Record<string, string> = {
  [KERNEL_SUPPORT_SPECIFIER]: path.join(projectRoot, "runtime", "columnar", "kernel-support.ts"),
  [SCALAR_FUNCTIONS_SPECIFIER]: path.join(projectRoot, "stdlib", "scalar-functions.ts"),
};

const KERNELS_SPECIFIER = "streamc:kernels";
/** The bundle entry's file name as esbuild reports it (it is not written anywhere). */
const ENTRY_NAME = "streamc-entry.js";

/** Where a generated kernel module imports from, for a program at `sourcePath`. */
export function kernelImports(imports: readonly ImportedFunction[], sourcePath: string | undefined): KernelModuleImports {
  return {
    support: KERNEL_SUPPORT_SPECIFIER,
    scalarFunctions: SCALAR_FUNCTIONS_SPECIFIER,
    functions: imports.map((fn) => {
      if (sourcePath === undefined) throw new Error(`\`import fn ${fn.name}\` needs the program's file to find ${JSON.stringify(fn.from)}`);
      return { ...fn, specifier: path.resolve(path.dirname(path.resolve(sourcePath)), fn.from) };
    }),
  };
}

export interface LoadOptions {
  /** The `.stream` file the kernels come from (for messages); undefined for text without a file. */
  sourcePath: string | undefined;
}

/** The generated kernel module, bundled and imported into this process. */
export async function loadKernelModule(source: string, options: LoadOptions): Promise<KernelModule> {
  const text = await bundle({
    contents: source,
    sourcePath: options.sourcePath,
    external: { "apache-arrow": hostArrowUrl() },
  });
  const loaded = (await import(`data:text/javascript;base64,${Buffer.from(text).toString("base64")}`)) as { default: KernelModule };
  return loaded.default;
}

export interface ProgramBundleOptions {
  plan: PhysicalPlan;
  /** The generated kernel module's source (`generateKernelModule`). */
  kernelSource: string;
  sourcePath: string | undefined;
  /** A module (absolute path) whose export `exportName` runs a program: called as `(plan, kernels)` when the bundle loads. */
  entry?: { path: string; exportName: string };
  minify?: boolean;
}

/** One self-contained ES module: the plan, the kernels and (with `entry`) the runtime that runs them. */
export async function bundleProgram(options: ProgramBundleOptions): Promise<string> {
  const lines = [
    `import kernels from ${jsLiteral(KERNELS_SPECIFIER)};`,
    ...(options.entry ? [`import * as entry from ${jsLiteral(options.entry.path)};`] : []),
    `export const plan = JSON.parse(${jsLiteral(JSON.stringify(options.plan))});`,
    "export { kernels };",
    "export default { plan, kernels };",
    ...(options.entry ? [`await entry[${jsLiteral(options.entry.exportName)}](plan, kernels);`] : []),
  ];
  return bundle({
    contents: lines.join("\n") + "\n",
    sourcePath: options.sourcePath,
    kernels: options.kernelSource,
    minify: options.minify,
    // Bundled CommonJS dependencies call `require` for Node's built-in modules.
    banner:
      'import { createRequire as __streamcCreateRequire } from "node:module"; const require = __streamcCreateRequire(import.meta.url.startsWith("file:") ? import.meta.url : process.cwd() + "/");',
  });
}

interface BundleInput {
  contents: string;
  sourcePath: string | undefined;
  /** The kernel module's source, for `streamc:kernels`. */
  kernels?: string;
  /** Bare specifiers left external, each imported from the given URL instead. */
  external?: Record<string, string>;
  minify?: boolean;
  banner?: string;
}

async function bundle(input: BundleInput): Promise<string> {
  const resolveDir = input.sourcePath ? path.dirname(path.resolve(input.sourcePath)) : process.cwd();
  const result = await build({
    stdin: { contents: input.contents, resolveDir, sourcefile: ENTRY_NAME, loader: "js" },
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    write: false,
    logLevel: "silent",
    minify: input.minify ?? false,
    legalComments: "none",
    loader: { ".wasm": "binary" },
    ...(input.banner ? { banner: { js: input.banner } } : {}),
    plugins: [projectPlugin(input, resolveDir)],
  });
  return result.outputFiles[0]!.text;
}

/** Resolves `streamc:` specifiers to the project's files (and the kernel module), and maps external packages to URLs. */
function projectPlugin(input: BundleInput, resolveDir: string): Plugin {
  return {
    name: "streamc",
    setup(builder) {
      builder.onResolve({ filter: /^streamc:/ }, (args) => {
        if (args.path === KERNELS_SPECIFIER && input.kernels !== undefined) return { path: KERNELS_SPECIFIER, namespace: "streamc-kernels" };
        const file = projectModules[args.path];
        return file ? { path: file } : { errors: [{ text: `unknown module ${args.path}` }] };
      });
      builder.onLoad({ filter: /.*/, namespace: "streamc-kernels" }, () => ({ contents: input.kernels!, loader: "js", resolveDir }));
      // The kernel module imports `import fn` modules by absolute path. They are read here, under
      // a plain name, because esbuild's resolver rejects some legal paths (with `*`) and would
      // write the path into a `//` comment of the bundle (where a line break in it would end the comment).
      const userModules: string[] = [];
      builder.onResolve({ filter: /.*/ }, (args) => {
        const fromKernels = args.namespace === "streamc-kernels" || (input.kernels === undefined && args.importer === path.join(resolveDir, ENTRY_NAME));
        if (!fromKernels || !path.isAbsolute(args.path)) return undefined;
        let index = userModules.indexOf(args.path);
        if (index < 0) index = userModules.push(args.path) - 1;
        return { path: `import-fn-module-${index}`, namespace: "streamc-user" };
      });
      builder.onLoad({ filter: /.*/, namespace: "streamc-user" }, async (args) => {
        const file = userModules[Number(args.path.slice("import-fn-module-".length))]!;
        const extension = path.extname(file).toLowerCase();
        return { contents: await readFile(file, "utf8"), loader: extension === ".ts" || extension === ".mts" ? "ts" : "js", resolveDir: path.dirname(file) };
      });
      // parquet-wasm's Node build reads its .wasm file next to itself, which a one-file bundle
      // does not have: a program bundle embeds the bytes and initialises the ES build from them.
      if (input.kernels !== undefined) {
        builder.onResolve({ filter: /^parquet-wasm$/ }, () => ({ path: "parquet-wasm", namespace: "streamc-parquet" }));
        builder.onLoad({ filter: /.*/, namespace: "streamc-parquet" }, () => ({
          contents: [
            'import wasm from "parquet-wasm/esm/parquet_wasm_bg.wasm";',
            'import { initSync } from "parquet-wasm/esm";',
            "initSync({ module: wasm });",
            'export * from "parquet-wasm/esm";',
          ].join("\n"),
          loader: "js",
          resolveDir: projectRoot,
        }));
      }
      const external = input.external ?? {};
      if (Object.keys(external).length > 0) {
        builder.onResolve({ filter: /^[^./]/ }, (args) => {
          const url = external[args.path];
          return url === undefined ? undefined : { path: url, external: true };
        });
      }
    },
  };
}

/** The file URL of the `apache-arrow` ES module this process uses. */
function hostArrowUrl(): string {
  const resolve = (import.meta as { resolve?: (specifier: string) => string }).resolve;
  if (typeof resolve === "function") {
    try {
      const url = resolve("apache-arrow");
      if (url.startsWith("file:")) return url;
    } catch {
      // fall through to the package's files
    }
  }
  const commonJsEntry = createRequire(import.meta.url).resolve("apache-arrow");
  return pathToFileURL(path.join(path.dirname(commonJsEntry), "Arrow.node.mjs")).href;
}
