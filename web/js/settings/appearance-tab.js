// Settings → Appearance: the appearance preferences live in the settings dialog; this tab
// opens it and names what it holds.

import { el } from '../dom.js';
import { button } from './common.js';

export class AppearanceTab {
  #container;
  #openDialog;
  #listeners = null;

  constructor(container, { openDialog }) {
    this.#container = container;
    this.#openDialog = openDialog;
  }

  render() {
    this.destroy();
    this.#listeners = new AbortController();
    const open = button('Open appearance settings', () => this.#openDialog?.(), { primary: true, signal: this.#listeners.signal });
    open.disabled = typeof this.#openDialog !== 'function';
    this.#container.replaceChildren(el('section', { className: 'settings-section' }, [
      el('h3', { text: 'Appearance' }),
      el('p', { text: 'Theme, night mode, font size, tile opacity, backgrounds and custom sections are kept per user and follow you to every device.' }),
      open,
    ]));
  }

  destroy() {
    this.#listeners?.abort();
    this.#listeners = null;
    this.#container.replaceChildren();
  }
}
