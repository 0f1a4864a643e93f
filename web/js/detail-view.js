// The fullscreen detail view of one device: every attribute with its unit, the last update
// time, the device's commands with their arguments, and the tile background.

import { API } from './constants.js';
import { el, setText } from './dom.js';
import { formatTime, humanize } from './format.js';
import { hubDeviceUrl } from './tiles/base-tile.js';

export class DetailView {
  #dialog;
  #deps;
  #uid = null;
  #unsubscribe = null;
  #listeners = null;
  #rows = new Map();
  #updatedNode = null;
  #tbody = null;
  #pageListeners = new AbortController();

  constructor(dialog, deps) {
    this.#dialog = dialog;
    this.#deps = deps;
    dialog.addEventListener('close', () => this.#teardown(), { signal: this.#pageListeners.signal });
  }

  destroy() {
    this.close();
    this.#pageListeners.abort();
  }

  get uid() {
    return this.#uid;
  }

  open(uid) {
    const device = this.#deps.state.get(uid);
    if (!device) return;
    this.#teardown();
    this.#uid = uid;
    this.#listeners = new AbortController();
    this.#render(device);
    this.#unsubscribe = this.#deps.state.subscribe(uid, (next) => this.#patch(next));
    if (!this.#dialog.open) this.#dialog.showModal();
    this.#loadCommands(uid, this.#listeners.signal);
  }

  close() {
    if (this.#dialog.open) this.#dialog.close();
    this.#teardown();
  }

  #teardown() {
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    this.#listeners?.abort();
    this.#listeners = null;
    this.#rows.clear();
    this.#uid = null;
    this.#dialog.replaceChildren();
  }

  #on(node, type, handler) {
    node.addEventListener(type, handler, { signal: this.#listeners.signal });
  }

  #render(device) {
    const close = el('button', { className: 'btn close', text: 'Close', attrs: { type: 'button' } });
    this.#on(close, 'click', () => this.close());
    const title = el('h2', { text: device.label || device.name, attrs: { id: 'detail-title' } });
    const meta = [device.room, device.hubName, device.type].filter(Boolean).join(' · ');
    this.#updatedNode = el('p', { className: 'detail-updated' });
    const header = el('header', { className: 'detail-head' }, [
      el('div', {}, [title, el('p', { className: 'detail-meta', text: meta }), this.#updatedNode]),
      close,
    ]);
    const href = hubDeviceUrl(device);
    if (href) {
      header.querySelector('div').append(
        el('a', { className: 'detail-hub-link', text: `Open on ${device.hubName || 'hub'}`, attrs: { href, target: '_blank', rel: 'noopener noreferrer' } }),
      );
    }
    this.#tbody = el('tbody');
    const table = el('table', { className: 'attributes' }, [
      el('caption', { text: 'Attributes' }),
      el('thead', {}, [el('tr', {}, [el('th', { text: 'Name', attrs: { scope: 'col' } }), el('th', { text: 'Value', attrs: { scope: 'col' } }), el('th', { text: 'Unit', attrs: { scope: 'col' } })])]),
      this.#tbody,
    ]);
    this.commandsNode = el('section', { className: 'commands', attrs: { 'aria-label': 'Commands' } }, [
      el('h3', { text: 'Commands' }),
      el('p', { className: 'muted', text: 'Loading commands' }),
    ]);
    this.#dialog.setAttribute('aria-labelledby', 'detail-title');
    // replaceChildren() inserts null as the text "null", so absent sections are filtered out.
    const parts = [header, table, this.commandsNode, this.#sectionsSection(device), this.#backgroundSection(device)];
    this.#dialog.replaceChildren(...parts.filter(Boolean));
    this.#patch(device);
  }

  #patch(device) {
    setText(this.#updatedNode, device.lastActivity ? `Last update: ${formatTime(device.lastActivity)}` : 'No update time reported');
    for (const [name, attribute] of Object.entries(device.attributes ?? {})) {
      let row = this.#rows.get(name);
      if (!row) {
        row = { value: el('td'), unit: el('td') };
        this.#rows.set(name, row);
        this.#tbody.append(el('tr', { attrs: { 'data-attribute': name } }, [el('th', { text: name, attrs: { scope: 'row' } }), row.value, row.unit]));
      }
      setText(row.value, displayValue(attribute?.raw ?? attribute?.value));
      setText(row.unit, attribute?.unit ?? '');
    }
  }

  async #loadCommands(uid, signal) {
    let commands;
    try {
      const reply = await this.#deps.api.get(API.DEVICE_INFO(uid));
      commands = (reply?.device ?? reply)?.commands;
    } catch (err) {
      commands = null;
      if (signal.aborted) return;
      this.#deps.ui.toast(`Commands could not be loaded. ${err.message}`, 'error');
    }
    if (signal.aborted || this.#uid !== uid) return;
    const list = (Array.isArray(commands) ? commands : this.#deps.state.get(uid)?.commands ?? []).map((command) =>
      typeof command === 'string' ? { name: command, argTypes: [] } : command,
    );
    const rows = list.map((command) => this.#commandRow(uid, command));
    this.commandsNode.replaceChildren(el('h3', { text: 'Commands' }), ...(rows.length ? rows : [el('p', { className: 'muted', text: 'This device has no commands.' })]));
  }

  #commandRow(uid, command) {
    const inputs = (command.argTypes ?? []).map((type, index) =>
      el('input', {
        className: 'command-arg',
        attrs: {
          type: /number|integer|decimal/i.test(type) ? 'number' : 'text',
          'aria-label': `${command.name} argument ${index + 1} (${type})`,
          placeholder: String(type),
          step: 'any',
        },
      }),
    );
    const send = el('button', { className: 'btn', text: humanize(command.name), attrs: { type: 'button', 'data-command': command.name } });
    this.#on(send, 'click', () => {
      const args = inputs.map((input) => (input.type === 'number' && input.value !== '' ? Number(input.value) : input.value));
      this.#deps.commands.send(uid, command.name, args);
    });
    return el('div', { className: 'command-row' }, [send, ...inputs]);
  }

  /** Check boxes that add the device to custom sections by hand, besides their keywords. */
  #sectionsSection(device) {
    const preferences = this.#deps.preferences;
    const stored = preferences.get('sections', 'custom', []);
    const sections = Array.isArray(stored) ? stored : [];
    if (sections.length === 0) return null;
    const boxes = sections.map((section) => {
      const box = el('input', {
        attrs: { type: 'checkbox', checked: Array.isArray(section.uids) && section.uids.includes(device.uid) },
      });
      this.#on(box, 'change', () => {
        const latest = preferences.get('sections', 'custom', []);
        const updated = (Array.isArray(latest) ? latest : []).map((entry) => {
          if (entry.id !== section.id) return entry;
          const uids = new Set(Array.isArray(entry.uids) ? entry.uids : []);
          if (box.checked) uids.add(device.uid);
          else uids.delete(device.uid);
          return { ...entry, uids: [...uids] };
        });
        preferences.set('sections', 'custom', updated);
      });
      return el('label', { className: 'check' }, [box, el('span', { text: section.name })]);
    });
    return el('section', { className: 'sections', attrs: { 'aria-label': 'Custom sections' } }, [
      el('h3', { text: 'Custom sections' }),
      el('div', { className: 'row wrap' }, boxes),
    ]);
  }

