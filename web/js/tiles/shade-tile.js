import { el, setInputValue, setText } from '../dom.js';
import { formatPercent, humanize } from '../format.js';
import { BaseTile } from './base-tile.js';

/** Window shade: position slider plus open, close and stop. */
export class ShadeTile extends BaseTile {
  static icon = 'shade';

  buildBody(body) {
    this.positionText = el('span', { className: 'readout' });
    this.position = this.slider({
      label: 'Shade position',
      onPreview: (value) => setText(this.positionText, formatPercent(value)),
      onCommit: (value) => this.#setPosition(value),
    });
    const buttons = el('div', { className: 'row actions' }, [
      this.button('Open', { iconName: 'up', onClick: () => this.send('open', [], { windowShade: 'opening' }) }),
      this.button('Stop', { iconName: 'stop', onClick: () => this.send(this.canDo('stopPositionChange') ? 'stopPositionChange' : 'stop') }),
      this.button('Close', { iconName: 'down', onClick: () => this.send('close', [], { windowShade: 'closing' }) }),
    ]);
    body.append(el('label', { className: 'row slider-row' }, [this.position, this.positionText]), buttons);
  }

  patch() {
    const position = this.value('position') ?? this.value('level');
    if (typeof position === 'number') {
      setInputValue(this.position, position);
      setText(this.positionText, formatPercent(position));
    }
    const state = this.value('windowShade');
    const open = state === 'open' || state === 'partially open' || state === 'opening';
    this.root.classList.toggle('is-on', open);
    this.setStatus(state ? humanize(state) : 'Unknown', open ? 'active' : null);
  }

  #setPosition(value) {
    const command = this.canDo('setPosition') ? 'setPosition' : 'setLevel';
    const attribute = this.has('position') ? 'position' : 'level';
    this.send(command, [value], { [attribute]: value });
  }
}
