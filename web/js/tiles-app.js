// The orchestrator: paints the cached device list, loads the live one, opens the event
// stream and routes each server event to the state store, the tiles and the preferences.

import { ApiClient } from './api-client.js';
import { BackgroundManager, BACKGROUND_CATEGORY } from './background-manager.js';
import { CommandTracker } from './command-tracker.js';
import { API, CLIENT_EVENTS, DEFAULT_SETTINGS, SSE_EVENTS, STREAM_STATES } from './constants.js';
import { DataCacheManager } from './data-cache-manager.js';
import { DeviceStateManager } from './device-state-manager.js';
import { EventStream } from './event-stream.js';
import { PreferenceManager } from './preference-manager.js';
import { SectionManager } from './section-manager.js';
import { SettingsPanel } from './settings-panel.js';
import { SettingsPage } from './settings-page.js';
import { TemperatureUnits } from './temperature-units.js';
import { DeviceFactory } from './tiles/device-factory.js';
import { UIManager } from './ui-manager.js';

const APPEARANCE = 'appearance';
const LAYOUT_CATEGORIES = new Set(['devices', 'sections']);

export class TilesApp {
  #doc;
  #bench;
  #stream = null;
  #snapshotLoads = 0;
  #buffer = null;
  #unsubscribers = [];
  #started = false;

  /** `bench: true` records performance measures for the front-end benchmarks. */
  constructor(doc = document, { bench = false } = {}) {
    this.#doc = doc;
    this.#bench = bench;
    this.api = new ApiClient();
    this.state = new DeviceStateManager();
    this.cache = new DataCacheManager();
    this.preferences = new PreferenceManager(this.api);
    this.backgrounds = new BackgroundManager(this.api);
    this.units = new TemperatureUnits(this.preferences, DEFAULT_SETTINGS.temperatureScale);
    this.ui = new UIManager(doc);

    this.commands = new CommandTracker({ api: this.api, state: this.state, ui: this.ui });
    this.factory = new DeviceFactory({
      state: this.state,
      commands: this.commands,
      ui: this.ui,
      units: this.units,
      backgrounds: this.backgrounds,
    });

    this.sections = new SectionManager(doc, {
      state: this.state,
      factory: this.factory,
      preferences: this.preferences,
      backgrounds: this.backgrounds,
      units: this.units,
      commands: this.commands,
      ui: this.ui,
    });
    this.settingsPanel = new SettingsPanel(doc, {
      preferences: this.preferences,
      backgrounds: this.backgrounds,
      ui: this.ui,
      sections: () => this.sections.sections(),
    });
    this.settingsPage = new SettingsPage(doc, {
      api: this.api,
      preferences: this.preferences,
      openAppearance: () => this.settingsPanel.open(),
      confirm: (message, actionText) => this.ui.confirm(message, actionText),
      sensorsSaved: () => this.loadSensors(),
    });
    this.ui.attach(this);
  }

