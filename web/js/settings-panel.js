// The settings dialog: appearance (theme, night mode, font size, tile transparency,
// temperature unit), the default tile background and custom sections.

import { CLIENT_EVENTS, SELECTORS } from './constants.js';
import { el } from './dom.js';

export class SettingsPanel {
  #dialog;
  #preferences;
  #backgrounds;
  #ui;
  #listeners = null;
  #pageListeners = new AbortController();
  #sections;
  #renderOrder = null;

  /** `sections()` returns the sections in their current order, as SectionManager has them. */
  constructor(doc, { preferences, backgrounds, ui, sections }) {
    this.#sections = sections;
    this.#dialog = doc.querySelector(SELECTORS.SETTINGS);
    this.#preferences = preferences;
    this.#backgrounds = backgrounds;
    this.#ui = ui;
    const { signal } = this.#pageListeners;
    doc.querySelector(SELECTORS.SETTINGS_BUTTON).addEventListener('click', () => this.open(), { signal });
    this.#dialog.addEventListener('close', () => this.#teardown(), { signal });
  }

  destroy() {
    if (this.#dialog.open) this.#dialog.close();
    this.#teardown();
    this.#pageListeners.abort();
  }

  open() {
    this.#teardown();
    this.#listeners = new AbortController();
    this.#dialog.replaceChildren(...this.#build());
    // Adding or removing a custom section, here or in another tab, changes the order list.
    const off = this.#preferences.on(CLIENT_EVENTS.CHANGE, ({ category }) => {
      if (category === 'sections') this.#renderOrder?.();
    });
    this.#listeners.signal.addEventListener('abort', off, { once: true });
    if (!this.#dialog.open) this.#dialog.showModal();
  }

