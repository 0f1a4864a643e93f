// Names shared across modules: server event types, DOM hooks, storage keys and limits.

export const SSE_EVENTS = Object.freeze({
  DEVICE: 'device',
  HUB: 'hub',
  MODE: 'mode',
  HSM: 'hsm',
  PREFERENCES: 'preferences',
  RESYNC: 'resync',
});

// Events that ApiClient, EventStream and PreferenceManager emit to their listeners.
export const CLIENT_EVENTS = Object.freeze({
  UNAUTHORIZED: 'unauthorized',
  STATE: 'state',
  MESSAGE: 'message',
  CHANGE: 'change',
});

export const STREAM_STATES = Object.freeze({
  IDLE: 'idle',
  CONNECTING: 'connecting',
  OPEN: 'open',
  WAITING: 'waiting',
  CLOSED: 'closed',
});

export const SELECTORS = Object.freeze({
  APP: '#app',
  BADGE: '#connection-badge',
  NAV: '#section-nav',
  SEARCH: '#search',
  MAIN: '#main',
  HUB_CONTROLS: '#hub-controls',
  TOASTS: '#toasts',
  DETAIL: '#detail-dialog',
  SETTINGS: '#settings-dialog',
  SETTINGS_BUTTON: '#settings-button',
  EDIT_BUTTON: '#edit-button',
  CONFIRM: '#confirm-dialog',
});

export const STORAGE_KEYS = Object.freeze({
  DEVICES: 'tiles.devices.v1',
  PREFERENCES: 'tiles.preferences.v1',
  PENDING_PREFERENCES: 'tiles.preferences.pending.v1',
  MIGRATED: 'tiles.preferences.migrated.v1',
});

export const API = Object.freeze({
  DEVICES: '/api/devices',
  DEVICE_INFO: (uid) => `/api/device/${encodeURIComponent(uid)}/info`,
  DEVICE_COMMAND: (uid) => `/api/device/${encodeURIComponent(uid)}/command`,
  MODES: '/api/modes',
  SET_MODE: (hubId, modeId) =>
    `/api/modes/${encodeURIComponent(hubId)}/${encodeURIComponent(modeId)}`,
  HSM: '/api/hsm',
  HSM_ACTION: (hubId, action) => `/api/hsm/${encodeURIComponent(hubId)}/${encodeURIComponent(action)}`,
  HUBS: '/api/hubs',
  SELECTIONS: '/api/device-selections',
  SETTINGS: '/api/settings',
  EVENTS: '/api/events/stream',
  PREFERENCES: '/api/user/preferences',
  PREFERENCE: (category, key) =>
    `/api/user/preferences/${encodeURIComponent(category)}/${encodeURIComponent(key)}`,
  PREFERENCES_MIGRATE: '/api/user/preferences/migrate',
  BACKGROUNDS: '/api/user/backgrounds',
  BACKGROUND: (uid) => `/api/user/backgrounds/${encodeURIComponent(uid)}`,
});

export const DEFAULT_SETTINGS = Object.freeze({
  temperatureScale: 'F',
  sseHeartbeatS: 15,
  commandConfirmTimeoutS: 10,
});

// A long press opens the detail view; shorter presses are taps.
export const LONG_PRESS_MS = 600;
export const PREFERENCE_DEBOUNCE_MS = 500;
export const RECONNECT_MIN_MS = 1000;
export const RECONNECT_MAX_MS = 30000;
