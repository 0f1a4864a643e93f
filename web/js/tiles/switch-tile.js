import { el, setAttr, setHidden, setText } from '../dom.js';
import { formatPower } from '../format.js';
import { BaseTile } from './base-tile.js';

/** On/off toggle, with a power readout when the device also meters power. */
export class SwitchTile extends BaseTile {
  static icon = 'power';

  buildBody(body) {
    this.toggle = this.button('', {
      className: 'btn toggle',
      label: 'Toggle',
      onClick: () => this.#toggle(),
    });
    this.toggleText = el('span');
    this.toggle.append(this.toggleText);
    this.powerNode = el('span', { className: 'readout power', attrs: { hidden: true } });
    body.append(el('div', { className: 'row' }, [this.toggle, this.powerNode]));
  }

  get isOn() {
    return this.value('switch') === 'on';
  }

  patch(device) {
    const state = this.value('switch');
    const on = state === 'on';
    setAttr(this.toggle, 'aria-pressed', on ? 'true' : 'false');
    setAttr(this.toggle, 'aria-label', `${device.label}: turn ${on ? 'off' : 'on'}`);
    setText(this.toggleText, on ? 'On' : 'Off');
    this.root.classList.toggle('is-on', on);
    this.setStatus(state === null ? 'Unknown' : on ? 'On' : 'Off', on ? 'active' : null);
    const power = this.value('power');
    const showPower = device.hasPowerMeter === true && typeof power === 'number';
    setHidden(this.powerNode, !showPower);
    if (showPower) setText(this.powerNode, formatPower(power));
  }

  #toggle() {
    const next = this.isOn ? 'off' : 'on';
    this.send(next, [], { switch: next });
  }
}

export class LightTile extends SwitchTile {
  static icon = 'bulb';
}
