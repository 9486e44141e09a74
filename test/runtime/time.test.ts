/**
 * Timestamp parsing: the fast path for `YYYY-MM-DDTHH:MM:SS[.fraction]Z` gives exactly what the
 * general parser gives, for every string: valid ones, impossible dates and times, and strings
 * mutated one character at a time around the common form.
 */
import { describe, expect, it } from "vitest";
import { parseAnyTimestamp, parseTimestampMicros } from "../../runtime/time.ts";
import { prng } from "../support/prng.ts";

describe("parseTimestampMicros", () => {
  it("agrees with the general parser on valid, impossible and mutated timestamps", () => {
    const random = prng(99);
    const pad = (n: number, w: number) => String(n).padStart(w, "0");
    const alphabet = "0123456789-:.TZz +x";
    let checked = 0;
    for (let i = 0; i < 20_000; i++) {
      const fraction = random() < 0.5 ? "" : "." + Array.from({ length: 1 + Math.floor(random() * 10) }, () => Math.floor(random() * 10)).join("");
      let text = `${pad(Math.floor(random() * 10000), 4)}-${pad(Math.floor(random() * 14), 2)}-${pad(Math.floor(random() * 33), 2)}${random() < 0.9 ? "T" : " "}${pad(Math.floor(random() * 26), 2)}:${pad(Math.floor(random() * 62), 2)}:${pad(Math.floor(random() * 62), 2)}${fraction}${random() < 0.9 ? "Z" : random() < 0.5 ? "z" : "+02:00"}`;
      if (random() < 0.3) {
        const at = Math.floor(random() * text.length);
        text = text.slice(0, at) + alphabet[Math.floor(random() * alphabet.length)] + text.slice(at + (random() < 0.5 ? 1 : 0));
      }
      expect(parseTimestampMicros(text), text).toBe(parseAnyTimestamp(text));
      checked++;
    }
    expect(checked).toBe(20_000);
    expect(parseTimestampMicros("2024-02-29T23:59:59.999999Z")).toBe(Date.parse("2024-02-29T23:59:59.999Z") * 1000 + 999);
    expect(parseTimestampMicros("2023-02-29T00:00:00Z")).toBeUndefined();
  });
});
