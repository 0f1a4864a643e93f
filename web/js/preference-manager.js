// Per-user preferences: reads come from memory; a write lands in memory and localStorage at
// once and reaches the server 500 ms later. Unsent writes are kept in localStorage and
// retried (also after a reload) until the server accepts them.

import {
  API,
  CLIENT_EVENTS,
  PREFERENCE_DEBOUNCE_MS,
  RECONNECT_MAX_MS,
  STORAGE_KEYS,
} from './constants.js';
import { Emitter } from './emitter.js';

const PENDING_SEPARATOR = '\u0000';

export class PreferenceManager extends Emitter {
  #api;
  #storage;
  #values = {};
  #pending = new Map();
  #flushTimer = null;
  #flushing = false;
  #retryMs = PREFERENCE_DEBOUNCE_MS;
  #listeners = new AbortController();
  #clientId = randomClientId();

  constructor(api, { storage = globalThis.localStorage } = {}) {
    super();
    this.#api = api;
    this.#storage = storage;
    this.#values = readJson(storage, STORAGE_KEYS.PREFERENCES) ?? {};
    for (const entry of readJson(storage, STORAGE_KEYS.PENDING_PREFERENCES) ?? []) {
      if (entry && typeof entry.category === 'string' && typeof entry.key === 'string') {
        this.#pending.set(pendingKey(entry.category, entry.key), entry);
      }
    }
    const { signal } = this.#listeners;
    window.addEventListener('online', () => this.flush(), { signal });
    window.addEventListener('pagehide', () => this.flush({ keepalive: true }), { signal });
  }

  /** Sent as X-Client-Id; the server echoes it in `preferences` events of our own writes. */
  get clientId() {
    return this.#clientId;
  }

  get pendingCount() {
    return this.#pending.size;
  }

  /** Fetches the server's copy; local writes that have not reached it yet stay on top. */
  async load() {
    let remote;
    try {
      remote = await this.#api.get(API.PREFERENCES);
    } catch (err) {
      console.warn('preferences could not be loaded, using the local copy', err.message);
      this.#scheduleFlush(0);
      return false;
    }
    if (!remote || typeof remote !== 'object') remote = {};
    await this.#migrateOnce(remote);
    const merged = structuredClone(remote);
    for (const entry of this.#pending.values()) {
      merged[entry.category] ??= {};
      if (entry.op === 'delete') delete merged[entry.category][entry.key];
      else merged[entry.category][entry.key] = entry.value;
    }
    const previous = this.#values;
    this.#values = merged;
    this.#persist();
    for (const [category, key] of changedKeys(previous, merged)) {
      this.emit(CLIENT_EVENTS.CHANGE, { category, key, value: this.get(category, key) });
    }
    this.#scheduleFlush(0);
    return true;
  }

  get(category, key, fallback = undefined) {
    const value = this.#values[category]?.[key];
    return value === undefined ? fallback : value;
  }

