import { el, setText } from '../dom.js';
import { humanize } from '../format.js';
import { BaseTile } from './base-tile.js';

const SHOWN_ATTRIBUTES = 3;

/** A device no other tile fits: its first attributes as text, on/off when it has them. */
export class GenericTile extends BaseTile {
  static icon = 'device';

  buildBody(body) {
    this.lines = el('div', { className: 'readouts column' });
    body.append(this.lines);
    if (this.canDo('on') && this.canDo('off')) {
      body.append(
        el('div', { className: 'row actions' }, [
          this.button('On', { onClick: () => this.send('on', [], { switch: 'on' }) }),
          this.button('Off', { onClick: () => this.send('off', [], { switch: 'off' }) }),
        ]),
      );
    }
    this.lineNodes = [];
  }

  patch() {
    const entries = Object.entries(this.device.attributes ?? {}).slice(0, SHOWN_ATTRIBUTES);
    while (this.lineNodes.length < entries.length) {
      const node = el('span', { className: 'readout' });
      this.lineNodes.push(node);
      this.lines.append(node);
    }
    this.lineNodes.forEach((node, index) => {
      const entry = entries[index];
      node.hidden = !entry;
      if (entry) {
        const [name, attribute] = entry;
        const unit = attribute?.unit ? ` ${attribute.unit}` : '';
        setText(node, `${humanize(name)}: ${attribute?.raw ?? attribute?.value ?? '--'}${unit}`);
      }
    });
    const state = this.value('switch');
    this.root.classList.toggle('is-on', state === 'on');
    this.setStatus(state ? humanize(state) : '');
  }
}
