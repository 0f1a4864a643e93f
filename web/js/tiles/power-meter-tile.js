import { el, setHidden, setText } from '../dom.js';
import { formatPower } from '../format.js';
import { BaseTile } from './base-tile.js';

/** Power in W or kW, with energy and voltage when reported. */
export class PowerMeterTile extends BaseTile {
  static icon = 'meter';

  buildBody(body) {
    this.powerNode = el('span', { className: 'big-value' });
    this.energyNode = el('span', { className: 'readout', attrs: { hidden: true } });
    this.voltageNode = el('span', { className: 'readout', attrs: { hidden: true } });
    body.append(
      el('div', { className: 'row' }, [this.powerNode]),
      el('div', { className: 'row readouts' }, [this.energyNode, this.voltageNode]),
    );
  }

  patch() {
    const power = this.value('power');
    setText(this.powerNode, typeof power === 'number' ? formatPower(power) : (this.device.attributes?.power?.raw ?? '--'));
    const energy = this.value('energy');
    setHidden(this.energyNode, typeof energy !== 'number');
    if (typeof energy === 'number') setText(this.energyNode, `${energy.toFixed(1)} kWh`);
    const voltage = this.value('voltage');
    setHidden(this.voltageNode, typeof voltage !== 'number');
    if (typeof voltage === 'number') setText(this.voltageNode, `${Math.round(voltage)} V`);
    const drawing = typeof power === 'number' && power > 1;
    this.root.classList.toggle('is-on', drawing);
    this.setStatus(drawing ? 'Drawing power' : 'Idle', drawing ? 'active' : null);
  }
}
