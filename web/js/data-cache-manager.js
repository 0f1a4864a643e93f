// Keeps the last device list in localStorage so the next visit paints at once, and tells
// whether a fresh list changes the page structure (devices added, removed or re-kinded).

import { STORAGE_KEYS } from './constants.js';

export class DataCacheManager {
  #storage;
  #key;

  constructor({ storage = globalThis.localStorage, key = STORAGE_KEYS.DEVICES } = {}) {
    this.#storage = storage;
    this.#key = key;
  }

  load() {
    try {
      const text = this.#storage?.getItem(this.#key);
      if (!text) return null;
      const cached = JSON.parse(text);
      return Array.isArray(cached?.devices) ? cached.devices : null;
    } catch {
      return null;
    }
  }

  save(devices) {
    try {
      this.#storage?.setItem(this.#key, JSON.stringify({ savedAt: Date.now(), devices }));
    } catch {
      // A full or disabled localStorage only costs the instant first paint.
    }
  }

  clear() {
    this.#storage?.removeItem(this.#key);
  }

  /**
   * Compares two device lists by uid, kind and the fields that decide a tile's layout.
   * Returns `{ added, removed, changed, structural }`; attribute values never count.
   */
  static diff(previous, next) {
    const before = new Map((previous ?? []).map((device) => [device.uid, device]));
    const after = new Map((next ?? []).map((device) => [device.uid, device]));
    const added = [];
    const removed = [];
    const changed = [];
    for (const uid of after.keys()) {
      if (!before.has(uid)) added.push(uid);
      else if (layoutKey(before.get(uid)) !== layoutKey(after.get(uid))) changed.push(uid);
    }
    for (const uid of before.keys()) {
      if (!after.has(uid)) removed.push(uid);
    }
    const afterOrder = [...after.keys()];
    const orderChanged =
      added.length === 0 &&
      removed.length === 0 &&
      [...before.keys()].some((uid, index) => afterOrder[index] !== uid);
    return {
      added,
      removed,
      changed,
      structural: added.length + removed.length + changed.length > 0 || orderChanged,
    };
  }
}

function layoutKey(device) {
  return JSON.stringify([
    device.kind,
    device.sensorType ?? null,
    device.label,
    device.room ?? null,
    device.hasPowerMeter ?? false,
    device.hueScale ?? null,
    device.fanSpeeds ?? null,
    [...(device.commands ?? [])].sort(),
    Object.keys(device.attributes ?? {}).sort(),
  ]);
}
