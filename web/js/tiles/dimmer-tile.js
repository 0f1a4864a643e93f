import { el, setHidden, setInputValue, setText } from '../dom.js';
import { formatPercent } from '../format.js';
import { SwitchTile } from './switch-tile.js';

/** Toggle plus a level slider. */
export class DimmerTile extends SwitchTile {
  static icon = 'bulb';

  buildBody(body) {
    super.buildBody(body);
    this.levelText = el('span', { className: 'readout' });
    this.level = this.slider({
      label: 'Brightness',
      min: 0,
      max: 100,
      onPreview: (level) => setText(this.levelText, formatPercent(level)),
      onCommit: (level) => this.#setLevel(level),
    });
    this.levelRow = el('label', { className: 'row slider-row' }, [this.level, this.levelText]);
    body.append(this.levelRow);
  }

  patch(device, name) {
    super.patch(device, name);
    const level = this.value('level');
    const known = typeof level === 'number';
    setHidden(this.levelRow, !known && !this.canDo('setLevel'));
    if (known) {
      setInputValue(this.level, level);
      setText(this.levelText, formatPercent(level));
      if (this.isOn) this.setStatus(`On · ${formatPercent(level)}`, 'active');
    }
  }

  #setLevel(level) {
    const optimistic = { level };
    if (level > 0) optimistic.switch = 'on';
    this.send('setLevel', [level], optimistic);
  }
}
