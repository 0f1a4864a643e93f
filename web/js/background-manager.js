// Per-device tile backgrounds (a color or an uploaded image) stored on the server per user.
// The uid "default" applies to every tile without its own background. Changes from other
// tabs arrive as `preferences` events with category "backgrounds".

import { API, CLIENT_EVENTS } from './constants.js';
import { Emitter } from './emitter.js';

export const BACKGROUND_CATEGORY = 'backgrounds';
export const DEFAULT_BACKGROUND = 'default';
const ALLOWED_TYPES = new Set(['image/png', 'image/jpeg', 'image/webp', 'image/gif']);
// The server's limit for one image (tiles_edge.backgrounds.MAX_IMAGE_BYTES).
export const MAX_IMAGE_BYTES = 2 * 1024 * 1024;
const COLOR = /^#[0-9a-f]{6}$/i;

export class BackgroundManager extends Emitter {
  #api;
  #backgrounds = new Map();

  constructor(api) {
    super();
    this.#api = api;
  }

  async load() {
    try {
      const all = await this.#api.get(API.BACKGROUNDS);
      this.#backgrounds = new Map(Object.entries(all && typeof all === 'object' ? all : {}));
      this.emit(CLIENT_EVENTS.CHANGE, { uid: null });
      return true;
    } catch (err) {
      console.warn('tile backgrounds could not be loaded', err.message);
      return false;
    }
  }

  get(uid) {
    return this.#backgrounds.get(uid) ?? null;
  }

  /** Applies a `preferences` event of category "backgrounds". */
  applyRemote({ key, value, deleted = false }) {
    if (typeof key !== 'string') return;
    if (deleted || !value) this.#backgrounds.delete(key);
    else this.#backgrounds.set(key, value);
    this.emit(CLIENT_EVENTS.CHANGE, { uid: key });
  }

  /** Sets the tile's background custom properties; CSSOM writes are allowed by a strict CSP. */
  apply(root, uid) {
    const background = this.get(uid) ?? this.get(DEFAULT_BACKGROUND);
    const style = root.style;
    // data-bg-tone selects the text colors in app.css: "dark" for light text, "light" for dark
    // text, "image" for light text over a scrim.
    if (background?.type === 'color' && COLOR.test(background.color ?? '')) {
      style.setProperty('--tile-bg', background.color);
      style.removeProperty('--tile-bg-image');
      root.dataset.bgTone = isDarkColor(background.color) ? 'dark' : 'light';
    } else if (background?.type === 'image' && isSameOriginPath(background.url)) {
      style.setProperty('--tile-bg-image', `url("${encodeURI(background.url)}")`);
      style.removeProperty('--tile-bg');
      root.dataset.bgTone = 'image';
    } else {
      style.removeProperty('--tile-bg');
      style.removeProperty('--tile-bg-image');
      delete root.dataset.bgTone;
    }
    root.classList.toggle('has-background', Boolean(background));
  }

  async setColor(uid, color) {
    if (!COLOR.test(color)) throw new Error(`invalid color "${color}": expected #rrggbb`);
    const stored = await this.#api.post(API.BACKGROUND(uid), { color });
    this.applyRemote({ key: uid, value: stored });
  }

  async reset(uid) {
    await this.#api.delete(API.BACKGROUND(uid));
    this.applyRemote({ key: uid, deleted: true });
  }

  /** Checks type and size, uploads the image and returns the stored background. */
  async upload(uid, file) {
    if (!ALLOWED_TYPES.has(file.type)) {
      const type = file.type || 'of unknown type';
      throw new Error(`"${file.name}" is ${type}: use a PNG, JPEG, WebP or GIF image`);
    }
    if (file.size > MAX_IMAGE_BYTES) {
      const sizeKb = Math.round(file.size / 1024);
      throw new Error(`"${file.name}" is ${sizeKb} KB: the limit is ${MAX_IMAGE_BYTES / 1024} KB`);
    }
    const dataUrl = await readAsDataUrl(file);
    const stored = await this.#api.post(API.BACKGROUND(uid), { dataUrl });
    this.applyRemote({ key: uid, value: stored });
    return stored;
  }
}

/**
 * Returns true when white text contrasts better than near-black (#111827) text on `hex`, by the
 * WCAG 2.1 contrast ratio: white wins below a relative luminance of about 0.2.
 */
export function isDarkColor(hex) {
  const channels = [1, 3, 5].map((start) => Number.parseInt(hex.slice(start, start + 2), 16) / 255);
  const [r, g, b] = channels.map((c) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  const luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  const darkText = 0.0092; // relative luminance of #111827
  return (1 + 0.05) / (luminance + 0.05) > (luminance + 0.05) / (darkText + 0.05);
}

function isSameOriginPath(url) {
  return typeof url === 'string' && url.startsWith('/') && !url.startsWith('//');
}

function readAsDataUrl(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.addEventListener('load', () => resolve(reader.result), { once: true });
    reader.addEventListener('error', () => reject(reader.error), { once: true });
    reader.readAsDataURL(file);
  });
}
