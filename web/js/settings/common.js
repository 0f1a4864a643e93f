// Pieces shared by the settings tabs: routes, a field helper and time formatting.

import { el } from '../dom.js';

export const SETTINGS_API = Object.freeze({
  HUB_CONFIG: '/api/hub-config',
  HUB_CONFIG_ONE: (hubId) => `/api/hub-config/${encodeURIComponent(hubId)}`,
  HUB_ORDER: '/api/hub-config/order',
  HUB_TEST: '/api/hub-config/test',
  HUB_MESH: '/api/hub-config/mesh',
  WEBHOOK_REGISTER: (hubId) => `/api/hub-config/${encodeURIComponent(hubId)}/webhook/register`,
  WEBHOOK_ROTATE: (hubId) => `/api/hub-config/${encodeURIComponent(hubId)}/webhook/rotate`,
  HUBS: '/api/hubs',
  DISCOVERY: '/api/discovery',
  SETTINGS: '/api/settings',
  STATUS: '/api/status',
  HEALTH: '/health',
  DEVICES: '/api/devices',
  NATIVE_DEVICES: '/api/devices/native',
  SELECTIONS: '/api/device-selections',
  SELECTION: (type) => `/api/device-selections/${encodeURIComponent(type)}`,
  SESSION: '/api/auth/session',
  EVENTS: '/api/events/stream',
});

/** A labelled control: `<label><span>Label</span>control</label>`. */
export function field(label, control, hint = '') {
  return el('label', { className: 'settings-field' }, [
    el('span', { className: 'settings-label', text: label }),
    control,
    hint ? el('small', { className: 'settings-hint', text: hint }) : null,
  ]);
}

export function button(text, onClick, { primary = false, danger = false, signal } = {}) {
  const classes = ['btn'];
  if (primary) classes.push('primary');
  if (danger) classes.push('danger');
  const node = el('button', { className: classes.join(' '), text, attrs: { type: 'button' } });
  node.addEventListener('click', onClick, { signal });
  return node;
}

/** Formats epoch seconds as a local date and time, or `fallback`. */
export function formatEpoch(seconds, fallback = 'Never') {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) return fallback;
  return new Date(seconds * 1000).toLocaleString();
}

export function formatBytes(bytes) {
  if (typeof bytes !== 'number' || !Number.isFinite(bytes)) return 'unknown';
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

export function formatDuration(seconds) {
  const total = Math.max(0, Math.floor(Number(seconds) || 0));
  const days = Math.floor(total / 86400);
  const hours = Math.floor((total % 86400) / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  if (days) return `${days} d ${hours} h`;
  if (hours) return `${hours} h ${minutes} min`;
  return `${minutes} min`;
}

/** Shows `text` in a status line; `kind` is "ok", "error" or "" for neutral. */
export function showStatus(node, text, kind = '') {
  node.textContent = text;
  node.dataset.kind = kind;
  node.hidden = !text;
}
