/**
 * One spelling per mailbox: trimmed, Unicode NFC, lower-cased. Lower-casing the local part is
 * not strictly RFC 5321, but no mainstream provider distinguishes case, and treating
 * `Ann@x.com` and `ann@x.com` as two accounts is the worse failure.
 */
export function normaliseEmail(email: string): string {
  return email.trim().normalize('NFC').toLowerCase();
}

const EMAIL_SHAPE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function looksLikeEmail(email: string): boolean {
  return email.length <= 254 && EMAIL_SHAPE.test(email);
}
