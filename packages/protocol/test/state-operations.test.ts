import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  applyStateOperation,
  canonical,
  type JSONObject,
  type JSONValue,
  parseStateOperation,
  readState,
  type StateOperation,
  StateOperationError,
  stateDocumentSize,
} from '../src/state-operations.js';

const key = fc.constantFrom('items', 'sku-1', 'sku-2', 'qty', 'follows', 'live', 'note');
const path = fc.array(key, { minLength: 1, maxLength: 3 });
const scalar: fc.Arbitrary<JSONValue> = fc.oneof(
  fc.integer({ min: -5, max: 5 }),
  fc.constantFrom('a', 'b', 'c'),
  fc.boolean(),
  fc.constant(null),
);
const value: fc.Arbitrary<JSONValue> = fc.oneof(
  scalar,
  fc.array(scalar, { maxLength: 3 }),
  fc.dictionary(key, scalar, { maxKeys: 2 }),
);
const anyOperation: fc.Arbitrary<StateOperation> = fc.oneof(
  fc.record({ op: fc.constant('set' as const), path, value }),
  fc.record({ op: fc.constant('delete' as const), path }),
  fc.record({ op: fc.constant('increment' as const), path, value: fc.integer({ min: -10, max: 10 }) }),
  fc.record({ op: fc.constant('add' as const), path, value: scalar }),
  fc.record({ op: fc.constant('remove' as const), path, value: scalar }),
);

/** Applies operations in order, skipping those that clash with the document (as the server rejects them). */
function applyAll(document: JSONObject, operations: StateOperation[]): JSONObject {
  return operations.reduce((doc, operation) => {
    try {
      return applyStateOperation(doc, operation);
    } catch (error) {
      if (error instanceof StateOperationError) return doc;
      throw error;
    }
  }, document);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** Arrays compared as sets: what add/remove promise. */
function asSets(value: JSONValue | undefined): unknown {
  if (Array.isArray(value)) return value.map((item) => canonical(item)).sort();
  if (typeof value === 'object' && value !== null)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, asSets(v)]));
  return value;
}

