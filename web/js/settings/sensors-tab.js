// Settings → Sensors: the temperature unit and which temperature sensors count as indoor
// and outdoor (the user's device selections).

import { el } from '../dom.js';
import { SETTINGS_API, button, field, showStatus } from './common.js';

const KINDS = [
  ['temperature_indoor', 'Indoor'],
  ['temperature_outdoor', 'Outdoor'],
];

export class SensorsTab {
  #container;
  #api;
  #preferences;
  #listeners = null;
  #generation = 0;
  #onSaved;

  constructor(container, { api, preferences, onSaved = null }) {
    this.#container = container;
    this.#api = api;
    this.#preferences = preferences;
    this.#onSaved = onSaved;
  }

  async render() {
    this.destroy();
    this.#listeners = new AbortController();
    const generation = ++this.#generation;
    const signal = this.#listeners.signal;
    const status = el('p', { className: 'settings-status', attrs: { role: 'status', hidden: true } });
    const unit = el('select', { attrs: { name: 'temperatureUnit' } }, [
      el('option', { text: 'Hub default', attrs: { value: '' } }),
      el('option', { text: '°F', attrs: { value: 'F' } }),
      el('option', { text: '°C', attrs: { value: 'C' } }),
    ]);
    unit.value = this.#preferences?.get('appearance', 'temperatureUnit', '') ?? '';
    unit.addEventListener('change', () => {
      if (unit.value) this.#preferences?.set('appearance', 'temperatureUnit', unit.value);
      else this.#preferences?.delete('appearance', 'temperatureUnit');
    }, { signal });
    const table = el('tbody');
    this.#container.replaceChildren(el('section', { className: 'settings-section' }, [
      el('h3', { text: 'Sensors' }),
      field('Temperature unit', unit),
      el('h4', { text: 'Which sensors count as indoor and outdoor' }),
      el('p', {
        className: 'settings-hint',
        text: 'The indoor average on the home page uses the sensors ticked as indoor. With none ticked, it uses every temperature sensor except thermostats and outdoor sensors. With no outdoor sensor ticked, the sensors the hub driver reports as outdoor count as outdoor.',
      }),
      el('table', { className: 'settings-table' }, [
        el('thead', {}, [el('tr', {}, [el('th', { text: 'Sensor' }), el('th', { text: 'Indoor' }), el('th', { text: 'Outdoor' })])]),
        table,
      ]),
      status,
      button('Save sensors', () => this.#save(table, status), { primary: true, signal }),
    ]));
    try {
      const [devices, selections] = await Promise.all([
        this.#api.get(SETTINGS_API.DEVICES),
        this.#api.get(SETTINGS_API.SELECTIONS),
      ]);
      if (generation !== this.#generation) return;
      const chosen = Object.fromEntries(KINDS.map(([type]) => [type, new Set((selections.selections?.[type] ?? []).map((item) => item.uid))]));
      const sensors = (devices.devices ?? []).filter((device) => 'temperature' in (device.attributes ?? {}));
      // Without a stored selection the boxes show the automatic choice described above.
      if (chosen.temperature_outdoor.size === 0) {
        for (const device of sensors) if (device.outdoor === true) chosen.temperature_outdoor.add(device.uid);
      }
      if (chosen.temperature_indoor.size === 0) {
        for (const device of sensors) {
          if (device.kind !== 'thermostat' && !chosen.temperature_outdoor.has(device.uid)) chosen.temperature_indoor.add(device.uid);
        }
      }
      table.replaceChildren(...sensors.map((device) => el('tr', { attrs: { 'data-uid': device.uid } }, [
        el('td', { text: `${device.label} (${device.hubName})` }),
        ...KINDS.map(([type, label]) => {
          const box = el('input', { attrs: { type: 'checkbox', 'data-type': type, 'aria-label': `${label}: ${device.label}` } });
          box.checked = chosen[type].has(device.uid);
          return el('td', {}, [box]);
        }),
      ])));
    } catch (err) {
      if (generation === this.#generation) showStatus(status, `Loading the sensors failed: ${err.message}`, 'error');
    }
  }

  async #save(table, status) {
    try {
      for (const [type] of KINDS) {
        const items = [...table.querySelectorAll(`input[data-type="${type}"]:checked`)].map((box) => ({ uid: box.closest('tr').dataset.uid }));
        await this.#api.put(SETTINGS_API.SELECTION(type), { items });
      }
      showStatus(status, 'Saved.', 'ok');
      this.#onSaved?.();
    } catch (err) {
      showStatus(status, err.message, 'error');
    }
  }

  destroy() {
    this.#generation += 1;
    this.#listeners?.abort();
    this.#listeners = null;
    this.#container.replaceChildren();
  }
}
