/** Functions that the golden error cases import with `import fn`. */
export function mask_email(email: string): string {
  const at = email.lastIndexOf("@");
  return at <= 0 ? "***" : `${email[0]}***${email.slice(at)}`;
}

export function shout(text: string): string {
  return text.toUpperCase() + "!";
}
