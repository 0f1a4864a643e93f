// A row of toggle buttons kept in step with a list of options that can change at run time
// (thermostat modes, fan speeds, hub modes). Buttons are added or removed, never rebuilt.

import { el, setAttr, setText } from '../dom.js';
import { humanize } from '../format.js';

export class ChoiceGroup {
  #buttons = new Map();
  #signal;
  #onChoose;
  #key = '';

  constructor({ label, onChoose, signal, className = 'choices' }) {
    this.#signal = signal;
    this.#onChoose = onChoose;
    this.root = el('div', { className, attrs: { role: 'group', 'aria-label': label } });
  }

  /** `options` is a list of values or of {value, text}; `current` is the selected value. */
  sync(options, current) {
    const normalized = options.map((option) =>
      typeof option === 'object' && option !== null
        ? { value: String(option.value), text: String(option.text) }
        : { value: String(option), text: humanize(option) },
    );
    const key = JSON.stringify(normalized);
    if (key !== this.#key) {
      this.#key = key;
      this.#rebuild(normalized);
    }
    for (const [value, button] of this.#buttons) {
      const selected = current !== null && current !== undefined && value === String(current);
      setAttr(button, 'aria-pressed', selected ? 'true' : 'false');
      button.classList.toggle('is-selected', selected);
    }
  }

  #rebuild(options) {
    const wanted = new Set(options.map((option) => option.value));
    for (const [value, button] of this.#buttons) {
      if (!wanted.has(value)) {
        button.remove();
        this.#buttons.delete(value);
      }
    }
    for (const option of options) {
      let button = this.#buttons.get(option.value);
      if (!button) {
        button = el('button', { className: 'btn choice', attrs: { type: 'button' } });
        button.addEventListener('click', () => this.#onChoose(option.value), { signal: this.#signal });
        this.#buttons.set(option.value, button);
      }
      setText(button, option.text);
      this.root.append(button);
    }
  }
}

/** Reads a list attribute the server already parsed; tolerates a stray string. */
export function listValue(value) {
  if (Array.isArray(value)) return value.map(String);
  if (typeof value === 'string' && value.trim()) {
    return value
      .replace(/^\[|\]$/g, '')
      .split(',')
      .map((item) => item.trim().replace(/^"|"$/g, ''))
      .filter(Boolean);
  }
  return [];
}
