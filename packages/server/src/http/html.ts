/**
 * HTML for sessiond's own pages (sign-in, logout, the admin dashboard), escaped by construction:
 * `html` escapes every interpolated value unless it is already `SafeHTML` (made by `html` itself),
 * so no value can leave a text node or an attribute, whoever chose it (a client's name, a login
 * hint, an error message).
 */
export class SafeHTML {
  constructor(readonly text: string) {}

  toString(): string {
    return this.text;
  }
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

/** Escapes text for an HTML text node or a quoted attribute value (OWASP XSS cheat sheet, rule 1-2). */
export function escapeHTML(value: string): string {
  return value.replace(/[&<>"'`]/g, (character) => ESCAPES[character] ?? character);
}

/** A value `html` may interpolate: text (escaped), markup it made, a list of either, or nothing. */
export type HTMLValue = SafeHTML | string | number | undefined | null | false | readonly HTMLValue[];

function render(value: HTMLValue): string {
  if (value === undefined || value === null || value === false) return '';
  if (value instanceof SafeHTML) return value.text;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHTML(String(value));
}

/** A tagged template whose interpolations are escaped (see SafeHTML). */
export function html(strings: TemplateStringsArray, ...values: HTMLValue[]): SafeHTML {
  let out = strings[0] ?? '';
  values.forEach((value, index) => {
    out += render(value) + (strings[index + 1] ?? '');
  });
  return new SafeHTML(out);
}
