/**
 * Masks an e-mail address for analytics tables: keeps the first character of the local part and
 * the whole domain, so `anna.17@web.de` becomes `a***@web.de`. Used by orders-etl.stream through
 * `import fn mask_email(email: string): string from "./mask.ts"`.
 */
export function mask_email(email: string): string {
  const at = email.lastIndexOf("@");
  if (at <= 0) return "***";
  return `${email[0]}***${email.slice(at).toLowerCase()}`;
}
