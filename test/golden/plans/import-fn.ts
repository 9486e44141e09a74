/** Functions that plans/import-fn.stream imports with `import fn`; bundled into the program. */
export function mask_email(email: string): string {
  const at = email.lastIndexOf("@");
  return at <= 0 ? "***" : `${email[0]}***${email.slice(at).toLowerCase()}`;
}

export function risk_score(amount: number, country: string | null, attempts: number): number {
  const base = amount > 1000 ? 0.5 : 0.1;
  return Math.min(1, base + (country === null ? 0.2 : 0) + attempts * 0.1);
}

export const parse_tags = (text: string): string[] => text.split(",").map((t) => t.trim()).filter((t) => t !== "");
