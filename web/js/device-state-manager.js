// The browser's copy of live device state: one record per uid, listeners per uid.

export class DeviceStateManager {
  #devices = new Map();
  #listeners = new Map();
  #hubs = new Map();
  #hubListeners = new Set();

  get size() {
    return this.#devices.size;
  }

  get(uid) {
    return this.#devices.get(uid) ?? null;
  }

  all() {
    return [...this.#devices.values()];
  }

  /** Registers `callback(device, attributeName)`; returns the function that removes it. */
  subscribe(uid, callback) {
    let set = this.#listeners.get(uid);
    if (!set) {
      set = new Set();
      this.#listeners.set(uid, set);
    }
    set.add(callback);
    return () => {
      set.delete(callback);
      if (set.size === 0 && this.#listeners.get(uid) === set) this.#listeners.delete(uid);
    };
  }

  listenerCount() {
    let count = 0;
    for (const set of this.#listeners.values()) count += set.size;
    return count;
  }

  /** Replaces every device; listeners of devices whose state changed are notified. */
  replaceAll(devices) {
    const next = new Map();
    for (const device of devices) {
      if (device && typeof device.uid === 'string') next.set(device.uid, device);
    }
    const previous = this.#devices;
    this.#devices = next;
    for (const [uid, device] of next) {
      const old = previous.get(uid);
      if (!old || !sameState(old, device)) this.#notify(uid, device, null);
    }
  }

  /**
   * Sets one attribute and notifies the device's listeners. Returns the previous attribute
   * (or undefined when the device is unknown), so an optimistic change can be rolled back.
   */
  updateAttribute(uid, name, attribute, { ts = null } = {}) {
    const device = this.#devices.get(uid);
    if (!device || typeof name !== 'string') return undefined;
    if (!device.attributes || typeof device.attributes !== 'object') device.attributes = {};
    const previous = device.attributes[name] ?? null;
    device.attributes[name] = {
      value: attribute.value ?? null,
      raw: attribute.raw ?? attribute.value ?? null,
      unit: attribute.unit ?? previous?.unit ?? null,
    };
    if (ts) device.lastActivity = ts;
    this.#notify(uid, device, name);
    return previous;
  }

  /** Notifies every listener, e.g. after a display setting such as the unit changed. */
  notifyAll() {
    for (const [uid, device] of this.#devices) this.#notify(uid, device, null);
  }

  setOnline(uid, online) {
    const device = this.#devices.get(uid);
    if (!device || device.online === online) return;
    device.online = online;
    this.#notify(uid, device, null);
  }

  hub(hubId) {
    return this.#hubs.get(hubId) ?? null;
  }

  hubs() {
    return [...this.#hubs.values()];
  }

  /** Stores a hub status; tiles of a hub that went offline or came back are notified. */
  updateHub(status) {
    if (!status || typeof status.hubId !== 'string') return;
    const previous = this.#hubs.get(status.hubId);
    this.#hubs.set(status.hubId, { ...previous, ...status });
    const online = status.state !== 'offline';
    for (const device of this.#devices.values()) {
      // A device with a Hub Mesh twin stays reachable through the twin's hub.
      const hasTwin = Array.isArray(device.twins) && device.twins.length > 0;
      if (device.hubId === status.hubId && (online || !hasTwin)) this.setOnline(device.uid, online);
    }
    for (const callback of [...this.#hubListeners]) callback(this.#hubs.get(status.hubId));
  }

  subscribeHubs(callback) {
    this.#hubListeners.add(callback);
    return () => this.#hubListeners.delete(callback);
  }

  #notify(uid, device, name) {
    const set = this.#listeners.get(uid);
    if (!set) return;
    for (const callback of [...set]) {
      try {
        callback(device, name);
      } catch (err) {
        console.error(`tile update for ${uid} failed`, err);
      }
    }
  }
}

function sameState(a, b) {
  if (a.online !== b.online || a.label !== b.label) return false;
  const left = a.attributes ?? {};
  const right = b.attributes ?? {};
  const names = Object.keys(left);
  if (names.length !== Object.keys(right).length) return false;
  for (const name of names) {
    if (!right[name] || left[name]?.value !== right[name].value) return false;
    if (left[name]?.raw !== right[name].raw) return false;
  }
  return true;
}
