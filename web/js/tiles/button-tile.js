import { el, setText } from '../dom.js';
import { formatRelative } from '../format.js';
import { BaseTile } from './base-tile.js';
import { ChoiceGroup } from './choice-group.js';

const ACTIONS = [
  { command: 'push', attribute: 'pushed', text: 'Push', past: 'pushed' },
  { command: 'hold', attribute: 'held', text: 'Hold', past: 'held' },
  { command: 'doubleTap', attribute: 'doubleTapped', text: 'Double-tap', past: 'double-tapped' },
  { command: 'release', attribute: 'released', text: 'Release', past: 'released' },
];
// Remotes beyond this many buttons get a number field instead of one button per number.
const MAX_NUMBER_BUTTONS = 8;

/** Push, hold or double-tap a numbered button; shows the last button event. */
export class ButtonTile extends BaseTile {
  static icon = 'button';

  buildBody(body) {
    this.selected = 1;
    this.numbers = new ChoiceGroup({
      label: 'Button number',
      signal: this.listeners.signal,
      className: 'choices small',
      onChoose: (number) => {
        this.selected = Number(number);
        this.patch(this.device, null);
      },
    });
    this.actions = el('div', { className: 'row actions' });
    for (const action of ACTIONS) {
      if (!this.canDo(action.command)) continue;
      this.actions.append(
        this.button(action.text, {
          className: 'btn',
          onClick: () => this.#act(action),
        }),
      );
    }
    this.lastNode = el('span', { className: 'readout last-event' });
    body.append(this.numbers.root, this.actions, this.lastNode);
  }

  patch(device, name) {
    const count = Math.max(1, Math.min(MAX_NUMBER_BUTTONS, Number(this.value('numberOfButtons')) || 1));
    const options = Array.from({ length: count }, (_, index) => ({
      value: String(index + 1),
      text: String(index + 1),
    }));
    this.numbers.sync(count > 1 ? options : [], String(this.selected));
    const action = ACTIONS.find((entry) => entry.attribute === name) ?? this.lastAction ?? null;
    if (action && name === action.attribute) this.lastAction = action;
    const shown = action ?? ACTIONS.find((entry) => this.value(entry.attribute) !== null);
    if (shown) {
      const number = this.value(shown.attribute);
      const when = device.lastActivity ? ` · ${formatRelative(device.lastActivity)}` : '';
      setText(this.lastNode, `Button ${number} ${shown.past}${when}`);
      this.setStatus(`Last: ${shown.past} ${number}`);
    } else {
      setText(this.lastNode, 'No button events yet');
      this.setStatus('');
    }
  }

  #act(action) {
    this.send(action.command, [this.selected]);
  }
}
