// Paths of the accounts API and small helpers shared by the sign-in screen, the account
// dialogs and the security settings panel.

export const AUTH_API = Object.freeze({
  SESSION: '/api/auth/session',
  SETUP: '/api/auth/setup',
  LOGIN: '/api/auth/login',
  LOGOUT: '/api/auth/logout',
  REGISTER: '/api/auth/register',
  CHANGE_PASSWORD: '/api/auth/change-password',
  USERS: '/api/auth/users',
  USER: (id) => `/api/auth/users/${encodeURIComponent(id)}`,
  RESET_PASSWORD: (id) => `/api/auth/users/${encodeURIComponent(id)}/reset-password`,
  UNLOCK: (id) => `/api/auth/users/${encodeURIComponent(id)}/unlock`,
  TOGGLE_AUTH: (id) => `/api/users/${encodeURIComponent(id)}/toggle-auth`,
  TOKENS: '/api/auth/tokens',
  TOKEN: (id) => `/api/auth/tokens/${encodeURIComponent(id)}`,
  SETTINGS: '/api/auth/settings',
});

// Events that AuthManager dispatches on the document.
export const AUTH_EVENTS = Object.freeze({
  // Dispatched by TilesApp when any request or the event stream gets HTTP 401.
  UNAUTHORIZED: 'tiles:unauthorized',
  SIGNED_IN: 'tiles:signed-in',
  SIGNED_OUT: 'tiles:signed-out',
});

export const ROLES = Object.freeze({ ADMIN: 'admin', USER: 'user' });

// The server's minimum password length (setting password_min_length, default 10). The
// server checks it again and its message is shown when the two differ.
export const MIN_PASSWORD_LENGTH = 10;

/**
 * Formats a server timestamp for a table cell. The accounts API sends Unix seconds; an ISO
 * string is accepted too. Returns `fallback` for a missing or unreadable value.
 */
export function formatTime(value, fallback = 'Never') {
  if (value === null || value === undefined || value === '') return fallback;
  const date = typeof value === 'number' ? new Date(value * 1000) : new Date(String(value));
  if (Number.isNaN(date.getTime())) return fallback;
  return date.toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });
}

/** Returns the server's message of an ApiError, or a generic one for anything else. */
export function errorText(err, action) {
  if (err && typeof err.message === 'string' && err.message) {
    const text = err.message;
    return `${action} failed: ${text.charAt(0).toUpperCase()}${text.slice(1)}.`;
  }
  return `${action} failed.`;
}
