/**
 * Name resolution: which declaration every name refers to, and the order streams must be checked in.
 *
 * Contract: reports duplicate declarations, references to unknown or wrong-kind declarations,
 * cycles between streams, bad imports and unused streams. The returned table holds the first
 * declaration of each name; `streamOrder` lists every stream whose inputs all resolve and that is
 * not in a cycle, each after the streams it reads.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve as resolvePath } from "node:path";
import type * as ast from "../grammar/ast.ts";
import { aggregateFunctions } from "../stdlib/aggregate-functions.ts";
import { scalarFunctions } from "../stdlib/scalar-functions.ts";
import type { DiagnosticSink } from "./diagnostics.ts";
import { suggest } from "./suggest.ts";

export type Declaration =
  | { kind: "schema"; decl: ast.SchemaDecl }
  | { kind: "source"; decl: ast.SourceDecl }
  | { kind: "stream"; decl: ast.StreamDecl };

export interface Resolved {
  program: ast.Program;
  /** Schemas, sources and streams: one namespace. */
  declarations: Map<string, Declaration>;
  pipeline: ast.PipelineDecl | undefined;
  imports: Map<string, ast.ImportFnDecl>;
  sinks: ast.SinkDecl[];
  tests: ast.TestDecl[];
  streamOrder: ast.StreamDecl[];
  location: SourceLocation;
}

/** Where the program lives, to resolve `import fn ... from "./file.ts"`; absent for in-memory text. */
export interface SourceLocation {
  path: string | undefined;
}

export function resolve(program: ast.Program, location: SourceLocation, sink: DiagnosticSink): Resolved {
  const declarations = new Map<string, Declaration>();
  const imports = new Map<string, ast.ImportFnDecl>();
  let pipeline: ast.PipelineDecl | undefined;
  const sinks: ast.SinkDecl[] = [];
  const tests: ast.TestDecl[] = [];

  for (const decl of program.decls) {
    switch (decl.kind) {
      case "pipeline":
        if (pipeline) sink.report("duplicatePipeline", { ...decl.span, end: Math.max(decl.name.span.end, decl.span.start + "pipeline".length) }, {}, `the first is on line ${pipeline.span.line}; merge their options into it`);
        else pipeline = decl;
        break;
      case "schema":
      case "source":
      case "stream": {
        if (decl.name.text === "") break;
        const previous = declarations.get(decl.name.text);
        if (previous) {
          sink.report("duplicateDeclaration", decl.name.span, { name: decl.name.text }, `the first is the ${previous.kind} on line ${previous.decl.name.span.line}`);
        } else {
          declarations.set(decl.name.text, { kind: decl.kind, decl } as Declaration);
        }
        break;
      }
      case "importFn":
        checkImport(decl, imports, location, sink);
        break;
      case "sink":
        sinks.push(decl);
        break;
      case "test":
        tests.push(decl);
        break;
    }
  }

  const resolved: Resolved = { program, declarations, pipeline, imports, sinks, tests, streamOrder: [], location };
  resolved.streamOrder = orderStreams(resolved, sink);
  for (const s of sinks) lookupStream(resolved, s.stream, sink);
  reportUnusedStreams(resolved, sink);
  return resolved;
}

/**
 * The declaration a stream-position name refers to (an input, a join's or union's other side, a
 * sink's stream), reporting when there is none or it is a schema.
 */
export function lookupStream(resolved: Resolved, name: ast.Name, sink: DiagnosticSink): Declaration | undefined {
  if (name.text === "") return undefined;
  const found = resolved.declarations.get(name.text);
  if (!found) {
    const candidates = [...resolved.declarations.values()].filter((d) => d.kind !== "schema").map((d) => d.decl.name.text);
    const close = suggest(name.text, candidates);
    sink.report("unknownStream", name.span, { name: name.text }, close ? `did you mean \`${close}\`?` : candidates.length ? `declared streams and sources: ${candidates.map((c) => `\`${c}\``).join(", ")}` : "declare it with `source` or `stream`");
    return undefined;
  }
  if (found.kind === "schema") {
    const sources = [...resolved.declarations.values()].filter((d) => d.kind === "source" && d.decl.schema.kind === "named" && d.decl.schema.name.text === name.text);
    sink.report(
      "notAStream",
      name.span,
      { name: name.text, actual: "schema" },
      sources.length
        ? `read a source of it instead: ${sources.map((d) => `\`${d.decl.name.text}\``).join(", ")}`
        : `declare a source of it: \`source ${name.text.toLowerCase()}s: ${name.text} = kafka { ... }\``,
    );
    return undefined;
  }
  return found;
}

