// The shared frame of every device tile: header, status line, battery, offline mark and the
// blue dot that links to the device on its hub. Subclasses add their controls in
// buildBody() and patch them in patch(); nothing is rebuilt after construction.

import { LONG_PRESS_MS } from '../constants.js';
import { el, icon, setAttr, setHidden, setIcon, setText } from '../dom.js';

const HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;
export const LOW_BATTERY_PERCENT = 20;

export class BaseTile {
  static icon = 'device';

  /**
   * `context` carries the collaborators: state (DeviceStateManager), commands
   * (CommandTracker), ui (UIManager), units (TemperatureUnits), backgrounds.
   */
  constructor(device, context) {
    this.uid = device.uid;
    this.kind = device.kind ?? 'generic';
    this.device = device;
    this.context = context;
    this.listeners = new AbortController();
    this.timers = new Set();
    this.root = this.#buildFrame(device);
    this.unsubscribe = () => {};
  }

  /**
   * Builds the kind's controls, subscribes to the device and paints it. Separate from the
   * constructor because subclass fields and #private methods exist only after super() returns.
   */
  mount() {
    this.buildBody(this.body, this.device);
    this.unsubscribe = this.context.state.subscribe(this.uid, (next, name) => this.update(next, name));
    this.update(this.device, null);
    return this;
  }

  /** Removes every listener, timer and subscription; the tile is unusable afterwards. */
  destroy() {
    this.unsubscribe();
    this.listeners.abort();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.root.remove();
  }

  update(device, name) {
    this.device = device;
    this.#patchFrame(device);
    this.patch(device, name);
  }

  buildBody(_body, _device) {}

  patch(_device, _name) {}

  // --- helpers for subclasses -------------------------------------------------------------

  value(name) {
    const attribute = this.device.attributes?.[name];
    return attribute ? attribute.value ?? null : null;
  }

  unit(name) {
    return this.device.attributes?.[name]?.unit ?? null;
  }

  has(name) {
    return Object.hasOwn(this.device.attributes ?? {}, name);
  }

  canDo(command) {
    return Array.isArray(this.device.commands) && this.device.commands.includes(command);
  }

  on(target, type, handler, options = {}) {
    target.addEventListener(type, handler, { ...options, signal: this.listeners.signal });
  }

