import { el, setAttr, setText } from '../dom.js';
import { humanize } from '../format.js';
import { BaseTile } from './base-tile.js';

/** Garage door: open or close after confirmation; opening and closing states shown. */
export class GarageDoorTile extends BaseTile {
  static icon = 'garage';

  buildBody(body) {
    this.action = this.button('', { className: 'btn toggle', onClick: () => this.#act() });
    this.actionText = el('span');
    this.action.append(this.actionText);
    body.append(el('div', { className: 'row' }, [this.action]));
  }

  patch(device) {
    const door = this.value('door') ?? this.value('contact');
    const closed = door === 'closed' || door === 'closing';
    const moving = door === 'opening' || door === 'closing';
    setText(this.actionText, closed ? 'Open' : 'Close');
    setAttr(this.action, 'aria-label', `${closed ? 'Open' : 'Close'} ${device.label}`);
    this.action.disabled = moving;
    // Open is an alert, closed is quiet, and moving or unknown states are warnings.
    let tone = 'warn';
    if (door === 'open') tone = 'alert';
    else if (door === 'closed') tone = null;
    this.setStatus(door ? humanize(door) : 'Unknown', tone);
    this.root.classList.toggle('is-on', door === 'open');
  }

  async #act() {
    const closed = (this.value('door') ?? this.value('contact')) === 'closed';
    const verb = closed ? 'Open' : 'Close';
    if (!(await this.confirm(`${verb} ${this.device.label}?`, verb))) return;
    if (closed) this.send('open', [], { door: 'opening' });
    else this.send('close', [], { door: 'closing' });
  }
}
