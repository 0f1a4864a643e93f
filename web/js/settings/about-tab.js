// Settings → About: version, uptime, database, hub and client counts from /api/status.

import { el } from '../dom.js';
import { SETTINGS_API, formatBytes, formatDuration } from './common.js';

export class AboutTab {
  #container;
  #api;
  #generation = 0;

  constructor(container, api) {
    this.#container = container;
    this.#api = api;
  }

  async render() {
    this.destroy();
    const generation = ++this.#generation;
    const list = el('dl', { className: 'settings-facts' });
    this.#container.replaceChildren(el('section', { className: 'settings-section' }, [el('h3', { text: 'About' }), list]));
    try {
      const status = await this.#api.get(SETTINGS_API.STATUS);
      if (generation !== this.#generation) return;
      const database = status.database ?? {};
      const hubs = status.hubs ?? {};
      const facts = [
        ['Version', status.version],
        ['Uptime', formatDuration(status.uptimeS)],
        ['Database', database.path ?? database.backend ?? 'unknown'],
        ['Database size', formatBytes(database.sizeBytes)],
        ['Hubs', `${hubs.total ?? 0} (${hubs.online ?? 0} online, ${hubs.degraded ?? 0} degraded, ${hubs.offline ?? 0} offline)`],
        ['Devices', status.devices],
        ['Open dashboards', status.sseClients],
      ];
      list.replaceChildren(...facts.flatMap(([term, value]) => [el('dt', { text: term }), el('dd', { text: value ?? '' })]));
    } catch (err) {
      if (generation === this.#generation) list.replaceChildren(el('dd', { text: `Loading the status failed: ${err.message}` }));
    }
  }

  destroy() {
    this.#generation += 1;
    this.#container.replaceChildren();
  }
}