  setTimer(callback, delayMs) {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      callback();
    }, delayMs);
    this.timers.add(timer);
    return timer;
  }

  /** Creates a button of at least 48 px with an icon, a text or both. */
  button(text, { iconName = null, label = null, className = 'btn', onClick } = {}) {
    const node = el('button', { className, attrs: { type: 'button', 'aria-label': label } });
    if (iconName) node.append(icon(iconName));
    if (text) node.append(el('span', { text }));
    if (onClick) this.on(node, 'click', (event) => onClick(event));
    return node;
  }

  /**
   * Creates a range input that previews while dragged and commits on release:
   * `onPreview(value)` runs during the drag and `onCommit(value)` once at the end.
   */
  slider({ label, min = 0, max = 100, step = 1, onPreview, onCommit }) {
    const input = el('input', {
      className: 'slider',
      attrs: { type: 'range', min, max, step, 'aria-label': label },
    });
    this.on(input, 'input', () => {
      input.dataset.dragging = 'true';
      onPreview?.(Number(input.value));
    });
    this.on(input, 'change', () => {
      input.dataset.dragging = 'false';
      onCommit(Number(input.value));
    });
    this.on(input, 'blur', () => {
      input.dataset.dragging = 'false';
    });
    return input;
  }

  /** Sends a command; `optimistic` maps attribute names to the values shown until confirmed. */
  send(command, args = [], optimistic = {}) {
    return this.context.commands.send(this.uid, command, args, optimistic);
  }

  confirm(message, actionText) {
    return this.context.ui.confirm(message, actionText);
  }

  setStatus(text, tone = null) {
    setText(this.statusNode, text);
    setAttr(this.root, 'data-tone', tone);
  }

  setMainIcon(name) {
    setIcon(this.iconNode, name);
  }

  // --- frame --------------------------------------------------------------------------------

  #buildFrame(device) {
    this.iconNode = icon(this.constructor.icon, 'icon tile-icon');
    this.labelNode = el('span', { className: 'tile-label' });
    this.subNode = el('span', { className: 'tile-sub' });
    this.hubLink = el('a', {
      className: 'hub-link',
      attrs: { target: '_blank', rel: 'noopener noreferrer' },
    });
    this.statusNode = el('span', { className: 'tile-status', attrs: { 'aria-live': 'polite' } });
    this.batteryNode = el('span', { className: 'battery', attrs: { hidden: true } });
    this.batteryText = el('span');
    this.batteryNode.append(icon('battery'), this.batteryText);
    this.offlineNode = el('span', { className: 'offline-mark', text: 'Offline', attrs: { hidden: true } });
    this.body = el('div', { className: 'tile-body' });
    const root = el(
      'article',
      {
        className: `tile tile-${device.kind ?? 'generic'}`,
        attrs: { 'data-uid': device.uid, 'data-kind': device.kind ?? 'generic', tabindex: 0 },
      },
      [
        el('header', { className: 'tile-head' }, [
          this.iconNode,
          el('div', { className: 'tile-title' }, [this.labelNode, this.subNode]),
          this.hubLink,
        ]),
        this.body,
        el('footer', { className: 'tile-foot' }, [this.statusNode, this.batteryNode, this.offlineNode]),
      ],
    );
    this.#listenForDetail(root);
    return root;
  }

  #patchFrame(device) {
    const label = device.label || device.name || device.uid;
    setText(this.labelNode, label);
    // The label and room are clamped with an ellipsis, so the title keeps the full text.
    setAttr(this.labelNode, 'title', label);
    const sub = [device.room, device.hubName].filter(Boolean).join(' · ');
    setText(this.subNode, sub);
    setAttr(this.subNode, 'title', sub || null);
    setAttr(this.root, 'aria-label', `${label}${sub ? `, ${sub}` : ''}. Press Enter for details.`);
    const href = hubDeviceUrl(device);
    setAttr(this.hubLink, 'href', href);
    setAttr(this.hubLink, 'aria-label', `Open ${label} on ${device.hubName || 'its hub'}`);
    setHidden(this.hubLink, href === null);
    const offline = device.online === false;
    this.root.classList.toggle('is-offline', offline);
    setHidden(this.offlineNode, !offline);
    const battery = device.attributes?.battery?.value;
    const hasBattery = typeof battery === 'number' && Number.isFinite(battery);
    setHidden(this.batteryNode, !hasBattery);
    if (hasBattery) {
      setText(this.batteryText, `${Math.round(battery)}%`);
      const low = battery < LOW_BATTERY_PERCENT;
      this.batteryNode.classList.toggle('is-low', low);
      setAttr(this.batteryNode, 'aria-label', `Battery ${Math.round(battery)}%${low ? ', low' : ''}`);
    }
  }

  #listenForDetail(root) {
    let pressTimer = null;
    const cancel = () => {
      if (pressTimer !== null) clearTimeout(pressTimer);
      pressTimer = null;
    };
    const isControl = (target) => target.closest('button, input, a, select, textarea') !== null;
    this.on(root, 'dblclick', (event) => {
      if (!isControl(event.target)) this.context.ui.openDetail(this.uid);
    });
    this.on(root, 'keydown', (event) => {
      if (event.key === 'Enter' && event.target === root) this.context.ui.openDetail(this.uid);
    });
    this.on(root, 'pointerdown', (event) => {
      if (isControl(event.target) || event.button !== 0) return;
      cancel();
      pressTimer = setTimeout(() => {
        pressTimer = null;
        this.context.ui.openDetail(this.uid);
      }, LONG_PRESS_MS);
    });
    for (const type of ['pointerup', 'pointercancel', 'pointerleave']) this.on(root, type, cancel);
    this.listeners.signal.addEventListener('abort', cancel);
  }
}

/**
 * Returns the device's page on its hub: the server's `hubUrl` (which keeps the hub's port)
 * when it is an http(s) URL, else one built from `hubIp`, else null.
 */
export function hubDeviceUrl(device) {
  if (typeof device.hubUrl === 'string' && device.hubUrl !== '') {
    let url;
    try {
      url = new URL(device.hubUrl);
    } catch {
      return null;
    }
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  }
  const host = typeof device.hubIp === 'string' ? device.hubIp.trim() : '';
  if (!host || !HOST.test(host) || !/^[\w-]+$/.test(String(device.deviceId ?? ''))) return null;
  return `http://${host}/device/edit/${encodeURIComponent(device.deviceId)}`;
}