  #backgroundSection(device) {
    const backgrounds = this.#deps.backgrounds;
    const current = backgrounds.get(device.uid);
    const color = el('input', { attrs: { type: 'color', value: current?.type === 'color' ? current.color : '#335577', 'aria-label': 'Tile background color' } });
    const setColor = el('button', { className: 'btn', text: 'Use color', attrs: { type: 'button' } });
    const file = el('input', { attrs: { type: 'file', accept: 'image/png,image/jpeg,image/webp,image/gif', 'aria-label': 'Tile background image' } });
    const reset = el('button', { className: 'btn', text: 'Default background', attrs: { type: 'button' } });
    const report = (promise) =>
      promise.catch((err) => this.#deps.ui.toast(`Background not saved. ${err.message}`, 'error'));
    this.#on(setColor, 'click', () => report(backgrounds.setColor(device.uid, color.value)));
    this.#on(reset, 'click', () => report(backgrounds.reset(device.uid)));
    this.#on(file, 'change', () => {
      if (file.files?.[0]) report(backgrounds.upload(device.uid, file.files[0]));
    });
    return el('section', { className: 'background', attrs: { 'aria-label': 'Tile background' } }, [
      el('h3', { text: 'Background' }),
      el('div', { className: 'row wrap' }, [color, setColor, file, reset]),
    ]);
  }
}

function displayValue(raw) {
  if (raw === null || raw === undefined) return '—';
  if (typeof raw === 'object') return JSON.stringify(raw);
  return String(raw);
}
