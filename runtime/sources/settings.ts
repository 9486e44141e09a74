/**
 * Reading connector settings from the plan: strings (literals or `env(...)`, read when the program
 * starts), integers, words, and paths resolved against the working directory (as Spark does).
 *
 * Contract: the compiler has already checked kinds and filled in defaults (compiler/connectors.ts),
 * so a wrong kind here is a corrupt plan and throws.
 */
import { isAbsolute, resolve } from "node:path";
import type { SettingValue, Settings, StringSetting } from "../plan.ts";

export type Environment = Readonly<Record<string, string | undefined>>;

/** `env("NAME", "default")`: the variable, else the default; an unset variable without a default throws. */
export function resolveString(setting: StringSetting, env: Environment = process.env): string {
  if (setting.kind === "literal") return setting.value;
  const value = env[setting.variable];
  if (value !== undefined) return value;
  if (setting.fallback !== undefined) return setting.fallback;
  throw new Error(`environment variable ${setting.variable} is not set and env("${setting.variable}") has no default`);
}

/** A path option or target, absolute. */
export function resolvePath(setting: StringSetting, cwd: string, env: Environment = process.env): string {
  const path = resolveString(setting, env);
  return isAbsolute(path) ? path : resolve(cwd, path);
}

function expect<K extends SettingValue["kind"]>(settings: Settings, name: string, kind: K): Extract<SettingValue, { kind: K }> | undefined {
  const value = settings[name];
  if (value === undefined) return undefined;
  if (value.kind !== kind) throw new Error(`option ${name}: expected ${kind}, the plan has ${value.kind}`);
  return value as Extract<SettingValue, { kind: K }>;
}

export function integerSetting(settings: Settings, name: string): number | undefined {
  return expect(settings, name, "integer")?.value;
}

export function wordSetting(settings: Settings, name: string): string | undefined {
  return expect(settings, name, "word")?.word;
}
