// Optimistic device commands: the tile shows the expected value at once, the hub's event
// confirms it, and the value the hub last reported comes back when the hub rejects the
// command or reports a different value within the confirmation timeout.

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
    const entries = Object.entries(optimistic).filter(([name, value]) =>
      this.#expect(uid, name, value),
    );
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

  /**
   * Records a device event that the state already shows. Hubitat reports each change in the
   * order the commands ran, so an event with a requested value answers that request and every
   * older one. While requests remain, the tile keeps showing the newest requested value.
   */
  confirm(uid, name, attribute) {
    const key = pendingKey(uid, name);
    const entry = this.#pending.get(key);
    if (!entry || !attribute) return;
    entry.reported = { ...attribute };
    const answered = entry.requests.findIndex((value) => sameValue(attribute.value, value));
    if (answered >= 0) entry.requests.splice(0, answered + 1);
    if (entry.requests.length === 0) {
      clearTimeout(entry.timer);
      this.#pending.delete(key);
      return;
    }
    const expected = entry.requests.at(-1);
    this.#state.updateAttribute(uid, name, { value: expected, raw: String(expected) });
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

  /** Shows `value` at once; returns whether a hub event has to confirm it. */
  #expect(uid, name, value) {
    const key = pendingKey(uid, name);
    const existing = this.#pending.get(key);
    if (existing) clearTimeout(existing.timer);
    const previous = this.#state.updateAttribute(uid, name, { value, raw: String(value) });
    if (previous === undefined) return false;
    // Optimistic values are never restored: only the value the hub last reported is.
    const reported = existing ? existing.reported : previous;
    const requests = existing ? existing.requests : [];
    // Hubitat sends no event for a value that does not change, so such a request awaits none.
    const before = requests.length > 0 ? requests.at(-1) : reported?.value;
    if (!sameValue(before, value)) requests.push(value);
    if (requests.length === 0) {
      this.#pending.delete(key);
      return false;
    }
    this.#pending.set(key, { reported, requests, timer: null });
    return true;
  }

  #arm(uid, name) {
    const key = pendingKey(uid, name);
    const entry = this.#pending.get(key);
    if (!entry) return;
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => {
      if (this.#pending.get(key) !== entry) return;
      const expected = entry.requests.at(-1);
      this.#rollback(uid, name);
      // The hub may have skipped the intermediate requests: its last value is the one asked for.
      if (sameValue(entry.reported?.value, expected)) return;
      this.#ui.toast(`${this.#label(uid)} did not confirm the change to ${humanize(name).toLowerCase()}.`, 'warn');
    }, this.#timeoutMs);
  }

  #rollback(uid, name) {
    const key = pendingKey(uid, name);
    const entry = this.#pending.get(key);
    if (!entry) return;
    clearTimeout(entry.timer);
    this.#pending.delete(key);
    const reported = entry.reported ?? { value: null, raw: null, unit: null };
    this.#state.updateAttribute(uid, name, reported);
  }

  #label(uid) {
    const device = this.#state.get(uid);
    return device?.label || device?.name || uid;
  }
}

function pendingKey(uid, name) {
  return `${uid}\u0000${name}`;
}

/** Compares an event value (number or string) with a requested one such as 35 or 'on'. */
function sameValue(reported, requested) {
  return reported !== null && reported !== undefined && String(reported) === String(requested);
}
