// Display formatting: temperatures, power, levels and times.

/** Returns 'F', 'C' or null for the units hubs send ('°F', 'F', '°C', 'C', missing). */
export function temperatureUnitOf(unit) {
  if (typeof unit !== 'string') return null;
  const letter = unit.replace('°', '').trim().toUpperCase();
  return letter === 'F' || letter === 'C' ? letter : null;
}

export function convertTemperature(value, fromUnit, toUnit) {
  if (typeof value !== 'number' || !Number.isFinite(value)) return null;
  if (fromUnit === toUnit) return value;
  return toUnit === 'C' ? ((value - 32) * 5) / 9 : (value * 9) / 5 + 32;
}

/** Rounds to one decimal for °C and whole degrees for °F. */
export function roundTemperature(value, unit) {
  return unit === 'C' ? Math.round(value * 10) / 10 : Math.round(value);
}

export function formatPower(watts) {
  if (typeof watts !== 'number' || !Number.isFinite(watts)) return '';
  if (Math.abs(watts) >= 1000) return `${(watts / 1000).toFixed(2)} kW`;
  return `${Math.round(watts * 10) / 10} W`;
}

export function formatPercent(value) {
  if (typeof value !== 'number' || !Number.isFinite(value)) return '';
  return `${Math.round(value)}%`;
}

export function formatTime(timestamp) {
  if (!timestamp) return '';
  const date = new Date(timestamp);
  if (Number.isNaN(date.getTime())) return String(timestamp);
  return date.toLocaleString();
}

export function formatRelative(timestamp, now = Date.now()) {
  const date = new Date(timestamp);
  if (Number.isNaN(date.getTime())) return '';
  const seconds = Math.round((now - date.getTime()) / 1000);
  if (seconds < 60) return 'just now';
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return date.toLocaleDateString();
}

/** Turns camelCase command and mode names into words: 'armAway' -> 'Arm away'. */
/** Returns e.g. "1 second" or "5 seconds" for a count and the singular noun. */
export function pluralize(count, noun) {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

export function humanize(name) {
  const text = String(name ?? '')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .trim()
    .toLowerCase();
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function clamp(value, min, max) {
  return Math.min(max, Math.max(min, value));
}
