// Picks the tile class for a device's kind.

import { ButtonTile } from './button-tile.js';
import { ColorLightTile } from './color-light-tile.js';
import { DimmerTile } from './dimmer-tile.js';
import { FanTile } from './fan-tile.js';
import { GarageDoorTile } from './garage-door-tile.js';
import { GenericTile } from './generic-tile.js';
import { LockTile } from './lock-tile.js';
import { MediaTile } from './media-tile.js';
import { PowerMeterTile } from './power-meter-tile.js';
import { SensorTile } from './sensor-tile.js';
import { ShadeTile } from './shade-tile.js';
import { SmokeCoTile } from './smoke-co-tile.js';
import { LightTile, SwitchTile } from './switch-tile.js';
import { ThermostatTile } from './thermostat-tile.js';
import { ValveTile } from './valve-tile.js';

export const TILE_CLASSES = Object.freeze({
  thermostat: ThermostatTile,
  lock: LockTile,
  garage_door: GarageDoorTile,
  shade: ShadeTile,
  fan: FanTile,
  valve: ValveTile,
  smoke_co: SmokeCoTile,
  media: MediaTile,
  color_light: ColorLightTile,
  dimmer: DimmerTile,
  button: ButtonTile,
  sensor: SensorTile,
  power_meter: PowerMeterTile,
  switch: SwitchTile,
  light: LightTile,
  generic: GenericTile,
});

export class DeviceFactory {
  #context;

  constructor(context) {
    this.#context = context;
  }

  create(device) {
    const TileClass = TILE_CLASSES[device.kind] ?? GenericTile;
    return new TileClass(device, this.#context).mount();
  }
}
