// Navigation between the landing page and the device sections, the tile grids, search and
// the edit mode (hide devices, reorder tiles). Sections are addressable as #/section/<id>.

import { SELECTORS } from './constants.js';
import { BUILT_IN_SECTIONS, DeviceSectionizer } from './device-sectionizer.js';
import { el, icon, setAttr, setHidden, setText } from './dom.js';
import { computeStats, statPills } from './section-stats.js';
import { HsmTile, ModeTile } from './tiles/hub-tiles.js';

const HOME = 'home';
const ROUTE = /^#\/section\/([\w-]+)$/;
const NOT_CONFIGURED = {
  cameras: 'Cameras are not configured. Add a MediaMTX server under Settings to see them here.',
  environment: 'History charts are not configured yet; current readings are shown below.',
};

export class SectionManager {
  #doc;
  #deps;
  #main;
  #nav;
  #search;
  #editButton;
  #tiles = new Map();
  #hubTiles = new Map();
  // Ids from the last hub list, or null before the first one arrived.
  #hubIds = null;
  // The user's temperature sensor selections: { indoor, outdoor } Sets of uids.
  #sensors = {};
  #current = null;
  #grid = null;
  #cards = new Map();
  #statsFrame = 0;
  #editing = false;
  #listeners = new AbortController();
  #resizeObserver = null;
  #dragUid = null;
  #editBars = new Map();
  #sectionsLoaded = false;

  /** `deps`: state, factory, preferences, backgrounds, units, commands, ui. */
  constructor(doc, deps) {
    this.#doc = doc;
    this.#deps = deps;
    this.#main = doc.querySelector(SELECTORS.MAIN);
    this.#nav = doc.querySelector(SELECTORS.NAV);
    this.#search = doc.querySelector(SELECTORS.SEARCH);
    this.#editButton = doc.querySelector(SELECTORS.EDIT_BUTTON);
    const { signal } = this.#listeners;
    window.addEventListener('hashchange', () => this.route(), { signal });
    this.#search.addEventListener('input', () => this.#onSearch(), { signal });
    this.#editButton.addEventListener('click', () => this.setEditing(!this.#editing), { signal });
    this.#resizeObserver = new ResizeObserver(() => this.#fitColumns());
    this.#resizeObserver.observe(this.#main);
  }

  get currentSection() {
    return this.#current;
  }

  get tileCount() {
    return this.#tiles.size;
  }

  sections() {
    const custom = this.#deps.preferences.get('sections', 'custom', []);
    const list = [
      ...BUILT_IN_SECTIONS,
      ...(Array.isArray(custom) ? custom : [])
        .filter((section) => section && typeof section.id === 'string' && typeof section.name === 'string')
        .map((section) => ({ ...section, id: `custom-${section.id}`, custom: true, icon: 'star' })),
    ];
    const order = this.#deps.preferences.get('sections', 'order', []);
    return sortByOrder(list, Array.isArray(order) ? order : [], (section) => section.id);
  }