/** The names a stream reads: its input, and the other side of joins and unions. */
export function streamDependencies(stream: ast.StreamDecl): ast.Name[] {
  const names = [stream.input];
  for (const transform of stream.transforms) {
    if (transform.kind === "join") names.push(transform.right);
    if (transform.kind === "union") names.push(...transform.streams);
  }
  return names;
}

function orderStreams(resolved: Resolved, sink: DiagnosticSink): ast.StreamDecl[] {
  const order: ast.StreamDecl[] = [];
  const state = new Map<string, "visiting" | "done" | "failed">();
  const streams = [...resolved.declarations.values()].filter((d): d is Extract<Declaration, { kind: "stream" }> => d.kind === "stream");

  const visit = (stream: ast.StreamDecl, path: string[]): boolean => {
    const name = stream.name.text;
    const current = state.get(name);
    if (current === "done") return true;
    if (current === "failed") return false;
    if (current === "visiting") {
      const cycle = [...path.slice(path.indexOf(name)), name];
      sink.report("cycle", stream.name.span, { name, path: cycle.join(" -> ") }, "a stream can only read sources and streams that do not read it");
      return false;
    }
    state.set(name, "visiting");
    let ok = true;
    for (const dependency of streamDependencies(stream)) {
      const found = lookupStream(resolved, dependency, sink);
      if (!found) {
        ok = false;
        continue;
      }
      if (found.kind === "stream" && !visit(found.decl, [...path, name])) ok = false;
    }
    state.set(name, ok ? "done" : "failed");
    if (ok) order.push(stream);
    return ok;
  };

  for (const { decl } of streams) visit(decl, []);
  return order;
}

function reportUnusedStreams(resolved: Resolved, sink: DiagnosticSink): void {
  const used = new Set<string>();
  for (const s of resolved.sinks) used.add(s.stream.text);
  for (const { decl, kind } of resolved.declarations.values()) {
    if (kind === "stream") for (const dependency of streamDependencies(decl)) used.add(dependency.text);
  }
  for (const test of resolved.tests) for (const step of test.steps) if (step.kind === "expect") used.add(step.stream.text);
  for (const { decl, kind } of resolved.declarations.values()) {
    if (kind === "stream" && !used.has(decl.name.text)) {
      sink.report("unusedStream", decl.name.span, { name: decl.name.text }, `write it somewhere: \`sink ${decl.name.text} -> console\``);
    }
  }
}

function checkImport(decl: ast.ImportFnDecl, imports: Map<string, ast.ImportFnDecl>, location: SourceLocation, sink: DiagnosticSink): void {
  const name = decl.name.text;
  if (name === "") return;
  if (scalarFunctions.has(name) || aggregateFunctions.has(name) || name === "env") {
    sink.report("shadowsBuiltin", decl.name.span, { name }, `name it something else, e.g. \`my_${name}\``);
    return;
  }
  const previous = imports.get(name);
  if (previous) {
    sink.report("duplicateDeclaration", decl.name.span, { name }, `the first import of \`${name}\` is on line ${previous.span.line}`);
    return;
  }
  const seen = new Set<string>();
  for (const param of decl.params) {
    if (seen.has(param.name.text)) sink.report("duplicateParameter", param.name.span, { name: param.name.text }, "give each parameter its own name");
    seen.add(param.name.text);
  }
  imports.set(name, decl);

  const path = decl.from.literal.value;
  if (!/^\.\.?\//.test(path)) {
    sink.report("badImportPath", decl.from.span, { path, reason: "the path must be relative to this file" }, `write \`"./${path.replace(/^\/+/, "")}"\``);
    return;
  }
  if (!/\.(ts|mts|js|mjs)$/.test(path)) {
    sink.report("badImportPath", decl.from.span, { path, reason: "it is not a TypeScript or JavaScript module" }, "import from a `.ts`, `.mts`, `.js` or `.mjs` file");
    return;
  }
  if (location.path === undefined) return;
  const file = resolvePath(dirname(location.path), path);
  if (!existsSync(file)) {
    sink.report("badImportPath", decl.from.span, { path, reason: "the file does not exist" }, `create ${path} next to this file, exporting \`${name}\``);
    return;
  }
  const text = readFileSync(file, "utf8");
  // A backtick name may hold any character: escape it, or `a(b` is a broken pattern and `a*` a wrong one.
  const quoted = name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const exported = new RegExp(`export\\s+(?:async\\s+)?(?:function\\s*\\*?\\s*|const\\s+|let\\s+|var\\s+)${quoted}\\b|export\\s*\\{[^}]*\\b${quoted}\\b[^}]*\\}`);
  if (!exported.test(text)) {
    sink.report("badImportPath", decl.from.span, { path, reason: `it does not export \`${name}\`` }, `add \`export function ${name}(...)\` to ${path}`);
  }
}
