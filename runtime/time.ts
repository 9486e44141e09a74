/**
 * Timestamps and dates as the language defines them: timestamps are microseconds since the Unix
 * epoch, UTC; dates are days since 1970-01-01.
 *
 * Contract: the parsers accept ISO-8601 (`2024-01-01T10:00:00Z`, `2024-01-01 10:00:00.123456+02:00`,
 * `2024-01-01`: midnight UTC; no zone means UTC) and return undefined for anything else,
 * including impossible dates such as February 30th. The checker (typed literals) and the decoders
 * (records) share them, so a literal and a record mean the same instant.
 */

const isoTimestamp =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z|z|[+-]\d{2}:?\d{2})?$/;

export function parseTimestampMicros(text: string): number | undefined {
  const m = isoTimestamp.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h = "0", mi = "0", s = "0", fraction = "", zone] = m;
  if (m[4] === undefined && zone !== undefined) return undefined;
  const days = civilDays(Number(y), Number(mo), Number(d));
  const hours = Number(h);
  const minutes = Number(mi);
  const seconds = Number(s);
  if (days === undefined || hours > 23 || minutes > 59 || seconds > 59) return undefined;
  let offsetMinutes = 0;
  if (zone && zone !== "Z" && zone !== "z") {
    const digits = zone.replace(":", "");
    const zh = Number(digits.slice(1, 3));
    const zm = Number(digits.slice(3, 5));
    if (zh > 23 || zm > 59) return undefined;
    offsetMinutes = (zone[0] === "-" ? -1 : 1) * (zh * 60 + zm);
  }
  const micros = Number((fraction + "000000").slice(0, 6));
  const totalSeconds = days * 86_400 + hours * 3_600 + (minutes - offsetMinutes) * 60 + seconds;
  return totalSeconds * 1_000_000 + micros;
}

export function parseDateDays(text: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  return m ? civilDays(Number(m[1]), Number(m[2]), Number(m[3])) : undefined;
}

/** Days since 1970-01-01 of a proleptic Gregorian date, or undefined when the date does not exist. */
function civilDays(year: number, month: number, day: number): number | undefined {
  if (month < 1 || month > 12 || day < 1) return undefined;
  const check = new Date(0);
  check.setUTCFullYear(year, month - 1, day);
  const ms = check.getTime();
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) return undefined;
  return Math.round(ms / 86_400_000);
}

/** `2024-01-01T00:00:00Z`, with a fraction only when there is one (`.5`, `.123456`). */
export function formatTimestampMicros(micros: number): string {
  const ms = Math.floor(micros / 1000);
  const sub = micros - ms * 1000;
  const iso = new Date(ms).toISOString();
  const base = iso.slice(0, 19);
  const fraction = (iso.slice(20, 23) + String(sub).padStart(3, "0")).replace(/0+$/, "");
  return `${base}${fraction ? "." + fraction : ""}Z`;
}

export function formatDateDays(days: number): string {
  return new Date(days * 86_400_000).toISOString().slice(0, 10);
}
