import { el, setHidden, setInputValue, setText } from '../dom.js';
import { DimmerTile } from './dimmer-tile.js';

const KELVIN_MIN = 2000;
const KELVIN_MAX = 6500;

/** Dimmer plus color temperature and a hue/saturation picker on the device's hue scale. */
export class ColorLightTile extends DimmerTile {
  static icon = 'palette';

  buildBody(body) {
    super.buildBody(body);
    this.hueMax = this.device.hueScale === 360 ? 360 : 100;
    this.ctText = el('span', { className: 'readout' });
    this.ct = this.slider({
      label: 'Color temperature',
      min: KELVIN_MIN,
      max: KELVIN_MAX,
      step: 50,
      onPreview: (kelvin) => setText(this.ctText, `${kelvin} K`),
      onCommit: (kelvin) => this.send('setColorTemperature', [kelvin], { colorTemperature: kelvin }),
    });
    this.ctRow = el('label', { className: 'row slider-row' }, [this.ct, this.ctText]);
    this.swatch = el('span', { className: 'swatch', attrs: { 'aria-hidden': 'true' } });
    this.hue = this.slider({
      label: `Hue (0 to ${this.hueMax})`,
      min: 0,
      max: this.hueMax,
      onPreview: () => this.#paintSwatch(),
      onCommit: (hue) => this.#setHue(hue),
    });
    this.hue.classList.add('hue-slider');
    this.saturation = this.slider({
      label: 'Saturation',
      min: 0,
      max: 100,
      onPreview: () => this.#paintSwatch(),
      onCommit: (saturation) => this.#setSaturation(saturation),
    });
    this.colorRows = el('div', { className: 'color-rows' }, [
      el('label', { className: 'row slider-row' }, [this.hue, this.swatch]),
      el('label', { className: 'row slider-row' }, [this.saturation]),
    ]);
    body.append(this.ctRow, this.colorRows);
  }

  patch(device, name) {
    super.patch(device, name);
    const kelvin = this.value('colorTemperature');
    const hasCt = typeof kelvin === 'number' || this.canDo('setColorTemperature');
    setHidden(this.ctRow, !hasCt);
    if (typeof kelvin === 'number') {
      setInputValue(this.ct, kelvin);
      setText(this.ctText, `${Math.round(kelvin)} K`);
    }
    const hasColor = this.has('hue') || this.canDo('setHue') || this.canDo('setColor');
    setHidden(this.colorRows, !hasColor);
    const hue = this.value('hue');
    const saturation = this.value('saturation');
    if (typeof hue === 'number') setInputValue(this.hue, hue);
    if (typeof saturation === 'number') setInputValue(this.saturation, saturation);
    this.#paintSwatch();
  }

  #paintSwatch() {
    const degrees = (Number(this.hue.value) / this.hueMax) * 360;
    this.swatch.style.setProperty('--swatch-hue', `${Math.round(degrees)}`);
    this.swatch.style.setProperty('--swatch-sat', `${Number(this.saturation.value)}%`);
  }

  #setHue(hue) {
    if (this.canDo('setHue')) {
      this.send('setHue', [hue], { hue });
    } else {
      const saturation = Number(this.saturation.value);
      this.send('setColor', [JSON.stringify({ hue, saturation, level: this.value('level') ?? 100 })], {
        hue,
      });
    }
  }

  #setSaturation(saturation) {
    if (this.canDo('setSaturation')) {
      this.send('setSaturation', [saturation], { saturation });
    } else {
      const hue = Number(this.hue.value);
      this.send('setColor', [JSON.stringify({ hue, saturation, level: this.value('level') ?? 100 })], {
        saturation,
      });
    }
  }
}
