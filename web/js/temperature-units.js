// Temperature display: values are stored in the hub's unit and converted for display to the
// unit the user picked (appearance/temperatureUnit), defaulting to the server's scale.

import { convertTemperature, roundTemperature, temperatureUnitOf } from './format.js';

export class TemperatureUnits {
  #preferences;
  #hubScale;

  constructor(preferences, hubScale = 'F') {
    this.#preferences = preferences;
    this.#hubScale = hubScale === 'C' ? 'C' : 'F';
  }

  set hubScale(scale) {
    this.#hubScale = scale === 'C' ? 'C' : 'F';
  }

  displayUnit() {
    const chosen = this.#preferences.get('appearance', 'temperatureUnit', null);
    return chosen === 'C' || chosen === 'F' ? chosen : this.#hubScale;
  }

  /** Returns the unit of a reading: its own unit when it has one, else the hub scale. */
  sourceUnit(unit) {
    return temperatureUnitOf(unit) ?? this.#hubScale;
  }

  toDisplay(value, unit) {
    const converted = convertTemperature(value, this.sourceUnit(unit), this.displayUnit());
    return converted === null ? null : roundTemperature(converted, this.displayUnit());
  }

  /**
   * Converts a value picked on screen back to the device's unit for a command. A converted
   * value keeps one decimal, so a 0.5 °C step does not become a whole °F and back.
   */
  toDevice(displayValue, unit) {
    const target = this.sourceUnit(unit);
    if (target === this.displayUnit()) return roundTemperature(displayValue, target);
    return Math.round(convertTemperature(displayValue, this.displayUnit(), target) * 10) / 10;
  }

  label(displayValue) {
    return `${displayValue}°${this.displayUnit()}`;
  }

  /** Formats a reading for display, e.g. 72 '°F' -> '22.2°C' when the user picked °C. */
  format(value, unit) {
    const shown = this.toDisplay(value, unit);
    return shown === null ? '' : this.label(shown);
  }
}