  category(category) {
    return { ...(this.#values[category] ?? {}) };
  }

  snapshot() {
    return structuredClone(this.#values);
  }

  set(category, key, value) {
    if (value === undefined) throw new TypeError(`preference ${category}/${key}: value is undefined`);
    this.#values[category] ??= {};
    this.#values[category][key] = value;
    this.#queue({ category, key, op: 'put', value });
  }

  delete(category, key) {
    if (this.#values[category]) delete this.#values[category][key];
    this.#queue({ category, key, op: 'delete' });
  }

  /** Applies a change made in another tab, unless this tab has its own unsent write. */
  applyRemote({ category, key, value, deleted = false, clientId = null } = {}) {
    if (typeof category !== 'string' || typeof key !== 'string') return;
    if (clientId === this.#clientId) return;
    if (this.#pending.has(pendingKey(category, key))) return;
    const current = this.#values[category]?.[key];
    if (deleted || value === null || value === undefined) {
      if (current === undefined) return;
      delete this.#values[category][key];
    } else {
      if (JSON.stringify(current) === JSON.stringify(value)) return;
      this.#values[category] ??= {};
      this.#values[category][key] = value;
    }
    this.#persist();
    this.emit(CLIENT_EVENTS.CHANGE, { category, key, value: this.get(category, key) });
  }

  /** Sends every pending write now. */
  async flush({ keepalive = false } = {}) {
    if (this.#flushTimer !== null) clearTimeout(this.#flushTimer);
    this.#flushTimer = null;
    if (this.#flushing || this.#pending.size === 0) return;
    this.#flushing = true;
    const headers = { 'X-Client-Id': this.#clientId };
    let failed = false;
    try {
      for (const [id, entry] of [...this.#pending]) {
        try {
          if (entry.op === 'delete') {
            await this.#api.delete(API.PREFERENCE(entry.category, entry.key), {
              keepalive,
              headers,
              allowStatus: [404],
            });
          } else {
            await this.#api.put(
              API.PREFERENCE(entry.category, entry.key),
              { value: entry.value },
              { keepalive, headers },
            );
          }
          if (this.#pending.get(id) === entry) this.#pending.delete(id);
        } catch (err) {
          // A 4xx other than 408/429 will not succeed on retry: the value is kept locally.
          if (err.status >= 400 && err.status < 500 && ![401, 404, 408, 429].includes(err.status)) {
            console.warn(`preference ${entry.category}/${entry.key} rejected: ${err.message}`);
            if (this.#pending.get(id) === entry) this.#pending.delete(id);
            continue;
          }
          failed = true;
          break;
        }
      }
    } finally {
      this.#flushing = false;
      this.#persistPending();
    }
    if (failed) {
      this.#retryMs = Math.min(RECONNECT_MAX_MS, this.#retryMs * 2);
      this.#scheduleFlush(this.#retryMs);
    } else {
      this.#retryMs = PREFERENCE_DEBOUNCE_MS;
      if (this.#pending.size > 0) this.#scheduleFlush(PREFERENCE_DEBOUNCE_MS);
    }
  }

  close() {
    if (this.#flushTimer !== null) clearTimeout(this.#flushTimer);
    this.#flushTimer = null;
    this.#listeners.abort();
    this.clear();
  }

  #queue(entry) {
    this.#pending.set(pendingKey(entry.category, entry.key), entry);
    this.#persist();
    this.#persistPending();
    this.emit(CLIENT_EVENTS.CHANGE, {
      category: entry.category,
      key: entry.key,
      value: this.get(entry.category, entry.key),
    });
    this.#scheduleFlush(PREFERENCE_DEBOUNCE_MS);
  }

  #scheduleFlush(delayMs) {
    if (this.#pending.size === 0) return;
    if (this.#flushTimer !== null) clearTimeout(this.#flushTimer);
    this.#flushTimer = setTimeout(() => {
      this.#flushTimer = null;
      this.flush();
    }, delayMs);
  }

  /**
   * Imports this browser's localStorage copy once. The server keeps values it already has,
   * so `remote` gains only the keys it lacked.
   */
  async #migrateOnce(remote) {
    if (this.#storage?.getItem(STORAGE_KEYS.MIGRATED)) return;
    const local = this.#values;
    try {
      if (Object.keys(local).length > 0) {
        await this.#api.post(API.PREFERENCES_MIGRATE, { preferences: local });
        for (const [category, entries] of Object.entries(local)) {
          remote[category] = { ...entries, ...(remote[category] ?? {}) };
        }
      }
      this.#storage?.setItem(STORAGE_KEYS.MIGRATED, String(Date.now()));
    } catch (err) {
      console.warn('preference import failed, will retry on the next load', err.message);
    }
  }

  #persist() {
    writeJson(this.#storage, STORAGE_KEYS.PREFERENCES, this.#values);
  }

  #persistPending() {
    writeJson(this.#storage, STORAGE_KEYS.PENDING_PREFERENCES, [...this.#pending.values()]);
  }
}

function randomClientId() {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return `tab-${[...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join('')}`;
}

function pendingKey(category, key) {
  return `${category}${PENDING_SEPARATOR}${key}`;
}

function* changedKeys(before, after) {
  const categories = new Set([...Object.keys(before), ...Object.keys(after)]);
  for (const category of categories) {
    const left = before[category] ?? {};
    const right = after[category] ?? {};
    for (const key of new Set([...Object.keys(left), ...Object.keys(right)])) {
      if (JSON.stringify(left[key]) !== JSON.stringify(right[key])) yield [category, key];
    }
  }
}

function readJson(storage, key) {
  try {
    const text = storage?.getItem(key);
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

function writeJson(storage, key, value) {
  try {
    storage?.setItem(key, JSON.stringify(value));
  } catch {
    // Storage full or disabled: the value stays in memory and still goes to the server.
  }
}