  async start() {
    if (this.#started) return;
    this.#started = true;
    this.#unsubscribers.push(
      this.api.on(CLIENT_EVENTS.UNAUTHORIZED, (detail) => this.#doc.dispatchEvent(new CustomEvent('tiles:unauthorized', { detail }))),
      this.preferences.on(CLIENT_EVENTS.CHANGE, (change) => this.#onPreferenceChange(change)),
      this.backgrounds.on(CLIENT_EVENTS.CHANGE, ({ uid }) => this.sections.applyBackgrounds(uid)),
    );
    this.ui.applyAppearance(this.preferences);

    // The cached list paints at once; without one the page starts empty on the right section.
    const cached = this.cache.load();
    if (cached) this.state.replaceAll(cached);
    this.sections.route();
    this.settingsPage.route();

    const settings = await this.#loadSettings();
    this.units.hubScale = settings.temperatureScale;
    this.commands.timeoutMs = settings.commandConfirmTimeoutS * 1000;

    this.#stream = new EventStream(API.EVENTS, { heartbeatMs: settings.sseHeartbeatS * 1000 });
    this.#unsubscribers.push(
      this.#stream.on(CLIENT_EVENTS.STATE, (detail) => this.#onStreamState(detail)),
      this.#stream.on(CLIENT_EVENTS.MESSAGE, (message) => this.#onMessage(message)),
      this.#stream.on(CLIENT_EVENTS.UNAUTHORIZED, (detail) => this.#doc.dispatchEvent(new CustomEvent('tiles:unauthorized', { detail }))),
    );
    this.#stream.open();
    await Promise.all([
      this.refreshSnapshot(),
      this.preferences.load().then(() => this.sections.sectionsLoaded()),
      this.backgrounds.load(),
      this.#loadHubs(),
      this.loadSensors(),
    ]);
  }

  /** Loads the user's indoor and outdoor temperature selections for the landing pills. */
  async loadSensors() {
    try {
      const reply = await this.api.get(API.SELECTIONS);
      const uids = (type) => new Set((reply?.selections?.[type] ?? []).map((item) => item?.uid));
      this.sections.setSensors({ indoor: uids('temperature_indoor'), outdoor: uids('temperature_outdoor') });
    } catch (err) {
      console.warn('loading the temperature sensor selections failed', err);
    }
  }

  /** Re-fetches every device; events that arrive meanwhile are applied after it. */
  async refreshSnapshot() {
    this.#snapshotLoads += 1;
    this.#buffer ??= [];
    try {
      const reply = await this.api.get(API.DEVICES);
      const devices = unwrap(reply, 'devices');
      if (!Array.isArray(devices)) throw new Error('the device list is not a list');
      if (this.#bench) performance.mark('tiles:snapshot');
      const diff = DataCacheManager.diff(this.state.all(), devices);
      this.state.replaceAll(devices);
      if (diff.structural) this.sections.rebuild(diff);
      if (this.#bench) {
        performance.measure('tiles:first-render', 'tiles:snapshot');
        // A task queued from the next animation frame runs after that frame is painted.
        requestAnimationFrame(() => {
          setTimeout(() => performance.measure('tiles:first-frame', 'tiles:snapshot'), 0);
        });
      }
      this.cache.save(devices);
    } catch (err) {
      console.warn('device list could not be loaded', err.message);
      if (this.state.size === 0) this.ui.toast(`Devices could not be loaded. ${err.message}`, 'error');
    } finally {
      this.#snapshotLoads -= 1;
      if (this.#snapshotLoads === 0) {
        const buffered = this.#buffer ?? [];
        this.#buffer = null;
        for (const message of buffered) this.#apply(message);
      }
    }
  }

  close() {
    this.#stream?.close();
    for (const unsubscribe of this.#unsubscribers) unsubscribe();
    this.#unsubscribers = [];
    this.preferences.close();
    this.commands.clear();
    this.sections.destroy();
    this.settingsPage.destroy();
    this.settingsPanel.destroy();
    this.ui.destroy();
  }

  async #loadSettings() {
    try {
      const reply = await this.api.get(API.SETTINGS, { allowStatus: [404] });
      const settings = reply?.status === 404 ? {} : unwrap(reply, 'settings') ?? {};
      return {
        temperatureScale: settings.temperatureScale === 'C' ? 'C' : DEFAULT_SETTINGS.temperatureScale,
        sseHeartbeatS: positive(settings.sseHeartbeatS, DEFAULT_SETTINGS.sseHeartbeatS),
        commandConfirmTimeoutS: positive(settings.commandConfirmTimeoutS, DEFAULT_SETTINGS.commandConfirmTimeoutS),
      };
    } catch {
      return { ...DEFAULT_SETTINGS };
    }
  }

  async #loadHubs() {
    const [hubs, modes, hsm] = await Promise.allSettled([
      this.api.get(API.HUBS),
      this.api.get(API.MODES),
      this.api.get(API.HSM),
    ]);
    if (hubs.status === 'fulfilled') {
      const list = unwrap(hubs.value, 'hubs');
      if (Array.isArray(list)) {
        for (const hub of list) this.state.updateHub(hub);
        this.sections.setHubs(list);
      }
    }
    if (modes.status === 'fulfilled') {
      for (const [hubId, list] of Object.entries(unwrap(modes.value, 'modes') ?? {})) this.sections.setModes(hubId, list);
    }
    if (hsm.status === 'fulfilled') {
      for (const [hubId, status] of Object.entries(unwrap(hsm.value, 'hsm') ?? {})) this.sections.setHsm(hubId, status);
    }
  }

  #onStreamState(detail) {
    this.ui.setConnection(detail);
    this.#doc.documentElement.dataset.stream = detail.state;
    // A fresh stream (no resume point) may have missed events since the last snapshot.
    if (detail.state === STREAM_STATES.OPEN && !detail.resumed && this.#snapshotLoads === 0 && this.state.size > 0) {
      this.refreshSnapshot();
    }
  }

  #onMessage(message) {
    if (this.#buffer && message.type === SSE_EVENTS.DEVICE) {
      this.#buffer.push(message);
      return;
    }
    this.#apply(message);
  }

  #apply({ type, data }) {
    if (!data || typeof data !== 'object') {
      if (type === SSE_EVENTS.RESYNC) this.#resync();
      return;
    }
    switch (type) {
      case SSE_EVENTS.DEVICE:
        this.#applyDevice(data);
        break;
      case SSE_EVENTS.HUB:
        this.state.updateHub(data);
        this.sections.updateHub(data);
        break;
      case SSE_EVENTS.MODE:
        if (typeof data.hubId === 'string') this.sections.setModes(data.hubId, data.modes);
        break;
      case SSE_EVENTS.HSM:
        if (typeof data.hubId === 'string') this.sections.setHsm(data.hubId, data.status, data.alert);
        break;
      case SSE_EVENTS.PREFERENCES:
        if (data.category === BACKGROUND_CATEGORY) this.backgrounds.applyRemote(data);
        else this.preferences.applyRemote(data);
        break;
      case SSE_EVENTS.RESYNC:
        this.#resync();
        break;
      default:
        break;
    }
  }

  #applyDevice(event) {
    if (typeof event.uid !== 'string' || typeof event.name !== 'string') return;
    const start = this.#bench ? performance.now() : 0;
    const attribute = { value: event.value, raw: event.raw, unit: event.unit };
    const previous = this.state.updateAttribute(event.uid, event.name, attribute, {
      ts: event.ts ?? null,
    });
    this.commands.confirm(event.uid, event.name, attribute);
    this.sections.onDeviceChanged(event.uid);
    if (this.#bench && previous !== undefined) {
      performance.measure('tiles:event-to-patch', { start, end: performance.now() });
    }
  }

  #resync() {
    this.refreshSnapshot();
    this.#loadHubs();
    this.loadSensors();
  }

  #onPreferenceChange({ category }) {
    if (category === APPEARANCE) {
      this.ui.applyAppearance(this.preferences);
      // The temperature unit may have changed: re-patch every tile.
      this.state.notifyAll();
      this.sections.onDeviceChanged();
    } else if (LAYOUT_CATEGORIES.has(category)) {
      this.sections.render();
    }
  }
}

/** Returns `reply[key]` for a wrapped reply such as {"devices": [...]}, else the reply itself. */
function unwrap(reply, key) {
  if (reply && typeof reply === 'object' && !Array.isArray(reply) && key in reply) return reply[key];
  return reply;
}

function positive(value, fallback) {
  return typeof value === 'number' && value > 0 ? value : fallback;
}
