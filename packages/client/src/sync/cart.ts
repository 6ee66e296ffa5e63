import type { JSONObject, JSONValue } from '@sessiond/protocol';
import { computed, type ReadableAtom } from 'nanostores';
import type { SyncedDocument } from './sync-document.js';

/** A cart line: the quantity, plus whatever the app keeps with it (title, price, …). */
export interface CartLine {
  qty: number;
  [field: string]: JSONValue;
}

export interface CartDocument extends JSONObject {
  items: { [sku: string]: CartLine };
}

/**
 * A typed cart over a synced document: the example of building on `apply`. Adding uses
 * `increment`, so two devices adding the same item at once both count; setting a quantity is
 * a `set` (last writer wins, which is what a quantity field means).
 */
export interface Cart {
  /** The lines, by SKU, as a nanostores store. */
  readonly items: ReadableAtom<Readonly<Record<string, CartLine>>>;
  addItem(sku: string, qty?: number, details?: Record<string, JSONValue>): void;
  setQuantity(sku: string, qty: number): void;
  removeItem(sku: string): void;
}

export function cart(document: SyncedDocument): Cart {
  const line = (sku: string) => ['items', sku];
  return {
    items: computed(
      document.value,
      (value) => ((value as Partial<CartDocument>).items ?? {}) as Record<string, CartLine>,
    ),
    addItem(sku, qty = 1, details = {}) {
      for (const [field, value] of Object.entries(details)) {
        if (field !== 'qty') document.apply({ op: 'set', path: [...line(sku), field], value });
      }
      document.apply({ op: 'increment', path: [...line(sku), 'qty'], value: qty });
    },
    setQuantity(sku, qty) {
      if (qty <= 0) document.apply({ op: 'delete', path: line(sku) });
      else document.apply({ op: 'set', path: [...line(sku), 'qty'], value: qty });
    },
    removeItem(sku) {
      document.apply({ op: 'delete', path: line(sku) });
    },
  };
}