  /**
   * Marks the custom sections as loaded from the server and re-routes a section URL, which
   * may name a custom section that the local copy did not have.
   */
  sectionsLoaded() {
    this.#sectionsLoaded = true;
    if (ROUTE.test(this.#doc.location?.hash ?? window.location.hash)) this.route();
  }

  /** Shows the section named by the URL hash, or the landing page. */
  route() {
    const match = ROUTE.exec(this.#doc.location?.hash ?? window.location.hash);
    const id = match ? match[1] : HOME;
    const known = this.sections().some((section) => section.id === id);
    this.#show(known ? id : HOME);
    // An unknown section (one deleted since a kiosk saved its URL) is reported once the
    // sections are loaded, and the URL becomes #/ so a reload shows Home without the notice.
    if (!known && match && this.#sectionsLoaded) {
      this.#deps.ui?.toast(`No section named "${id}" — showing Home`, 'warn');
      window.history.replaceState(window.history.state, '', '#/');
    }
    // A settings URL routes here as the landing page, so the nav is redrawn without a highlight.
    this.#renderNav();
  }

  /** Re-renders the current view, e.g. after a structural change or a preference change. */
  render() {
    this.#renderNav();
    this.#show(this.#current ?? HOME, true);
  }

  /** Drops tiles whose device went away or changed kind, then re-renders. */
  rebuild({ removed = [], changed = [] } = {}) {
    for (const uid of [...removed, ...changed]) {
      this.#editBars.get(uid)?.controller.abort();
      this.#editBars.delete(uid);
      this.#tiles.get(uid)?.destroy();
      this.#tiles.delete(uid);
    }
    this.render();
  }

  /** Schedules a refresh of the landing page pills; several events share one frame. */
  onDeviceChanged() {
    if (this.#current !== HOME || this.#statsFrame) return;
    this.#statsFrame = requestAnimationFrame(() => {
      this.#statsFrame = 0;
      this.#updateCards();
    });
  }

  /** Sets the configured hubs; the Mode and Security tiles of a removed hub go away. */
  setHubs(hubs) {
    const hadHubs = this.#hubIds === null || this.#hubIds.size > 0;
    this.#hubIds = new Set(hubs.map((hub) => hub.hubId));
    if (this.#current === HOME && hadHubs !== this.#hubIds.size > 0) this.render();
    for (const [hubId, { mode, hsm }] of this.#hubTiles) {
      if (this.#hubIds.has(hubId)) continue;
      mode.destroy();
      hsm.destroy();
      mode.root.remove();
      hsm.root.remove();
      this.#hubTiles.delete(hubId);
    }
    for (const hub of hubs) this.updateHub(hub);
  }

  updateHub(hub) {
    const tiles = this.#hubTilesFor(hub.hubId);
    tiles?.mode.setHub(hub);
    tiles?.hsm.setHub(hub);
  }

  setModes(hubId, modes) {
    this.#hubTilesFor(hubId)?.mode.setModes(modes);
  }

  setHsm(hubId, status, alert = undefined) {
    this.#hubTilesFor(hubId)?.hsm.setStatus(status, alert);
  }

  /** Sets the user's indoor and outdoor temperature sensors (Sets of uids, empty = automatic). */
  setSensors(sensors) {
    this.#sensors = sensors;
    this.onDeviceChanged();
  }

  setEditing(editing) {
    this.#editing = editing;
    if (!editing) {
      for (const { controller, bar } of this.#editBars.values()) {
        controller.abort();
        bar.remove();
      }
      this.#editBars.clear();
    }
    setAttr(this.#editButton, 'aria-pressed', editing ? 'true' : 'false');
    this.#doc.documentElement.classList.toggle('editing', editing);
    this.render();
  }

  destroy() {
    this.#listeners.abort();
    this.#resizeObserver.disconnect();
    if (this.#statsFrame) cancelAnimationFrame(this.#statsFrame);
    for (const tile of this.#tiles.values()) tile.destroy();
    this.#tiles.clear();
    for (const { mode, hsm } of this.#hubTiles.values()) {
      mode.destroy();
      hsm.destroy();
    }
    this.#hubTiles.clear();
  }

  // --- views --------------------------------------------------------------------------------

  #show(id, force = false) {
    if (id === this.#current && !force) return;
    this.#current = id;
    this.#cards.clear();
    if (id === HOME) this.#showHome();
    else this.#showSection(this.sections().find((section) => section.id === id));
    this.#renderNav();
    this.#applySearch();
    this.#fitColumns();
  }

  #renderNav() {
    const onSettings = (this.#doc.location?.hash ?? '').startsWith('#/settings');
    const items = [{ id: HOME, name: 'Home', icon: 'home' }, ...this.sections()];
    this.#nav.replaceChildren(
      ...items.map((section) => {
        const link = el('a', { className: 'nav-link', attrs: { href: section.id === HOME ? '#/' : `#/section/${section.id}`, 'data-section': section.id } }, [
          icon(section.icon ?? 'grid'),
          el('span', { text: section.name }),
        ]);
        if (section.id === this.#current && !onSettings) link.setAttribute('aria-current', 'page');
        return link;
      }),
    );
    // A narrow screen scrolls the nav sideways: keep the current item in view.
    this.#nav.querySelector('[aria-current]')?.scrollIntoView({ block: 'nearest', inline: 'nearest' });
  }

  #showHome() {
    const hubGrid = el('div', { className: 'grid hub-grid', attrs: { 'aria-label': 'Hub modes and security' } });
    for (const { mode, hsm } of this.#hubTiles.values()) hubGrid.append(mode.root, hsm.root);
    const landing = el('div', { className: 'grid fib-grid landing', attrs: { role: 'list', 'aria-label': 'Sections' } });
    const noHub = this.#hubIds?.size === 0 && this.#deps.state.size === 0;
    for (const section of noHub ? [] : this.sections()) {
      const count = el('span', { className: 'card-count' });
      const pills = el('span', { className: 'pills' });
      const card = el('a', { className: 'card', attrs: { href: `#/section/${section.id}`, role: 'listitem', 'data-section': section.id } }, [
        el('span', { className: 'card-head' }, [icon(section.icon ?? 'grid'), el('span', { className: 'card-name', text: section.name })]),
        count,
        pills,
      ]);
      this.#cards.set(section.id, { section, count, pills, card });
      landing.append(card);
    }
    this.#grid = landing;
    const heading = el('h2', { className: 'visually-hidden', text: 'Sections' });
    if (noHub) this.#main.replaceChildren(hubGrid, this.#noHubNotice(), landing);
    else this.#main.replaceChildren(hubGrid, heading, landing);
    this.#updateCards();
  }

  #noHubNotice() {
    const admin = this.#doc.documentElement.dataset.role === 'admin';
    const next = admin
      ? [el('a', { className: 'btn primary', text: 'Connect a hub in Settings', attrs: { href: '#/settings/hubs' } })]
      : [el('p', { text: 'Ask your admin to connect a Hubitat hub.' })];
    return el('div', { className: 'notice empty-state', attrs: { role: 'status' } }, [
      el('h2', { text: 'No hub is connected yet' }),
      el('p', { text: 'Tiles appear here once a Hubitat hub with Maker API is connected.' }),
      ...next,
    ]);
  }

  #updateCards() {
    const visible = this.#visibleDevices();
    for (const { section, count, pills, card } of this.#cards.values()) {
      const devices = DeviceSectionizer.devicesFor(section, visible);
      const note = NOT_CONFIGURED[section.id] && section.id === 'cameras';
      setText(count, note ? 'Not configured' : `${devices.length} device${devices.length === 1 ? '' : 's'}`);
      const list = note ? [] : statPills(computeStats(devices, this.#sensors), this.#deps.units);
      syncPills(pills, list);
      card.classList.toggle('has-alert', list.some((pill) => pill.tone === 'alert'));
      setAttr(card, 'aria-label', `${section.name}: ${count.textContent}${list.length ? `, ${list.map((pill) => pill.text).join(', ')}` : ''}`);
    }
  }

  #showSection(section) {
    const content = [el('h2', { className: 'section-title', text: section.name })];
    if (NOT_CONFIGURED[section.id]) content.push(el('p', { className: 'notice', text: NOT_CONFIGURED[section.id] }));
    const grid = el('div', { className: 'grid tile-grid', attrs: { 'data-section': section.id } });
    if (section.id === 'all') for (const { mode, hsm } of this.#hubTiles.values()) grid.append(mode.root, hsm.root);
    const hidden = new Set(this.#hiddenUids());
    const devices = this.#ordered(DeviceSectionizer.devicesFor(section, this.#deps.state.all()));
    const fragment = this.#doc.createDocumentFragment();
    for (const device of devices) {
      const isHidden = hidden.has(device.uid);
      if (isHidden && !this.#editing) continue;
      const tile = this.#tileFor(device);
      tile.root.classList.toggle('is-hidden', isHidden);
      this.#decorateForEdit(tile, isHidden);
      fragment.append(tile.root);
    }
    grid.append(fragment);
    if (devices.length === 0 && !NOT_CONFIGURED[section.id]) {
      content.push(el('p', { className: 'notice', text: 'No devices in this section.' }));
    }
    if (this.#editing) this.#listenForDrag(grid);
    this.#grid = grid;
    this.#main.replaceChildren(...content, grid);
  }

  #tileFor(device) {
    let tile = this.#tiles.get(device.uid);
    if (!tile) {
      tile = this.#deps.factory.create(device);
      this.#tiles.set(device.uid, tile);
    }
    this.#deps.backgrounds.apply(tile.root, device.uid);
    return tile;
  }

  /** Re-applies backgrounds after a change; `uid` null means every tile. */
  applyBackgrounds(uid = null) {
    for (const [tileUid, tile] of this.#tiles) {
      if (uid === null || uid === 'default' || uid === tileUid) this.#deps.backgrounds.apply(tile.root, tileUid);
    }
  }

  #visibleDevices() {
    const hidden = new Set(this.#hiddenUids());
    return this.#deps.state.all().filter((device) => !hidden.has(device.uid));
  }

  #hiddenUids() {
    const hidden = this.#deps.preferences.get('devices', 'hidden', []);
    return Array.isArray(hidden) ? hidden : [];
  }

  #ordered(devices) {
    const order = this.#deps.preferences.get('devices', 'order', []);
    return sortByOrder(devices, Array.isArray(order) ? order : [], (device) => device.uid);
  }

  #fitColumns() {
    if (!this.#grid || !this.#grid.classList.contains('fib-grid')) return;
    const width = this.#main.clientWidth;
    const columns = DeviceSectionizer.columns(width, this.#grid.childElementCount, 180);
    this.#grid.style.setProperty('--cols', String(columns));
    this.#grid.dataset.columns = String(columns);
  }

  // --- search -------------------------------------------------------------------------------

  #onSearch() {
    if (this.#current === HOME && this.#search.value.trim()) {
      window.location.hash = '#/section/all';
      return;
    }
    this.#applySearch();
  }

  #applySearch() {
    if (this.#current === HOME) return;
    const query = this.#search.value.trim();
    for (const node of this.#grid?.children ?? []) {
      const tile = this.#tiles.get(node.dataset.uid);
      // Mode and security tiles are not devices: a search hides them.
      if (!tile) setHidden(node, query !== '');
      else setHidden(node, !DeviceSectionizer.matchesSearch(tile.device, query));
    }
    const matches = [...(this.#grid?.children ?? [])].some((node) => !node.hidden);
    let notice = this.#main.querySelector('.search-empty');
    if (query === '' || matches || !this.#grid) {
      notice?.remove();
      return;
    }
    notice ??= el('p', { className: 'notice search-empty', attrs: { role: 'status' } });
    setText(notice, `No devices match “${query}”.`);
    if (!notice.isConnected) this.#grid.before(notice);
  }

  // --- edit mode ----------------------------------------------------------------------------

  #decorateForEdit(tile, isHidden) {
    const old = this.#editBars.get(tile.uid);
    if (old) {
      old.controller.abort();
      old.bar.remove();
      this.#editBars.delete(tile.uid);
    }
    tile.root.draggable = this.#editing;
    if (!this.#editing) return;
    const label = tile.device.label;
    const controller = new AbortController();
    const signal = controller.signal;
    const bar = el('div', { className: 'edit-bar' });
    this.#editBars.set(tile.uid, { controller, bar });
    const hide = el('button', { className: 'btn small', text: isHidden ? 'Show' : 'Hide', attrs: { type: 'button', 'aria-label': `${isHidden ? 'Show' : 'Hide'} ${label}` } });
    const earlier = el('button', { className: 'btn small', attrs: { type: 'button', 'aria-label': `Move ${label} earlier` } }, [icon('left')]);
    const later = el('button', { className: 'btn small', attrs: { type: 'button', 'aria-label': `Move ${label} later` } }, [icon('right')]);
    hide.addEventListener('click', () => this.#toggleHidden(tile.uid), { signal });
    earlier.addEventListener('click', () => this.#move(tile.uid, -1), { signal });
    later.addEventListener('click', () => this.#move(tile.uid, 1), { signal });
    bar.append(earlier, hide, later);
    tile.root.append(bar);
  }

  #toggleHidden(uid) {
    const hidden = new Set(this.#hiddenUids());
    if (hidden.has(uid)) hidden.delete(uid);
    else hidden.add(uid);
    this.#deps.preferences.set('devices', 'hidden', [...hidden]);
  }

  #currentOrder() {
    return [...(this.#grid?.children ?? [])].map((node) => node.dataset.uid).filter((uid) => this.#tiles.has(uid));
  }

  #move(uid, delta) {
    const order = this.#currentOrder();
    const index = order.indexOf(uid);
    const target = index + delta;
    if (index === -1 || target < 0 || target >= order.length) return;
    order.splice(index, 1);
    order.splice(target, 0, uid);
    this.#saveOrder(order);
    this.#doc.querySelector(`[data-uid="${CSS.escape(uid)}"]`)?.focus();
  }

  /** Merges this section's order into the global tile order. */
  #saveOrder(sectionOrder) {
    const stored = this.#deps.preferences.get('devices', 'order', []);
    const previous = Array.isArray(stored) ? stored : [];
    const inSection = new Set(sectionOrder);
    const rest = previous.filter((uid) => !inSection.has(uid));
    this.#deps.preferences.set('devices', 'order', [...sectionOrder, ...rest]);
  }

  #listenForDrag(grid) {
    grid.addEventListener('dragstart', (event) => {
      const tile = event.target.closest?.('.tile');
      this.#dragUid = tile?.dataset.uid ?? null;
      event.dataTransfer?.setData('text/plain', this.#dragUid ?? '');
    });
    grid.addEventListener('dragover', (event) => event.preventDefault());
    grid.addEventListener('drop', (event) => {
      event.preventDefault();
      const target = event.target.closest?.('.tile')?.dataset.uid;
      const dragged = this.#dragUid;
      this.#dragUid = null;
      if (!dragged || !target || dragged === target) return;
      const order = this.#currentOrder().filter((uid) => uid !== dragged);
      order.splice(order.indexOf(target), 0, dragged);
      this.#saveOrder(order);
    });
  }

  /** Returns the tiles of a hub, creating them, or null for a hub not in the hub list. */
  #hubTilesFor(hubId) {
    let tiles = this.#hubTiles.get(hubId);
    // A late event of a removed hub must not bring its tiles back.
    if (!tiles && this.#hubIds && !this.#hubIds.has(hubId)) return null;
    if (!tiles) {
      const context = { commands: this.#deps.commands, ui: this.#deps.ui };
      tiles = { mode: new ModeTile(hubId, context), hsm: new HsmTile(hubId, context) };
      tiles.mode.setHub({ hubId, name: hubId });
      tiles.hsm.setHub({ hubId, name: hubId });
      this.#hubTiles.set(hubId, tiles);
      if (this.#current === HOME || this.#current === 'all') this.render();
    }
    return tiles;
  }
}

function sortByOrder(items, order, keyOf) {
  const rank = new Map(order.map((key, index) => [key, index]));
  return items
    .map((item, index) => ({ item, index, rank: rank.get(keyOf(item)) ?? Number.MAX_SAFE_INTEGER }))
    .sort((a, b) => a.rank - b.rank || a.index - b.index)
    .map((entry) => entry.item);
}

function syncPills(container, pills) {
  while (container.childElementCount > pills.length) container.lastElementChild.remove();
  pills.forEach((pill, index) => {
    let node = container.children[index];
    if (!node) {
      node = el('span', { className: 'pill' });
      container.append(node);
    }
    setText(node, pill.text);
    setAttr(node, 'data-tone', pill.tone);
    setAttr(node, 'data-pill', pill.key);
  });
}
