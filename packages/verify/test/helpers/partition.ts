/**
 * A fetch that can cut the revocation stream off, as a network partition would, while
 * everything else (JWKS, introspection) still reaches the real server.
 */
export function partitionableFetch(): { fetch: typeof fetch; cut(): void; cutAll(): void; heal(): void } {
  let cut = false;
  let all = false;
  const open = new Set<AbortController>();
  const partitioned: typeof fetch = async (input, init) => {
    const url = String(input instanceof Request ? input.url : input);
    if (all) throw new TypeError('fetch failed: sessiond unreachable (test)');
    if (!url.endsWith('/api/revocations/stream')) return fetch(input, init);
    if (cut) throw new TypeError('fetch failed: network partition (test)');
    const controller = new AbortController();
    init?.signal?.addEventListener('abort', () => controller.abort());
    open.add(controller);
    return fetch(input, { ...init, signal: controller.signal });
  };
  return {
    fetch: partitioned,
    cut() {
      cut = true;
      for (const controller of open) controller.abort();
      open.clear();
    },
    /** Nothing reaches sessiond: not the stream, not the JWKS, not introspection. */
    cutAll() {
      all = true;
      this.cut();
    },
    heal() {
      cut = false;
      all = false;
    },
  };
}
