import { el, setAttr, setText } from '../dom.js';
import { humanize } from '../format.js';
import { BaseTile } from './base-tile.js';

/** Padlock state and a lock/unlock button; unlocking needs a confirmation. Shows jammed and unknown too. */
export class LockTile extends BaseTile {
  static icon = 'lock';

  buildBody(body) {
    this.action = this.button('', { className: 'btn toggle', onClick: () => this.#act() });
    this.actionText = el('span');
    this.action.append(this.actionText);
    body.append(el('div', { className: 'row' }, [this.action]));
  }

  patch(device) {
    const state = this.value('lock');
    const locked = state === 'locked';
    const known = state === 'locked' || state === 'unlocked';
    this.setMainIcon(locked ? 'lock' : 'unlock');
    this.setStatus(state ? humanize(state) : 'Unknown', locked ? null : known ? 'warn' : 'alert');
    setText(this.actionText, locked ? 'Unlock' : 'Lock');
    setAttr(this.action, 'aria-label', `${locked ? 'Unlock' : 'Lock'} ${device.label}`);
    setAttr(this.action, 'aria-pressed', locked ? 'true' : 'false');
    this.root.classList.toggle('is-on', locked);
  }

  async #act() {
    if (this.value('lock') === 'locked') {
      const ok = await this.confirm(`Unlock ${this.device.label}?`, 'Unlock');
      if (!ok) return;
      this.send('unlock', [], { lock: 'unlocked' });
    } else {
      this.send('lock', [], { lock: 'locked' });
    }
  }
}
