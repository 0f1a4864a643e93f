// Groups devices into sections and picks the Fibonacci column count of a grid.

export const FIBONACCI_COLUMNS = Object.freeze([1, 2, 3, 5, 8]);

const LIGHT_KINDS = new Set(['light', 'dimmer', 'color_light']);
const SWITCH_KINDS = new Set(['switch', 'power_meter', 'fan', 'valve', 'media', 'generic']);
const LOCK_KINDS = new Set(['lock', 'garage_door']);
const SENSOR_KINDS = new Set(['sensor', 'smoke_co', 'button']);
const ENVIRONMENT_SENSORS = new Set(['temperature', 'humidity', 'illuminance']);

/** Built-in sections. `feature` names a capability that must exist before it shows devices. */
export const BUILT_IN_SECTIONS = Object.freeze([
  { id: 'lights', name: 'Lights', icon: 'bulb', match: (d) => LIGHT_KINDS.has(d.kind) },
  {
    id: 'switches',
    name: 'Switches',
    icon: 'power',
    match: (d) => SWITCH_KINDS.has(d.kind) || d.kind === 'shade',
  },
  { id: 'thermostats', name: 'Thermostats', icon: 'thermostat', match: (d) => d.kind === 'thermostat' },
  { id: 'locks', name: 'Locks', icon: 'lock', match: (d) => LOCK_KINDS.has(d.kind) },
  { id: 'sensors', name: 'Sensors', icon: 'sensor', match: (d) => SENSOR_KINDS.has(d.kind) },
  {
    id: 'environment',
    name: 'Environment',
    icon: 'leaf',
    feature: 'kpi',
    match: (d) => d.kind === 'sensor' && ENVIRONMENT_SENSORS.has(d.sensorType),
  },
  { id: 'cameras', name: 'Cameras', icon: 'camera', feature: 'cameras', match: () => false },
  { id: 'all', name: 'All devices', icon: 'grid', match: () => true },
]);

export class DeviceSectionizer {
  /**
   * Returns the Fibonacci column count that best fits `itemCount` items of at least
   * `minItemWidth` px into `width` px: among the counts that fit the width, the one with the
   * fewest rows, then the fewest empty cells in the last row.
   * Example: 9 items on a wide screen -> 5 columns (2 rows, 1 empty) rather than 8 (7 empty).
   */
  static columns(width, itemCount, minItemWidth = 160) {
    const fitting = FIBONACCI_COLUMNS.filter((cols) => cols * minItemWidth <= width);
    if (fitting.length === 0 || itemCount <= 1) return 1;
    let best = fitting[0];
    let bestRows = Infinity;
    let bestEmpty = Infinity;
    for (const cols of fitting) {
      const rows = Math.ceil(itemCount / cols);
      const empty = rows * cols - itemCount;
      if (rows < bestRows || (rows === bestRows && empty < bestEmpty)) {
        best = cols;
        bestRows = rows;
        bestEmpty = empty;
      }
    }
    return best;
  }

  /** Devices of one section: built-in by kind, custom by keywords or picked uids. */
  static devicesFor(section, devices) {
    if (section.custom) return devices.filter((device) => matchesCustom(section, device));
    return devices.filter((device) => section.match(device));
  }

  static matchesSearch(device, query) {
    if (!query) return true;
    const text = `${device.label ?? ''} ${device.name ?? ''} ${device.room ?? ''} ${device.hubName ?? ''}`;
    return query
      .toLowerCase()
      .split(/\s+/)
      .filter(Boolean)
      .every((word) => text.toLowerCase().includes(word));
  }
}

function matchesCustom(section, device) {
  if (Array.isArray(section.uids) && section.uids.includes(device.uid)) return true;
  const keywords = Array.isArray(section.keywords) ? section.keywords : [];
  const haystack = `${device.label ?? ''} ${device.room ?? ''}`.toLowerCase();
  return keywords.some((word) => word && haystack.includes(String(word).toLowerCase()));
}
