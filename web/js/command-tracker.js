// Optimistic device commands: the tile shows the expected value at once, the hub's event
// confirms it, and the old value comes back when the hub rejects the command or no event
// arrives within the confirmation timeout.

import { API } from './constants.js';
import { humanize } from './format.js';

export class CommandTracker {
  #api;
  #state;
  #ui;
  #timeoutMs;
  #pending = new Map();

  constructor({ api, state, ui, timeoutMs = 10000 }) {
    this.#api = api;
    this.#state = state;
    this.#ui = ui;
    this.#timeoutMs = timeoutMs;
  }

  set timeoutMs(value) {
    this.#timeoutMs = value;
  }

  get pendingCount() {
    return this.#pending.size;
  }

  /** Returns true when the hub accepted the command. */
  async send(uid, command, args = [], optimistic = {}) {
    const entries = Object.entries(optimistic);
    for (const [name, value] of entries) this.#expect(uid, name, value);
    let reply;
    try {
      reply = await this.#api.post(
        API.DEVICE_COMMAND(uid),
        { command, args },
        { key: `${uid}\u0000${command}` },
      );
    } catch (err) {
      for (const [name] of entries) this.#rollback(uid, name);
      this.#ui.toast(`${this.#label(uid)}: ${humanize(command)} failed. ${err.message}`, 'error');
      return false;
    }
    // A newer command of the same name replaced this one in the queue and owns the entries.
    if (reply?.superseded) return false;
    for (const [name] of entries) this.#arm(uid, name);
    return true;
  }

  /** Called for every device event; an event for a pending attribute confirms it. */
  confirm(uid, name) {
    const key = pendingKey(uid, name);
    const entry = this.#pending.get(key);
    if (!entry) return;
    clearTimeout(entry.timer);
    this.#pending.delete(key);
  }

  async setMode(hubId, modeId) {
    try {
      await this.#api.post(API.SET_MODE(hubId, modeId), {});
    } catch (err) {
      this.#ui.toast(`Mode change failed. ${err.message}`, 'error');
    }
  }

  async setHsm(hubId, action) {
    try {
      await this.#api.post(API.HSM_ACTION(hubId, action), {});
    } catch (err) {
      this.#ui.toast(`${humanize(action)} failed. ${err.message}`, 'error');
    }
  }

  clear() {
    for (const entry of this.#pending.values()) clearTimeout(entry.timer);
    this.#pending.clear();
  }

  #expect(uid, name, value) {
    const key = pendingKey(uid, name);
    const existing = this.#pending.get(key);
    if (existing) clearTimeout(existing.timer);
    const previous = this.#state.updateAttribute(uid, name, { value, raw: String(value) });
    if (previous === undefined) return;
    // The value to restore is the one before the first unconfirmed change.
    this.#pending.set(key, { previous: existing ? existing.previous : previous, timer: null });
  }

  #arm(uid, name) {
    const key = pendingKey(uid, name);
    const entry = this.#pending.get(key);
    if (!entry) return;
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => {
      if (this.#pending.get(key) !== entry) return;
      this.#rollback(uid, name);
      this.#ui.toast(`${this.#label(uid)} did not confirm the change to ${humanize(name).toLowerCase()}.`, 'warn');
    }, this.#timeoutMs);
  }

  #rollback(uid, name) {
    const key = pendingKey(uid, name);
    const entry = this.#pending.get(key);
    if (!entry) return;
    clearTimeout(entry.timer);
    this.#pending.delete(key);
    const previous = entry.previous ?? { value: null, raw: null, unit: null };
    this.#state.updateAttribute(uid, name, previous);
  }

  #label(uid) {
    const device = this.#state.get(uid);
    return device?.label || device?.name || uid;
  }
}

function pendingKey(uid, name) {
  return `${uid}\u0000${name}`;
}
