import { el, setHidden, setText } from '../dom.js';
import { formatPower, formatPercent, humanize } from '../format.js';
import { BaseTile } from './base-tile.js';
import { ChoiceGroup, listValue } from './choice-group.js';
import { RoundSlider } from './round-slider.js';

const DEFAULT_MODES = ['heat', 'cool', 'auto', 'off'];
// Setpoint ranges that cover residential thermostats, in the display unit.
const RANGE = { F: [50, 90], C: [10, 32] };

/** Current temperature, a round setpoint dial with ± buttons, modes, fan modes. */
export class ThermostatTile extends BaseTile {
  static icon = 'thermostat';

  buildBody(body) {
    const { signal } = this.listeners;
    this.temperatureNode = el('span', { className: 'big-value' });
    this.humidityNode = el('span', { className: 'readout', attrs: { hidden: true } });
    this.powerNode = el('span', { className: 'readout power', attrs: { hidden: true } });
    this.dial = new RoundSlider({
      label: 'Setpoint',
      min: 50,
      max: 90,
      step: 1,
      signal,
      onPreview: (value) => this.context.units.label(value),
      onCommit: (value) => this.#setSetpoint(value),
    });
    this.minus = this.button('', {
      iconName: 'minus',
      label: 'Lower setpoint',
      className: 'btn round',
      onClick: () => this.#nudge(-1),
    });
    this.plus = this.button('', {
      iconName: 'plus',
      label: 'Raise setpoint',
      className: 'btn round',
      onClick: () => this.#nudge(1),
    });
    this.setpointsNode = el('span', { className: 'readout setpoints' });
    this.modes = new ChoiceGroup({
      label: 'Thermostat mode',
      signal,
      onChoose: (mode) => this.send('setThermostatMode', [mode], { thermostatMode: mode }),
    });
    this.fanModes = new ChoiceGroup({
      label: 'Fan mode',
      signal,
      className: 'choices small',
      onChoose: (mode) =>
        this.send('setThermostatFanMode', [mode], { thermostatFanMode: mode }),
    });
    body.append(
      el('div', { className: 'row' }, [this.temperatureNode, this.humidityNode, this.powerNode]),
      el('div', { className: 'row dial-row' }, [this.minus, this.dial.root, this.plus]),
      this.setpointsNode,
      this.modes.root,
      this.fanModes.root,
    );
  }

  patch(device) {
    const units = this.context.units;
    const displayUnit = units.displayUnit();
    this.dial.setRange(...RANGE[displayUnit]);
    setText(this.temperatureNode, units.format(this.value('temperature'), this.unit('temperature')));
    const humidity = this.value('humidity');
    setHidden(this.humidityNode, typeof humidity !== 'number');
    if (typeof humidity === 'number') setText(this.humidityNode, `${formatPercent(humidity)} RH`);
    const power = this.value('power');
    setHidden(this.powerNode, typeof power !== 'number');
    if (typeof power === 'number') setText(this.powerNode, formatPower(power));

    const mode = this.value('thermostatMode');
    const modes = listValue(this.value('supportedThermostatModes'));
    const modeList = modes.length > 0 ? modes : DEFAULT_MODES;
    // A current mode outside the advertised list (e.g. "dry") is still shown and selectable.
    if (mode && !modeList.includes(String(mode))) modeList.push(String(mode));
    this.modes.sync(modeList, mode);
    const fanModes = listValue(this.value('supportedThermostatFanModes'));
    const fanMode = this.value('thermostatFanMode');
    if (fanMode && fanModes.length > 0 && !fanModes.includes(String(fanMode))) fanModes.push(String(fanMode));
    this.fanModes.sync(fanModes, fanMode);
    setHidden(this.fanModes.root, fanModes.length === 0);

    const target = this.#activeSetpoint();
    const shown = target ? units.toDisplay(this.value(target), this.unit(target)) : null;
    this.dial.setValue(shown, shown === null ? '--' : units.label(shown));
    const off = mode === 'off';
    this.minus.disabled = off || !target;
    this.plus.disabled = off || !target;
    const heat = units.format(this.value('heatingSetpoint'), this.unit('heatingSetpoint'));
    const cool = units.format(this.value('coolingSetpoint'), this.unit('coolingSetpoint'));
    setText(
      this.setpointsNode,
      [heat && `Heat ${heat}`, cool && `Cool ${cool}`].filter(Boolean).join(' · '),
    );
    const operating = this.value('thermostatOperatingState');
    const active = operating === 'heating' || operating === 'cooling';
    this.setStatus(
      [humanize(mode ?? 'unknown'), operating ? humanize(operating) : null].filter(Boolean).join(' · '),
      operating === 'heating' ? 'heat' : operating === 'cooling' ? 'cool' : null,
    );
    this.root.classList.toggle('is-on', active);
  }

  /** The setpoint attribute the dial edits: by mode, or the nearer one in auto. */
  #activeSetpoint() {
    const mode = this.value('thermostatMode');
    const heat = this.has('heatingSetpoint') ? 'heatingSetpoint' : null;
    const cool = this.has('coolingSetpoint') ? 'coolingSetpoint' : null;
    if (mode === 'cool') return cool ?? heat;
    if (mode === 'heat' || mode === 'emergency heat') return heat ?? cool;
    const temperature = this.value('temperature');
    const coolValue = this.value('coolingSetpoint');
    if (cool && typeof temperature === 'number' && typeof coolValue === 'number') {
      return temperature >= coolValue - 1 ? cool : (heat ?? cool);
    }
    return heat ?? cool ?? (this.has('thermostatSetpoint') ? 'thermostatSetpoint' : null);
  }

  #nudge(direction) {
    const target = this.#activeSetpoint();
    if (!target) return;
    const units = this.context.units;
    const current = units.toDisplay(this.value(target), this.unit(target));
    if (current === null) return;
    const step = units.displayUnit() === 'C' ? 0.5 : 1;
    // Snap to the step grid first: 23.9 °C goes up to 24 and down to 23.5.
    const snapped = direction > 0 ? Math.floor(current / step) * step : Math.ceil(current / step) * step;
    this.#setSetpoint(snapped + direction * step);
  }

  #setSetpoint(displayValue) {
    const target = this.#activeSetpoint();
    if (!target) return;
    const units = this.context.units;
    const deviceValue = units.toDevice(displayValue, this.unit(target));
    const command = target === 'coolingSetpoint' ? 'setCoolingSetpoint' : 'setHeatingSetpoint';
    const sent = this.canDo(command) || !this.canDo('setThermostatSetpoint') ? command : 'setThermostatSetpoint';
    this.send(sent, [deviceValue], { [target]: deviceValue });
  }
}
