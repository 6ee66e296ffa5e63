import { describe, expect, it } from 'vitest';
import { memoryStorage } from '../src/storage.js';
import { SyncDocument } from '../src/sync/sync-document.js';

/** A document wired to a recording link: what it would send, and when it asks for a catch-up. */
async function document() {
  const sent: string[] = [];
  const resubscribed: Array<number | undefined> = [];
  const doc = new SyncDocument(
    'cart',
    memoryStorage(),
    {
      send: (_namespace, pending) => sent.push(pending.client_op_id),
      resubscribe: (_namespace, since) => resubscribed.push(since),
      awaited: () => {},
    },
    { now: () => 0, schedule: (callback, ms) => setTimeout(callback, ms) },
    () => 'dev',
  );
  await doc.load('key');
  doc.receive({ type: 'snapshot', namespace: 'cart', seq: 5, document: { n: 1 } });
  return { doc, sent, resubscribed };
}

const inc = { op: 'increment', path: ['n'], value: 1 } as const;
const op = (seq: number, prev: number, id = `other-${seq}`) =>
  ({
    type: 'op',
    namespace: 'cart',
    seq,
    prev_seq: prev,
    client_op_id: id,
    device_id: 'd',
    operation: inc,
  }) as const;

describe('SyncDocument', () => {
  it('ignores an operation delivered twice', async () => {
    const { doc } = await document();
    doc.receive(op(6, 5));
    doc.receive(op(6, 5));
    expect(doc.value.get()).toEqual({ n: 2 });
    expect(doc.status.get().seq).toBe(6);
  });

  it('asks for a catch-up when an operation of the namespace was missed, and applies nothing', async () => {
    const { doc, resubscribed } = await document();
    doc.receive(op(8, 7));
    expect(resubscribed).toEqual([5]);
    expect(doc.value.get()).toEqual({ n: 1 });
  });

  it('rebases local edits over remote ones and drops each when the server confirms it', async () => {
    const { doc, sent } = await document();
    const mine = doc.apply({ op: 'set', path: ['note'], value: 'mine' });
    expect(sent).toEqual([mine]);
    doc.receive(op(6, 5));
    expect(doc.value.get()).toEqual({ n: 2, note: 'mine' });
    doc.receive({ ...op(7, 6, mine), operation: { op: 'set', path: ['note'], value: 'mine' } });
    expect(doc.pending).toEqual([]);
    doc.receive({ type: 'ack', namespace: 'cart', client_op_id: mine, status: 'applied', seq: 7 });
    expect(doc.value.get()).toEqual({ n: 2, note: 'mine' });
  });

  it('drops a refused operation and says why; keeps a rate-limited one to send again', async () => {
    const { doc, sent } = await document();
    const refused = doc.apply({ op: 'set', path: ['big'], value: 'x' });
    doc.receive({
      type: 'error',
      error: 'state_too_large',
      message: 'too big',
      namespace: 'cart',
      client_op_id: refused,
    });
    expect(doc.pending).toEqual([]);
    expect(doc.value.get()).toEqual({ n: 1 });
    expect(doc.status.get().rejected).toMatchObject({ client_op_id: refused, error: 'state_too_large' });
    const limited = doc.apply(inc);
    doc.receive({
      type: 'error',
      error: 'rate_limited',
      message: 'slow down',
      namespace: 'cart',
      client_op_id: limited,
      retry_after_ms: 20,
    });
    expect(doc.pending.map((p) => p.client_op_id)).toEqual([limited]);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(sent.filter((id) => id === limited)).toHaveLength(2);
  });

  it('asks again for a refused subscription when the server says it may', async () => {
    const { doc, resubscribed } = await document();
    doc.receive({
      type: 'error',
      error: 'rate_limited',
      message: 'slow down',
      namespace: 'cart',
      retry_after_ms: 20,
    });
    expect(resubscribed).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(resubscribed).toEqual([5]);
  });

  it('treats a duplicate ack beyond its log as missed operations', async () => {
    const { doc, resubscribed } = await document();
    const mine = doc.apply(inc);
    doc.receive({ type: 'ack', namespace: 'cart', client_op_id: mine, status: 'duplicate', seq: 9 });
    expect(resubscribed).toEqual([5]);
    expect(doc.pending).toHaveLength(1);
  });
});
