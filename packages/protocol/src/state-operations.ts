/**
 * Operations on per-user state documents (`cart`, `follows`, `live`, …), applied the same way by
 * the server (authoritative, in sequence order) and by clients (optimistically, then rebased).
 * Operations merge rather than overwrite where they can: `increment` adds, `add`/`remove` treat
 * arrays as sets, so concurrent edits of one cart line or one follow list both survive.
 */

export type JSONValue = null | boolean | number | string | JSONValue[] | { [key: string]: JSONValue };
export type JSONObject = { [key: string]: JSONValue };

/** Object keys from the document root; arrays are values (sets), never traversed. */
export type StatePath = readonly string[];

export type StateOperation =
  | { op: 'set'; path: StatePath; value: JSONValue }
  | { op: 'delete'; path: StatePath }
  | { op: 'increment'; path: StatePath; value: number }
  | { op: 'add'; path: StatePath; value: JSONValue }
  | { op: 'remove'; path: StatePath; value: JSONValue };

export const STATE_OPERATION_NAMES = ['set', 'delete', 'increment', 'add', 'remove'] as const;

export const STATE_LIMITS = Object.freeze({
  pathDepth: 16,
  keyLength: 128,
  valueDepth: 32,
});

/** An operation that is malformed, or that does not fit the document it is applied to. */
export class StateOperationError extends Error {
  override readonly name = 'StateOperationError';
  readonly code = 'invalid_operation';
}

// Keys that would reach Object.prototype through a careless consumer of the document.
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Checks untrusted input and returns it as a typed operation; throws StateOperationError. */
export function parseStateOperation(input: unknown): StateOperation {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    fail('an operation must be an object');
  const { op, path, value } = input as { op?: unknown; path?: unknown; value?: unknown };
  if (typeof op !== 'string' || !(STATE_OPERATION_NAMES as readonly string[]).includes(op)) {
    fail(`op must be one of ${STATE_OPERATION_NAMES.join(', ')}`);
  }
  const checkedPath = parsePath(path);
  if (op === 'delete') return { op, path: checkedPath };
  if (op === 'increment') {
    if (typeof value !== 'number' || !Number.isFinite(value)) fail('increment needs a finite number');
    return { op, path: checkedPath, value };
  }
  checkValue(value, 0);
  return { op: op as 'set' | 'add' | 'remove', path: checkedPath, value: value as JSONValue };
}

/** The document after `operation`; the input is never modified. Throws StateOperationError on a type clash. */
export function applyStateOperation(document: JSONObject, operation: StateOperation): JSONObject {
  const { path } = operation;
  const key = path[path.length - 1]!;
  return updateAt(document, path.slice(0, -1), (parent) => {
    const current = Object.hasOwn(parent, key) ? parent[key] : undefined;
    switch (operation.op) {
      case 'set':
        return { ...parent, [key]: operation.value };
      case 'delete': {
        if (current === undefined) return parent;
        const { [key]: _removed, ...rest } = parent;
        return rest;
      }
      case 'increment': {
        if (current !== undefined && typeof current !== 'number')
          fail(`cannot increment a ${kindOf(current)}`);
        return { ...parent, [key]: (current ?? 0) + operation.value };
      }
      case 'add': {
        if (current !== undefined && !Array.isArray(current)) fail(`cannot add to a ${kindOf(current)}`);
        const set = current ?? [];
        const wanted = canonical(operation.value);
        return set.some((item) => canonical(item) === wanted)
          ? parent
          : { ...parent, [key]: [...set, operation.value] };
      }
      case 'remove': {
        if (current === undefined) return parent;
        if (!Array.isArray(current)) fail(`cannot remove from a ${kindOf(current)}`);
        const unwanted = canonical(operation.value);
        return { ...parent, [key]: current.filter((item) => canonical(item) !== unwanted) };
      }
    }
  });
}

/** The value at `path`, or undefined. */
export function readState(document: JSONObject, path: StatePath): JSONValue | undefined {
  let node: JSONValue | undefined = document;
  for (const key of path) {
    if (!isObject(node) || !Object.hasOwn(node, key)) return undefined;
    node = node[key];
  }
  return node;
}

/** Size of the document as stored and sent (UTF-8 JSON bytes): what document limits count. */
export function stateDocumentSize(document: JSONObject): number {
  return utf8Length(JSON.stringify(document));
}

/** UTF-8 byte length without TextEncoder: this package assumes no platform globals. */
function utf8Length(text: string): number {
  let bytes = 0;
  for (const char of text) {
    const code = char.codePointAt(0)!;
    bytes += code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
  }
  return bytes;
}

/** JSON with sorted keys: equal values give equal strings, whatever their key order. */
export function canonical(value: JSONValue): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (isObject(value)) {
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical(value[key]!)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

function updateAt(node: JSONObject, path: StatePath, change: (parent: JSONObject) => JSONObject): JSONObject {
  if (path.length === 0) return change(node);
  const [head, ...rest] = path as [string, ...string[]];
  const child = Object.hasOwn(node, head) ? node[head] : undefined;
  // Intermediate objects are created as needed; a non-object in the way is a type clash.
  if (child !== undefined && !isObject(child)) fail(`${head} is a ${kindOf(child)}, not an object`);
  const updated = updateAt(child ?? {}, rest, change);
  return updated === child ? node : { ...node, [head]: updated };
}

function parsePath(path: unknown): StatePath {
  if (!Array.isArray(path) || path.length === 0 || path.length > STATE_LIMITS.pathDepth) {
    fail(`path must be 1 to ${STATE_LIMITS.pathDepth} keys`);
  }
  for (const key of path) {
    if (typeof key !== 'string' || key.length === 0 || key.length > STATE_LIMITS.keyLength) {
      fail(`path keys must be strings of 1 to ${STATE_LIMITS.keyLength} characters`);
    }
    if (FORBIDDEN_KEYS.has(key)) fail(`path key ${key} is not allowed`);
  }
  return path as string[];
}

function checkValue(value: unknown, depth: number): void {
  if (depth > STATE_LIMITS.valueDepth) fail(`values nest at most ${STATE_LIMITS.valueDepth} deep`);
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) fail('numbers must be finite');
    return;
  }
  if (Array.isArray(value)) {
    for (const item of value) checkValue(item, depth + 1);
    return;
  }
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const [key, item] of Object.entries(value)) {
      if (FORBIDDEN_KEYS.has(key)) fail(`key ${key} is not allowed`);
      checkValue(item, depth + 1);
    }
    return;
  }
  fail('value must be JSON');
}

function isObject(value: JSONValue | undefined): value is JSONObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function kindOf(value: JSONValue): string {
  return Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
}

function fail(message: string): never {
  throw new StateOperationError(message);
}
