// The Settings page, addressable as #/settings/<tab>. It replaces the tile grid while shown
// and gives each tab its own container; tabs marked admin are hidden from other users.

import { el, setHidden } from './dom.js';
import { AboutTab } from './settings/about-tab.js';
import { AppearanceTab } from './settings/appearance-tab.js';
import { SETTINGS_API } from './settings/common.js';
import { DevicesTab } from './settings/devices-tab.js';
import { HubsTab } from './settings/hubs-tab.js';
import { SecurityTab } from './settings/security-tab.js';
import { SensorsTab } from './settings/sensors-tab.js';

const ROUTE = /^#\/settings(?:\/([\w-]+))?$/;
const TABS = [
  { id: 'hubs', label: 'Hubs', admin: true },
  { id: 'appearance', label: 'Appearance', admin: false },
  { id: 'sensors', label: 'Sensors', admin: false },
  { id: 'devices', label: 'Devices', admin: false },
  { id: 'security', label: 'Security', admin: false },
  { id: 'about', label: 'About', admin: false },
];

export class SettingsPage {
  #doc;
  #deps;
  #root;
  #nav;
  #body;
  #links = new Map();
  #tab = null;
  #tabId = null;
  #role = null;
  #events = null;
  #listeners = new AbortController();

  /** `deps`: `api` (ApiClient), `preferences`, and `openAppearance()` for the dialog. */
  constructor(doc, deps) {
    this.#doc = doc;
    this.#deps = deps;
    this.#nav = el('nav', { className: 'settings-tabs', attrs: { 'aria-label': 'Settings' } });
    this.#body = el('div', { className: 'settings-body' });
    this.#root = el('section', { className: 'settings-page', attrs: { id: 'settings-page', hidden: true, 'aria-labelledby': 'settings-page-title' } }, [
      el('header', { className: 'row settings-head' }, [
        el('h2', { text: 'Settings', attrs: { id: 'settings-page-title' } }),
        el('a', { className: 'btn', text: 'Back to the dashboard', attrs: { href: '#/' } }),
      ]),
      this.#nav,
      this.#body,
    ]);
    for (const tab of TABS) {
      const link = el('a', { className: 'settings-tab', text: tab.label, attrs: { href: `#/settings/${tab.id}`, 'data-tab': tab.id } });
      this.#links.set(tab.id, link);
      this.#nav.append(link);
    }
    const main = doc.querySelector('#main');
    main.after(this.#root);
    doc.defaultView.addEventListener('hashchange', () => this.route(), { signal: this.#listeners.signal });
  }

  get isAdmin() {
    return this.#role === 'admin';
  }

  async route() {
    const match = ROUTE.exec(this.#doc.location.hash);
    if (!match) {
      this.#hide();
      return;
    }
    await this.#loadRole();
    const visible = TABS.filter((tab) => !tab.admin || this.isAdmin);
    for (const tab of TABS) setHidden(this.#links.get(tab.id), !visible.includes(tab));
    const wanted = visible.find((tab) => tab.id === match[1]) ?? visible[0];
    this.#show(wanted.id);
  }

  destroy() {
    this.#hide();
    this.#listeners.abort();
    this.#root.remove();
  }

  #show(tabId) {
    setHidden(this.#doc.querySelector('#main'), true);
    setHidden(this.#root, false);
    for (const [id, link] of this.#links) {
      if (id === tabId) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
    if (this.#tabId === tabId && this.#tab) return;
    this.#tab?.destroy();
    this.#tabId = tabId;
    this.#tab = this.#makeTab(tabId);
    this.#tab.render();
    this.#openEvents();
  }

  #hide() {
    this.#tab?.destroy();
    this.#tab = null;
    this.#tabId = null;
    this.#events?.close();
    this.#events = null;
    setHidden(this.#root, true);
    const main = this.#doc.querySelector('#main');
    if (main) setHidden(main, false);
  }

  #makeTab(tabId) {
    const { api, preferences, openAppearance, confirm, sensorsSaved } = this.#deps;
    const container = this.#body;
    switch (tabId) {
      case 'hubs':
        return new HubsTab(container, api, confirm);
      case 'appearance':
        return new AppearanceTab(container, { openDialog: openAppearance });
      case 'sensors':
        return new SensorsTab(container, { api, preferences, onSaved: sensorsSaved });
      case 'devices':
        return new DevicesTab(container, { api, preferences, isAdmin: () => this.isAdmin });
      case 'security':
        return new SecurityTab(container, api);
      default:
        return new AboutTab(container, api);
    }
  }

  // Hub health arrives as `hub` events; the Hubs tab patches its rows with them.
  #openEvents() {
    if (this.#events || this.#tabId !== 'hubs') return;
    const source = new EventSource(SETTINGS_API.EVENTS, { withCredentials: true });
    source.addEventListener('hub', (event) => {
      try {
        this.#tab?.onHubEvent?.(JSON.parse(event.data));
      } catch {
        // A malformed event changes nothing on the page.
      }
    });
    source.addEventListener('resync', () => {
      if (this.#tab instanceof HubsTab) this.#tab.reload();
    });
    this.#events = source;
  }

  async #loadRole() {
    if (this.#role) return;
    try {
      const session = await this.#deps.api.get(SETTINGS_API.SESSION, { allowStatus: [404] });
      this.#role = session?.user?.role ?? 'user';
    } catch {
      this.#role = 'user';
    }
  }
}