describe('state operations', () => {
  it('never modify the document they are applied to', () => {
    fc.assert(
      fc.property(fc.array(anyOperation, { maxLength: 20 }), anyOperation, (history, operation) => {
        const document = deepFreeze(applyAll({}, history));
        const before = canonical(document);
        applyAll(document, [operation]);
        expect(canonical(document)).toBe(before);
      }),
    );
  });

  it('increments of counters commute: concurrent quantity changes all count, in any order', () => {
    // Counters live at paths none of which is a prefix of another (a cart's quantities). Where
    // one path is a prefix of another, the two clash by type; fast-check found that case.
    const counter = fc.constantFrom(
      ['items', 'sku-1', 'qty'],
      ['items', 'sku-2', 'qty'],
      ['live', 'viewers'],
    );
    const increments = fc.array(
      fc.record({
        op: fc.constant('increment' as const),
        path: counter,
        value: fc.integer({ min: -9, max: 9 }),
      }),
      { maxLength: 12 },
    );
    fc.assert(
      fc.property(
        increments.chain((ops) =>
          fc.tuple(fc.constant(ops), fc.shuffledSubarray(ops, { minLength: ops.length })),
        ),
        ([ops, shuffled]) => {
          expect(canonical(applyAll({}, shuffled))).toBe(canonical(applyAll({}, ops)));
        },
      ),
    );
  });

  it('adds and removes of different values commute as sets: concurrent follows all survive', () => {
    const setOps = fc.array(
      fc.oneof(
        fc.record({ op: fc.constant('add' as const), path: fc.constant(['follows']), value: scalar }),
        fc.record({ op: fc.constant('remove' as const), path: fc.constant(['follows']), value: scalar }),
      ),
      { maxLength: 12 },
    );
    fc.assert(
      fc.property(setOps, setOps, (mine, theirs) => {
        // Two devices edit disjoint values: mine touches only what theirs does not.
        const theirValues = new Set(theirs.map((op) => canonical(op.value)));
        const disjoint = mine.filter((op) => !theirValues.has(canonical(op.value)));
        const oneWay = applyAll(applyAll({}, disjoint), theirs);
        const otherWay = applyAll(applyAll({}, theirs), disjoint);
        expect(asSets(oneWay)).toEqual(asSets(otherWay));
      }),
    );
  });

  it('set then read gives the value; delete then read gives nothing', () => {
    fc.assert(
      fc.property(fc.array(anyOperation, { maxLength: 10 }), path, value, (history, where, what) => {
        const base = applyAll({}, history);
        let updated: JSONObject;
        try {
          updated = applyStateOperation(base, { op: 'set', path: where, value: what });
        } catch (error) {
          // Only a non-object in the way may refuse a set.
          expect(error).toBeInstanceOf(StateOperationError);
          return;
        }
        expect(readState(updated, where)).toEqual(what);
        expect(readState(applyStateOperation(updated, { op: 'delete', path: where }), where)).toBeUndefined();
      }),
    );
  });

  it('add is idempotent and remove takes the value out', () => {
    let doc = applyStateOperation({}, { op: 'add', path: ['follows'], value: 'creator-1' });
    doc = applyStateOperation(doc, { op: 'add', path: ['follows'], value: 'creator-1' });
    doc = applyStateOperation(doc, { op: 'add', path: ['follows'], value: { id: 2, b: 1 } });
    doc = applyStateOperation(doc, { op: 'add', path: ['follows'], value: { b: 1, id: 2 } });
    expect(doc).toEqual({ follows: ['creator-1', { id: 2, b: 1 }] });
    doc = applyStateOperation(doc, { op: 'remove', path: ['follows'], value: 'creator-1' });
    expect(doc).toEqual({ follows: [{ id: 2, b: 1 }] });
    expect(applyStateOperation(doc, { op: 'remove', path: ['nothing'], value: 1 })).toBe(doc);
  });

  it('refuses operations that clash with the document', () => {
    const doc: JSONObject = { name: 'x', items: ['a'], count: 1 };
    expect(() => applyStateOperation(doc, { op: 'increment', path: ['name'], value: 1 })).toThrow(
      /cannot increment a string/,
    );
    expect(() => applyStateOperation(doc, { op: 'add', path: ['count'], value: 1 })).toThrow(
      /cannot add to a number/,
    );
    expect(() => applyStateOperation(doc, { op: 'remove', path: ['name'], value: 1 })).toThrow(
      /cannot remove from a string/,
    );
    expect(() => applyStateOperation(doc, { op: 'set', path: ['items', 'x'], value: 1 })).toThrow(
      /items is a array, not an object/,
    );
  });

  it('parses untrusted input and refuses what is not an operation', () => {
    expect(parseStateOperation({ op: 'increment', path: ['items', 'sku-1', 'qty'], value: 2 })).toEqual({
      op: 'increment',
      path: ['items', 'sku-1', 'qty'],
      value: 2,
    });
    const refusals: Array<[unknown, RegExp]> = [
      [null, /must be an object/],
      [[], /must be an object/],
      [{ op: 'merge', path: ['a'] }, /op must be one of/],
      [{ op: 'set', path: [], value: 1 }, /path must be 1 to 16/],
      [{ op: 'set', path: Array(17).fill('a'), value: 1 }, /path must be 1 to 16/],
      [{ op: 'set', path: [1], value: 1 }, /path keys must be strings/],
      [{ op: 'set', path: [''], value: 1 }, /path keys must be strings/],
      [{ op: 'set', path: ['__proto__'], value: 1 }, /not allowed/],
      [{ op: 'set', path: ['a', 'constructor'], value: 1 }, /not allowed/],
      [{ op: 'set', path: ['a'], value: JSON.parse('{"__proto__":{"admin":true}}') }, /not allowed/],
      [{ op: 'increment', path: ['a'], value: Number.NaN }, /finite number/],
      [{ op: 'increment', path: ['a'], value: '1' }, /finite number/],
      [{ op: 'set', path: ['a'], value: undefined }, /must be JSON/],
      [{ op: 'set', path: ['a'], value: new Date() }, /must be JSON/],
      [{ op: 'set', path: ['a'], value: Number.POSITIVE_INFINITY }, /finite/],
      [{ op: 'set', path: ['a'], value: JSON.parse('['.repeat(40) + ']'.repeat(40)) }, /nest at most/],
    ];
    for (const [input, message] of refusals) {
      expect(() => parseStateOperation(input)).toThrow(message);
      expect(() => parseStateOperation(input)).toThrow(StateOperationError);
    }
  });

  it('measures documents in UTF-8 bytes', () => {
    expect(stateDocumentSize({})).toBe(2);
    expect(stateDocumentSize({ a: 'é' })).toBe(JSON.stringify({ a: 'é' }).length + 1);
    expect(stateDocumentSize({ a: '😀' })).toBe(Buffer.byteLength(JSON.stringify({ a: '😀' })));
  });
});
