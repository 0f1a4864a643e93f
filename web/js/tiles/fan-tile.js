import { el, setAttr, setText } from '../dom.js';
import { humanize } from '../format.js';
import { BaseTile } from './base-tile.js';
import { ChoiceGroup, listValue } from './choice-group.js';

const STANDARD_SPEEDS = ['low', 'medium-low', 'medium', 'medium-high', 'high'];
const NOT_SPEEDS = new Set(['on', 'off', 'auto']);

/** Fan with its own speed list; a current speed outside the list is still shown. */
export class FanTile extends BaseTile {
  static icon = 'fan';

  buildBody(body) {
    this.toggle = this.button('', { className: 'btn toggle', onClick: () => this.#toggle() });
    this.toggleText = el('span');
    this.toggle.append(this.toggleText);
    this.speeds = new ChoiceGroup({
      label: 'Fan speed',
      signal: this.listeners.signal,
      className: 'choices small',
      onChoose: (speed) => this.send('setSpeed', [speed], { speed, switch: speed === 'off' ? 'off' : 'on' }),
    });
    body.append(el('div', { className: 'row' }, [this.toggle]), this.speeds.root);
  }

  get isOn() {
    const state = this.value('switch');
    if (state !== null) return state === 'on';
    const speed = this.value('speed');
    return speed !== null && speed !== 'off';
  }

  patch(device) {
    const speed = this.value('speed');
    const declared = Array.isArray(device.fanSpeeds) ? device.fanSpeeds.map(String) : listValue(this.value('supportedFanSpeeds'));
    const speeds = (declared.length > 0 ? declared : STANDARD_SPEEDS).filter((item) => !NOT_SPEEDS.has(item));
    if (speed && !NOT_SPEEDS.has(String(speed)) && !speeds.includes(String(speed))) speeds.push(String(speed));
    this.speeds.sync(this.canDo('setSpeed') ? speeds : [], speed);
    const on = this.isOn;
    setText(this.toggleText, on ? 'On' : 'Off');
    setAttr(this.toggle, 'aria-pressed', on ? 'true' : 'false');
    setAttr(this.toggle, 'aria-label', `${device.label}: turn ${on ? 'off' : 'on'}`);
    this.root.classList.toggle('is-on', on);
    this.setStatus(on ? `On${speed && speed !== 'on' ? ` · ${humanize(speed)}` : ''}` : 'Off', on ? 'active' : null);
  }

  #toggle() {
    const next = this.isOn ? 'off' : 'on';
    if (this.canDo(next)) this.send(next, [], { switch: next });
    else this.send('setSpeed', [next], { speed: next });
  }
}
