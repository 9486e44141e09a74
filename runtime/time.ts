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
  const common = parseCommonTimestamp(text);
  return common === NOT_COMMON ? parseAnyTimestamp(text) : common;
}

const NOT_COMMON = -0.5;

/** Reads the decimal digits of `text` at [from, to), or -1 when one is not a digit. */
function digits(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

/**
 * The form records almost always use, `YYYY-MM-DDTHH:MM:SS[.fraction]Z`, read without a regular
 * expression or substrings (a hot path of decoding); `NOT_COMMON` sends any other text to
 * `parseAnyTimestamp`, which accepts the same strings, so the result is the same either way.
 */
function parseCommonTimestamp(text: string): number | undefined {
  const n = text.length;
  if (n < 20 || n > 30) return NOT_COMMON;
  const last = text.charCodeAt(n - 1);
  if (last !== 90 /* Z */ && last !== 122 /* z */) return NOT_COMMON;
  const t = text.charCodeAt(10);
  if (text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45 || (t !== 84 && t !== 32) || text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58) return NOT_COMMON;
  const y = digits(text, 0, 4);
  const mo = digits(text, 5, 7);
  const d = digits(text, 8, 10);
  const h = digits(text, 11, 13);
  const mi = digits(text, 14, 16);
  const sec = digits(text, 17, 19);
  if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || sec < 0) return NOT_COMMON;
  let micros = 0;
  if (n > 20) {
    // `.` and 1 to 9 fraction digits, of which the first 6 count.
    const fractionDigits = n - 21;
    if (text.charCodeAt(19) !== 46 || fractionDigits < 1 || fractionDigits > 9) return NOT_COMMON;
    const kept = Math.min(fractionDigits, 6);
    const f = digits(text, 20, 20 + kept);
    if (f < 0 || (fractionDigits > 6 && digits(text, 26, n - 1) < 0)) return NOT_COMMON;
    micros = f * 10 ** (6 - kept);
  } else if (text.charCodeAt(19) !== 90 && text.charCodeAt(19) !== 122) return NOT_COMMON;
  const days = civilDays(y, mo, d);
  if (days === undefined || h > 23 || mi > 59 || sec > 59) return undefined;
  return (days * 86_400 + h * 3_600 + mi * 60 + sec) * 1_000_000 + micros;
}

/** Every accepted form, through the regular expression. */
export function parseAnyTimestamp(text: string): number | undefined {
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
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  return daysFromCivil(year, month, day);
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

// Civil-date arithmetic without `Date` (H. Hinnant's algorithms): exact for every proleptic
// Gregorian date, and cheap enough to run once per decoded or written value.
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

function two(n: number): string {
  return n < 10 ? "0" + n : String(n);
}

/** `2024-01-31`; years outside 0000–9999 in ISO's expanded form (`+010000-01-01`), as `Date` writes them. */
function formatCivil(days: number): string {
  const { year, month, day } = civilFromDays(days);
  const y = year >= 0 && year <= 9999 ? String(year).padStart(4, "0") : (year < 0 ? "-" : "+") + String(Math.abs(year)).padStart(6, "0");
  return `${y}-${two(month)}-${two(day)}`;
}

/** `2024-01-01T00:00:00Z`, with a fraction only when there is one (`.5`, `.123456`). */
export function formatTimestampMicros(micros: number): string {
  const days = Math.floor(micros / 86_400_000_000);
  let rest = micros - days * 86_400_000_000;
  const hours = Math.floor(rest / 3_600_000_000);
  rest -= hours * 3_600_000_000;
  const minutes = Math.floor(rest / 60_000_000);
  rest -= minutes * 60_000_000;
  const seconds = Math.floor(rest / 1_000_000);
  const fraction = rest - seconds * 1_000_000;
  const fractionText = fraction === 0 ? "" : "." + String(fraction).padStart(6, "0").replace(/0+$/, "");
  return `${formatCivil(days)}T${two(hours)}:${two(minutes)}:${two(seconds)}${fractionText}Z`;
}

export function formatDateDays(days: number): string {
  return formatCivil(days);
}
