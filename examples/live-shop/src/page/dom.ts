/** A tiny element builder: text goes in as text (never HTML), so user data cannot become markup. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string | boolean | undefined> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? '' : value);
  }
  element.append(...children);
  return element;
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`#${id} is missing from the page`);
  return element as T;
}

/**
 * Replaces a list's children and keeps the keyboard focus on the control with the same
 * `data-key`, so pressing "+" twice with the keyboard does not lose one's place.
 */
export function replaceChildrenKeepingFocus(parent: HTMLElement, children: Node[]): void {
  const active = document.activeElement as HTMLElement | null;
  const key = active && parent.contains(active) ? active.dataset.key : undefined;
  parent.replaceChildren(...children);
  if (key === undefined) return;
  const again = parent.querySelector<HTMLElement>(`[data-key="${CSS.escape(key)}"]`);
  again?.focus();
}
