// Page chrome: the connection badge, toasts, the confirmation dialog, appearance and the
// device detail view.

import { SELECTORS, STREAM_STATES } from './constants.js';
import { el, setAttr, setText } from './dom.js';
import { DetailView } from './detail-view.js';

const TOAST_MS = 5000;
// A reconnect shorter than this shows "Reconnecting"; longer shows "Offline since …".
const OFFLINE_AFTER_MS = 5000;

export class UIManager {
  #badge;
  #badgeText;
  #toasts;
  #confirmDialog;
  #timers = new Set();
  #listeners = new AbortController();
  #connection = { state: STREAM_STATES.IDLE, since: 0 };
  #nightTimer = null;
  detail = null;

  constructor(doc = document) {
    this.doc = doc;
    this.#badge = doc.querySelector(SELECTORS.BADGE);
    this.#badgeText = this.#badge.querySelector('.badge-text');
    this.#toasts = doc.querySelector(SELECTORS.TOASTS);
    this.#confirmDialog = doc.querySelector(SELECTORS.CONFIRM);
  }

  /** Connects the detail view once the collaborators exist. */
  attach({ api, state, commands, units, backgrounds, preferences }) {
    this.detail = new DetailView(this.doc.querySelector(SELECTORS.DETAIL), {
      api,
      state,
      commands,
      units,
      backgrounds,
      preferences,
      ui: this,
    });
  }

  openDetail(uid) {
    this.detail?.open(uid);
  }

  setConnection({ state, since }) {
    this.#connection = { state, since };
    this.#renderBadge();
    if (state !== STREAM_STATES.OPEN && since) {
      // Re-render once the outage passes the "offline" threshold.
      const wait = Math.max(0, since + OFFLINE_AFTER_MS - Date.now()) + 50;
      this.#later(() => this.#renderBadge(), wait);
    }
  }

  #renderBadge() {
    const { state, since } = this.#connection;
    let text = 'Connecting';
    let tone = 'pending';
    if (state === STREAM_STATES.OPEN) {
      text = 'Live';
      tone = 'live';
    } else if (since && Date.now() - since >= OFFLINE_AFTER_MS) {
      const time = new Date(since).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
      text = `Offline since ${time}`;
      tone = 'offline';
    } else if (state === STREAM_STATES.WAITING || since) {
      text = 'Reconnecting';
    }
    setText(this.#badgeText, text);
    setAttr(this.#badge, 'data-state', tone);
    setAttr(this.#badge, 'aria-label', `Connection: ${text}`);
  }

  toast(message, tone = 'info') {
    const node = el('div', { className: `toast toast-${tone}`, text: message, attrs: { role: tone === 'error' ? 'alert' : 'status' } });
    this.#toasts.append(node);
    while (this.#toasts.childElementCount > 4) this.#toasts.firstElementChild.remove();
    this.#later(() => node.remove(), TOAST_MS);
  }

  /** Asks a yes/no question in a modal dialog; resolves true when the action is chosen. */
  confirm(message, actionText = 'OK') {
    const dialog = this.#confirmDialog;
    setText(dialog.querySelector('.confirm-message'), message);
    const ok = dialog.querySelector('.confirm-ok');
    setText(ok, actionText);
    if (dialog.open) dialog.close('cancel');
    return new Promise((resolve) => {
      const done = new AbortController();
      const finish = (result) => {
        done.abort();
        if (dialog.open) dialog.close();
        resolve(result);
      };
      ok.addEventListener('click', () => finish(true), { signal: done.signal });
      dialog.querySelector('.confirm-cancel').addEventListener('click', () => finish(false), { signal: done.signal });
      dialog.addEventListener('close', () => finish(false), { signal: done.signal });
      dialog.showModal();
      ok.focus();
    });
  }

  /**
   * Applies appearance preferences: theme ('auto' | 'light' | 'dark'), font scale, tile
   * opacity and night mode ('off' | 'on' | 'schedule' between nightStart and nightEnd).
   */
  applyAppearance(preferences) {
    const root = this.doc.documentElement;
    const get = (key, fallback) => preferences.get('appearance', key, fallback);
    const theme = get('theme', 'auto');
    root.dataset.theme = ['light', 'dark'].includes(theme) ? theme : 'auto';
    const fontScale = Number(get('fontScale', 1));
    root.style.setProperty('--font-scale', String(Number.isFinite(fontScale) ? clampScale(fontScale) : 1));
    const opacity = Number(get('tileOpacity', 1));
    root.style.setProperty('--tile-alpha', String(Number.isFinite(opacity) ? Math.min(1, Math.max(0.2, opacity)) : 1));
    this.#applyNight(preferences);
  }

  #applyNight(preferences) {
    if (this.#nightTimer !== null) clearTimeout(this.#nightTimer);
    this.#nightTimer = null;
    const mode = preferences.get('appearance', 'nightMode', 'off');
    let night = mode === 'on';
    if (mode === 'schedule') {
      const start = preferences.get('appearance', 'nightStart', '22:00');
      const end = preferences.get('appearance', 'nightEnd', '06:30');
      night = inWindow(new Date(), start, end);
      // Re-check at the next minute boundary so the schedule flips on time.
      const delay = 60000 - (Date.now() % 60000) + 100;
      this.#nightTimer = setTimeout(() => this.#applyNight(preferences), delay);
    }
    this.doc.documentElement.toggleAttribute('data-night', night);
  }

  destroy() {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    if (this.#nightTimer !== null) clearTimeout(this.#nightTimer);
    this.#listeners.abort();
    this.detail?.destroy();
  }

  #later(callback, delayMs) {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      callback();
    }, delayMs);
    this.#timers.add(timer);
  }
}

function clampScale(value) {
  return Math.min(1.6, Math.max(0.8, value));
}

/** True when `date`'s time of day lies in [start, end), where the window may wrap midnight. */
export function inWindow(date, start, end) {
  const minutes = date.getHours() * 60 + date.getMinutes();
  const from = toMinutes(start);
  const to = toMinutes(end);
  if (from === null || to === null || from === to) return false;
  return from < to ? minutes >= from && minutes < to : minutes >= from || minutes < to;
}

function toMinutes(text) {
  const match = /^(\d{1,2}):(\d{2})$/.exec(String(text));
  if (!match) return null;
  return Number(match[1]) * 60 + Number(match[2]);
}
