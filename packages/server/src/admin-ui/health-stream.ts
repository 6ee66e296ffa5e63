import type { ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { HEALTH_WINDOW_MS, type HealthTotals, healthEvent, readHealthTotals } from './health-sample.js';

/** How often each open stream gets an event. */
export const HEALTH_INTERVAL_MS = 1000;

/**
 * The dashboard's live health as server-sent events: every HEALTH_INTERVAL_MS one `health`
 * event computed from the metrics registry. Each stream keeps its own minute of totals (a few
 * numbers a second), so nothing runs while no dashboard is open.
 */
export class HealthStreams {
  readonly #open = new Set<ServerResponse>();

  constructor(private readonly deps: { registry: Registry; intervalMs?: number }) {}

  /** Writes the stream until the client goes away or closeAll; resolves then. */
  async serve(response: ServerResponse, headers: Record<string, string>): Promise<void> {
    response.writeHead(200, {
      ...headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      // Proxies (nginx) must pass each event on at once.
      'x-accel-buffering': 'no',
    });
    response.write('retry: 2000\n\n');
    this.#open.add(response);
    const history: HealthTotals[] = [];
    let stopped = false;
    const tick = async (): Promise<void> => {
      // The registry's clock is the wall clock (rates are about real seconds, not the injected clock).
      const totals = await readHealthTotals(this.deps.registry, Date.now());
      if (stopped) return;
      const previous = history.at(-1) ?? totals;
      while (history.length > 1 && (history[0]?.at ?? 0) < totals.at - HEALTH_WINDOW_MS) history.shift();
      const windowStart = history[0] ?? totals;
      history.push(totals);
      response.write(
        `event: health\ndata: ${JSON.stringify(healthEvent(totals, previous, windowStart))}\n\n`,
      );
    };
    await new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const loop = (): void => {
        tick()
          .catch(() => {
            // A failed read (the database behind a gauge) skips one event; the stream goes on.
          })
          .finally(() => {
            if (!stopped) timer = setTimeout(loop, this.deps.intervalMs ?? HEALTH_INTERVAL_MS);
          });
      };
      const stop = (): void => {
        stopped = true;
        clearTimeout(timer);
        this.#open.delete(response);
        resolve();
      };
      response.once('close', stop);
      loop();
    });
  }

  /** Ends every open stream (shutdown); the page's EventSource reconnects to another node or later. */
  closeAll(): void {
    for (const response of this.#open) response.end();
  }
}
