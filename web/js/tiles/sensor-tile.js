import { el, setHidden, setText } from '../dom.js';
import { formatPercent, humanize } from '../format.js';
import { BaseTile } from './base-tile.js';

// Values that turn a tile to its alert color, per sensor attribute.
const ALERTS = {
  water: new Set(['wet']),
  contact: new Set(['open']),
  motion: new Set(['active']),
  smoke: new Set(['detected']),
  carbonMonoxide: new Set(['detected']),
  tamper: new Set(['detected']),
};
const ICONS = {
  water: 'drop',
  motion: 'motion',
  contact: 'door',
  presence: 'person',
  temperature: 'thermometer',
  humidity: 'drop',
  illuminance: 'sun',
};
const PRIMARY = {
  water: 'water',
  motion: 'motion',
  contact: 'contact',
  presence: 'presence',
  temperature: 'temperature',
  humidity: 'humidity',
  illuminance: 'illuminance',
};
const SECONDARY = ['temperature', 'humidity', 'illuminance'];

/** Motion, contact, presence, water, temperature, humidity and illuminance sensors. */
export class SensorTile extends BaseTile {
  static icon = 'sensor';

  buildBody(body) {
    this.primaryNode = el('span', { className: 'big-value' });
    this.secondary = new Map();
    const row = el('div', { className: 'row readouts' });
    for (const name of SECONDARY) {
      const node = el('span', { className: `readout ${name}`, attrs: { hidden: true } });
      this.secondary.set(name, node);
      row.append(node);
    }
    body.append(el('div', { className: 'row' }, [this.primaryNode]), row);
    this.setMainIcon(ICONS[this.device.sensorType] ?? 'sensor');
  }

  patch(device) {
    const primary = PRIMARY[device.sensorType] ?? firstPresent(device);
    const value = primary ? this.value(primary) : null;
    const text = this.#format(primary, value);
    setText(this.primaryNode, text);
    const alert = primary && ALERTS[primary]?.has(value);
    let tone = null;
    if (alert) tone = primary === 'motion' ? 'active' : 'alert';
    const away = primary === 'presence' && value === 'not present';
    this.setStatus(primary ? humanize(primary) : '', tone);
    this.root.classList.toggle('is-alert', Boolean(alert) && primary !== 'motion');
    this.root.classList.toggle('is-on', primary === 'motion' ? value === 'active' : !away && primary === 'presence');
    for (const [name, node] of this.secondary) {
      const reading = this.value(name);
      const show = name !== primary && reading !== null && this.has(name);
      setHidden(node, !show);
      if (show) setText(node, this.#format(name, reading));
    }
  }

  #format(name, value) {
    if (value === null || value === undefined) return '--';
    if (name === 'temperature') return this.context.units.format(value, this.unit('temperature'));
    if (name === 'humidity') return typeof value === 'number' ? `${formatPercent(value)} RH` : String(value);
    if (name === 'illuminance') return typeof value === 'number' ? `${Math.round(value)} lx` : String(value);
    return humanize(value);
  }
}

function firstPresent(device) {
  const names = Object.keys(device.attributes ?? {});
  return Object.values(PRIMARY).find((name) => names.includes(name)) ?? null;
}
