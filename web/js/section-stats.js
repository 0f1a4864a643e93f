// Live status pills of a section card: lights on, doors open, average indoor temperature,
// total power, low batteries and alerts.

import { LOW_BATTERY_PERCENT } from './tiles/base-tile.js';
import { formatPower } from './format.js';

const LIGHT_KINDS = new Set(['light', 'dimmer', 'color_light']);
const OPEN_STATES = new Set(['open', 'opening', 'partially open']);

/**
 * Sums the statistics of a section's devices. `sensors` holds the user's temperature
 * selections as Sets of uids: the indoor average uses `indoor` when it is not empty, else every
 * temperature reading except thermostats and outdoor sensors (`outdoor` when not empty, else
 * devices the server marks `outdoor: true`). Power sums the switched loads, and a whole-house
 * meter counts only in a section without loads, because its reading already includes them.
 */
export function computeStats(devices, sensors = {}) {
  const indoor = sensors.indoor?.size ? sensors.indoor : null;
  const outdoor = sensors.outdoor?.size ? sensors.outdoor : null;
  let lightsOn = 0;
  let open = 0;
  let loadPower = 0;
  let loadSeen = false;
  let meterPower = 0;
  let meterSeen = false;
  let lowBattery = 0;
  let alerts = 0;
  const temperatures = [];
  for (const device of devices) {
    const value = (name) => device.attributes?.[name]?.value ?? null;
    if (LIGHT_KINDS.has(device.kind) && value('switch') === 'on') lightsOn += 1;
    if (OPEN_STATES.has(value('contact')) || OPEN_STATES.has(value('door'))) open += 1;
    if (device.kind === 'lock' && value('lock') === 'unlocked') open += 1;
    const watts = value('power');
    if (typeof watts === 'number' && device.kind === 'power_meter') {
      meterPower += watts;
      meterSeen = true;
    } else if (typeof watts === 'number' && device.hasPowerMeter) {
      loadPower += watts;
      loadSeen = true;
    }
    const battery = value('battery');
    if (typeof battery === 'number' && battery < LOW_BATTERY_PERCENT) lowBattery += 1;
    if (
      value('water') === 'wet' ||
      value('smoke') === 'detected' ||
      value('carbonMonoxide') === 'detected' ||
      value('lock') === 'jammed'
    ) {
      alerts += 1;
    }
    const temperature = value('temperature');
    if (typeof temperature === 'number' && isIndoor(device, indoor, outdoor)) {
      temperatures.push({ value: temperature, unit: device.attributes.temperature.unit ?? null });
    }
  }
  const power = loadSeen ? loadPower : meterSeen ? meterPower : null;
  return { lightsOn, open, power, lowBattery, alerts, temperatures };
}

function isIndoor(device, indoor, outdoor) {
  if (indoor) return indoor.has(device.uid);
  if (device.kind === 'thermostat') return false;
  return outdoor ? !outdoor.has(device.uid) : !device.outdoor;
}

/** Returns [{key, text, tone}] for the non-empty statistics. */
export function statPills(stats, units) {
  const pills = [];
  if (stats.alerts) pills.push({ key: 'alerts', text: `${stats.alerts} alert${stats.alerts > 1 ? 's' : ''}`, tone: 'alert' });
  if (stats.lightsOn) pills.push({ key: 'lights', text: `${stats.lightsOn} on`, tone: 'active' });
  if (stats.open) pills.push({ key: 'open', text: `${stats.open} open`, tone: 'warn' });
  if (stats.temperatures.length) {
    const shown = stats.temperatures
      .map((reading) => units.toDisplay(reading.value, reading.unit))
      .filter((value) => value !== null);
    if (shown.length) {
      const average = shown.reduce((sum, value) => sum + value, 0) / shown.length;
      pills.push({ key: 'temperature', text: `Avg ${units.label(Math.round(average * 10) / 10)}`, tone: null });
    }
  }
  if (stats.power !== null) pills.push({ key: 'power', text: formatPower(stats.power), tone: null });
  if (stats.lowBattery) pills.push({ key: 'battery', text: `${stats.lowBattery} low battery`, tone: 'warn' });
  return pills;
}
