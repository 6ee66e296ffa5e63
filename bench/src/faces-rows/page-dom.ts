// The few browser interfaces rows 14 and 15's in-page functions use. The bench compiles without
// the DOM library (it is a Node program), so a function passed to `evaluate` or `addInitScript`
// takes what it needs from the page's global object through these, as `bench-page.ts` does.

export interface PageElement {
  textContent: string | null;
  readonly dataset: Record<string, string | undefined>;
  click(): void;
}

export interface PageDocument {
  readonly documentElement: PageElement;
  readonly body: PageElement;
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): { readonly length: number };
}

export interface PageSocket {
  readonly readyState: number;
  send(data: string): void;
  addEventListener(type: 'open' | 'error', listener: () => void): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
}

export interface PageWindow {
  readonly document: PageDocument;
  readonly performance: {
    now(): number;
    readonly timeOrigin: number;
    getEntriesByType(type: 'navigation'): Array<{ readonly domContentLoadedEventEnd: number }>;
  };
  readonly MutationObserver: new (
    callback: () => void,
  ) => { observe(target: unknown, options: Record<string, unknown>): void };
  readonly WebSocket: new (url: string) => PageSocket;
}
