import { el, setAttr, setText } from '../dom.js';
import { humanize } from '../format.js';
import { BaseTile } from './base-tile.js';

/** Water valve: open or close. */
export class ValveTile extends BaseTile {
  static icon = 'valve';

  buildBody(body) {
    this.toggle = this.button('', { className: 'btn toggle', onClick: () => this.#toggle() });
    this.toggleText = el('span');
    this.toggle.append(this.toggleText);
    body.append(el('div', { className: 'row' }, [this.toggle]));
  }

  patch(device) {
    const state = this.value('valve');
    const open = state === 'open';
    setText(this.toggleText, open ? 'Close' : 'Open');
    setAttr(this.toggle, 'aria-pressed', open ? 'true' : 'false');
    setAttr(this.toggle, 'aria-label', `${open ? 'Close' : 'Open'} ${device.label}`);
    this.root.classList.toggle('is-on', open);
    this.setStatus(state ? humanize(state) : 'Unknown', open ? 'active' : null);
  }

  #toggle() {
    const next = this.value('valve') === 'open' ? 'close' : 'open';
    this.send(next, [], { valve: next === 'open' ? 'open' : 'closed' });
  }
}