  #teardown() {
    this.#listeners?.abort();
    this.#listeners = null;
    this.#renderOrder = null;
    this.#dialog.replaceChildren();
  }

  #on(node, type, handler) {
    node.addEventListener(type, handler, { signal: this.#listeners.signal });
  }

  #build() {
    const prefs = this.#preferences;
    const close = el('button', { className: 'btn close', text: 'Close', attrs: { type: 'button' } });
    this.#on(close, 'click', () => this.#dialog.close());
    return [
      el('header', { className: 'detail-head' }, [el('h2', { text: 'Settings', attrs: { id: 'settings-title' } }), close]),
      el('section', { attrs: { 'aria-label': 'Appearance' } }, [
        el('h3', { text: 'Appearance' }),
        this.#select('Theme', 'theme', [['auto', 'Follow the system'], ['light', 'Light'], ['dark', 'Dark']], 'auto'),
        this.#select('Night mode', 'nightMode', [['off', 'Off'], ['on', 'On'], ['schedule', 'On a schedule']], 'off'),
        el('div', { className: 'row wrap' }, [this.#time('Night starts', 'nightStart', '22:00'), this.#time('Night ends', 'nightEnd', '06:30')]),
        this.#range('Font size', 'fontScale', 0.8, 1.6, 0.1, 1),
        this.#range('Tile opacity', 'tileOpacity', 0.2, 1, 0.05, prefs.get('appearance', 'tileOpacity', 1)),
        this.#select('Temperature unit', 'temperatureUnit', [['', 'Hub default'], ['F', '°F'], ['C', '°C']], ''),
      ]),
      this.#defaultBackground(),
      this.#sectionOrder(),
      this.#customSections(),
    ];
  }

  #field(label, control) {
    return el('label', { className: 'field' }, [el('span', { text: label }), control]);
  }

  #select(label, key, options, fallback) {
    const current = String(this.#preferences.get('appearance', key, fallback) ?? fallback);
    const select = el('select', { attrs: { name: key } }, options.map(([value, text]) => el('option', { text, attrs: { value, selected: value === current } })));
    this.#on(select, 'change', () => {
      if (select.value === '') this.#preferences.delete('appearance', key);
      else this.#preferences.set('appearance', key, select.value);
    });
    return this.#field(label, select);
  }

  #time(label, key, fallback) {
    const input = el('input', { attrs: { type: 'time', name: key, value: this.#preferences.get('appearance', key, fallback) } });
    this.#on(input, 'change', () => input.value && this.#preferences.set('appearance', key, input.value));
    return this.#field(label, input);
  }

  #range(label, key, min, max, step, fallback) {
    const input = el('input', { attrs: { type: 'range', name: key, min, max, step, value: this.#preferences.get('appearance', key, fallback) } });
    this.#on(input, 'change', () => this.#preferences.set('appearance', key, Number(input.value)));
    return this.#field(label, input);
  }

  #defaultBackground() {
    const current = this.#backgrounds.get('default');
    const color = el('input', { attrs: { type: 'color', value: current?.type === 'color' ? current.color : '#1f2937', 'aria-label': 'Default tile color' } });
    const apply = el('button', { className: 'btn', text: 'Use for all tiles', attrs: { type: 'button' } });
    const reset = el('button', { className: 'btn', text: 'Reset', attrs: { type: 'button' } });
    const report = (promise) => promise.catch((err) => this.#ui.toast(`Background not saved. ${err.message}`, 'error'));
    this.#on(apply, 'click', () => report(this.#backgrounds.setColor('default', color.value)));
    this.#on(reset, 'click', () => report(this.#backgrounds.reset('default')));
    return el('section', { attrs: { 'aria-label': 'Default background' } }, [el('h3', { text: 'Default tile background' }), el('div', { className: 'row wrap' }, [color, apply, reset])]);
  }

  #sectionOrder() {
    const list = el('ol', { className: 'section-order' });
    const renderList = () => {
      const ids = this.#sections().map((section) => section.id);
      list.replaceChildren(
        ...this.#sections().map((section, index) => {
          const move = (delta) => {
            const order = [...ids];
            order.splice(index, 1);
            order.splice(index + delta, 0, section.id);
            this.#preferences.set('sections', 'order', order);
            renderList();
          };
          const up = el('button', { className: 'btn small', text: 'Up', attrs: { type: 'button', 'aria-label': `Move ${section.name} up`, disabled: index === 0 } });
          const down = el('button', { className: 'btn small', text: 'Down', attrs: { type: 'button', 'aria-label': `Move ${section.name} down`, disabled: index === ids.length - 1 } });
          this.#on(up, 'click', () => move(-1));
          this.#on(down, 'click', () => move(1));
          return el('li', {}, [el('span', { text: section.name }), el('span', { className: 'row' }, [up, down])]);
        }),
      );
    };
    renderList();
    this.#renderOrder = renderList;
    return el('section', { attrs: { 'aria-label': 'Section order' } }, [el('h3', { text: 'Section order' }), list]);
  }

  #customSections() {
    const list = el('ul', { className: 'custom-sections' });
    const sections = () => {
      const stored = this.#preferences.get('sections', 'custom', []);
      return Array.isArray(stored) ? stored : [];
    };
    const renderList = () => {
      list.replaceChildren(
        ...sections().map((section) => {
          const remove = el('button', { className: 'btn small', text: 'Remove', attrs: { type: 'button', 'aria-label': `Remove section ${section.name}` } });
          this.#on(remove, 'click', () => {
            this.#preferences.set('sections', 'custom', sections().filter((item) => item.id !== section.id));
            renderList();
          });
          const keywords = (section.keywords ?? []).join(', ');
          return el('li', {}, [el('span', { text: `${section.name}${keywords ? ` (${keywords})` : ''}` }), remove]);
        }),
      );
    };
    renderList();
    const name = el('input', { attrs: { type: 'text', name: 'sectionName', maxlength: 40, required: true } });
    const keywords = el('input', { attrs: { type: 'text', name: 'sectionKeywords', placeholder: 'kitchen, porch' } });
    const add = el('button', { className: 'btn', text: 'Add section', attrs: { type: 'submit' } });
    const form = el('form', { className: 'row wrap' }, [this.#field('Name', name), this.#field('Keywords (labels or rooms)', keywords), add]);
    this.#on(form, 'submit', (event) => {
      event.preventDefault();
      const title = name.value.trim();
      if (!title) return;
      const words = keywords.value.split(',').map((word) => word.trim()).filter(Boolean);
      const id = `${title.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'section'}-${Date.now().toString(36)}`;
      this.#preferences.set('sections', 'custom', [...sections(), { id, name: title, keywords: words, uids: [] }]);
      name.value = '';
      keywords.value = '';
      renderList();
    });
    return el('section', { attrs: { 'aria-label': 'Custom sections' } }, [el('h3', { text: 'Custom sections' }), list, form]);
  }
}
