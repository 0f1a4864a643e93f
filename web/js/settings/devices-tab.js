// Settings → Devices: hidden devices (the user's "devices.hidden" preference) and, for
// admins, Hub Mesh twins to split or merge by hand.

import { el } from '../dom.js';
import { SETTINGS_API, button, field, showStatus } from './common.js';

export class DevicesTab {
  #container;
  #api;
  #preferences;
  #isAdmin;
  #listeners = null;
  #generation = 0;

  constructor(container, { api, preferences, isAdmin }) {
    this.#container = container;
    this.#api = api;
    this.#preferences = preferences;
    this.#isAdmin = isAdmin;
  }

  async render() {
    this.destroy();
    this.#listeners = new AbortController();
    const generation = ++this.#generation;
    const hiddenList = el('ul', { className: 'settings-list' });
    const mesh = el('div');
    const hidden = el('section', { className: 'settings-section' }, [el('h3', { text: 'Hidden devices' }), hiddenList]);
    if (this.#isAdmin()) {
      this.#container.replaceChildren(hidden, el('section', { className: 'settings-section' }, [el('h3', { text: 'Hub Mesh twins' }), mesh]));
    } else {
      this.#container.replaceChildren(hidden);
    }
    try {
      const native = await this.#api.get(SETTINGS_API.NATIVE_DEVICES);
      if (generation !== this.#generation) return;
      const devices = Array.isArray(native?.devices) ? native.devices : [];
      this.#paintHidden(hiddenList, devices);
      if (this.#isAdmin()) await this.#paintMesh(mesh, devices, generation);
    } catch (err) {
      if (generation === this.#generation) hiddenList.replaceChildren(el('li', { text: `Loading the devices failed: ${err.message}` }));
    }
  }

  #paintHidden(list, devices) {
    const signal = this.#listeners.signal;
    const hidden = this.#preferences?.get('devices', 'hidden', []) ?? [];
    const byUid = new Map(devices.map((device) => [device.uid, device]));
    const uids = Array.isArray(hidden) ? hidden : [];
    if (!uids.length) {
      list.replaceChildren(el('li', { className: 'settings-hint', text: 'No device is hidden. Hide tiles with the edit button on the dashboard.' }));
      return;
    }
    list.replaceChildren(...uids.map((uid) => el('li', { className: 'row' }, [
      el('span', { text: byUid.get(uid)?.label ?? uid }),
      button('Show again', () => {
        this.#preferences.set('devices', 'hidden', uids.filter((other) => other !== uid));
        this.#paintHidden(list, devices);
      }, { signal }),
    ])));
  }

  async #paintMesh(container, devices, generation) {
    const signal = this.#listeners.signal;
    const reply = await this.#api.get(SETTINGS_API.HUB_MESH);
    if (generation !== this.#generation) return;
    const byUid = new Map(devices.map((device) => [device.uid, device]));
    const name = (uid) => {
      const device = byUid.get(uid);
      return device ? `${device.label} (${device.hubName})` : uid;
    };
    const status = el('p', { className: 'settings-status', attrs: { role: 'status', hidden: true } });
    const act = async (body) => {
      try {
        await this.#api.post(SETTINGS_API.HUB_MESH, body);
        await this.render();
      } catch (err) {
        showStatus(status, err.message, 'error');
      }
    };
    const twins = Object.entries(reply.twins ?? {});
    const overrides = Array.isArray(reply.overrides) ? reply.overrides : [];
    const twinUid = el('select', { attrs: { name: 'twin' } }, devices.map((device) => el('option', { text: name(device.uid), attrs: { value: device.uid } })));
    const sourceUid = el('select', { attrs: { name: 'source' } }, devices.map((device) => el('option', { text: name(device.uid), attrs: { value: device.uid } })));
    // replaceChildren() would insert a null as the text "null".
    const parts = [
      el('ul', { className: 'settings-list' }, twins.length ? twins.map(([twin, source]) => el('li', { className: 'row wrap' }, [
        el('span', { text: `${name(twin)} is a copy of ${name(source)}` }),
        button('Split', () => act({ action: 'split', uid: twin }), { signal }),
      ])) : [el('li', { className: 'settings-hint', text: 'No Hub Mesh twin is paired.' })]),
      overrides.length ? el('h4', { text: 'Your overrides' }) : null,
      el('ul', { className: 'settings-list' }, overrides.map((item) => el('li', { className: 'row wrap' }, [
        el('span', { text: item.action === 'split' ? `${name(item.uid)} kept apart` : `${name(item.uid)} merged into ${name(item.source)}` }),
        button('Undo', () => act({ action: 'clear', uid: item.uid }), { signal }),
      ]))),
      el('h4', { text: 'Merge two devices' }),
      el('div', { className: 'row wrap' }, [
        field('Copy', twinUid),
        field('Source', sourceUid),
        button('Merge', () => act({ action: 'merge', uid: twinUid.value, source: sourceUid.value }), { signal }),
      ]),
      status,
    ];
    container.replaceChildren(...parts.filter(Boolean));
  }

  destroy() {
    this.#generation += 1;
    this.#listeners?.abort();
    this.#listeners = null;
    this.#container.replaceChildren();
  }
}
