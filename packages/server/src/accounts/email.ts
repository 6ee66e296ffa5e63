import { domainToASCII, domainToUnicode } from 'node:url';
import { SessiondError } from '../errors.js';

/**
 * Characters nobody types in an address on purpose and that make two spellings look alike:
 * control (Cc), format (Cf: zero-width, soft hyphen, bidi controls), surrogate, private-use
 * and unassigned code points (the rest of \p{C}), separators inside the address (\p{Z}), and
 * the other default-ignorable ones (variation selectors, Hangul fillers) that render as nothing.
 */
const INVISIBLE = /[\p{C}\p{Z}\p{Default_Ignorable_Code_Point}]/u;

function refused(): SessiondError {
  return new SessiondError(
    'invalid_request',
    'email contains invisible, control or separator characters; type it as it is written',
  );
}

/**
 * One spelling per mailbox (docs/decisions/019-input-canonicalisation.md): trimmed, refused if
 * it carries an invisible or control character, Unicode NFKC (fullwidth and other compatibility
 * forms fold to the letters they look like), lower-cased; the domain through IDNA (UTS #46, as
 * browsers map host names), kept in its Unicode form so `xn--` and Unicode spellings agree.
 * Lower-casing the local part is not strictly RFC 5321, but no mainstream provider
 * distinguishes case, and two accounts for `Ann@x.com` and `ann@x.com` is the worse failure.
 * Throws SessiondError `invalid_request` for a refused character; the shape is looksLikeEmail's.
 */
export function normaliseEmail(email: string): string {
  const trimmed = email.trim();
  if (INVISIBLE.test(trimmed)) throw refused();
  // Lower-casing can leave a string that is not NFKC (rarely): normalise again after it.
  const folded = trimmed.normalize('NFKC').toLowerCase().normalize('NFKC');
  // NFKC can expand a character into ones with spaces (U+FDFA): refused as well.
  if (INVISIBLE.test(folded)) throw refused();
  const at = folded.lastIndexOf('@');
  if (at < 0) return folded;
  const domain = canonicalDomain(folded.slice(at + 1));
  return domain === undefined ? folded : `${folded.slice(0, at)}@${domain}`;
}

/** The domain as IDNA maps it, in Unicode; undefined when IDNA refuses it. */
function canonicalDomain(domain: string): string | undefined {
  const ascii = domainToASCII(domain);
  return ascii === '' ? undefined : domainToUnicode(ascii);
}

const EMAIL_SHAPE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** For a normalised email: the shape of an address, and a domain IDNA accepts. */
export function looksLikeEmail(email: string): boolean {
  if (email.length > 254 || !EMAIL_SHAPE.test(email)) return false;
  return canonicalDomain(email.slice(email.lastIndexOf('@') + 1)) !== undefined;
}
