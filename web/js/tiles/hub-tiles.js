// Location tiles, one pair per hub: the hub's modes and its Home Security Monitor state.
// Their data-uid is "<hubId>:mode" / "<hubId>:hsm", which cannot collide with a device uid
// because Hubitat device ids are numeric.

import { el, icon, setAttr, setHidden, setText } from '../dom.js';
import { humanize } from '../format.js';
import { ChoiceGroup } from './choice-group.js';

const HSM_ACTIONS = [
  { action: 'armAway', text: 'Away', status: 'armingAway' },
  { action: 'armHome', text: 'Home', status: 'armingHome' },
  { action: 'armNight', text: 'Night', status: 'armingNight' },
  { action: 'disarm', text: 'Disarm', status: 'disarmed' },
];
const ALARM_STATUSES = /intrusion|alarm|smoke|water|alert/i;

class HubTile {
  constructor(hubId, kind, iconName, context) {
    this.hubId = hubId;
    this.uid = `${hubId}:${kind}`;
    this.kind = kind;
    this.context = context;
    this.listeners = new AbortController();
    this.labelNode = el('span', { className: 'tile-label' });
    this.subNode = el('span', { className: 'tile-sub' });
    this.statusNode = el('span', { className: 'tile-status', attrs: { 'aria-live': 'polite' } });
    this.offlineNode = el('span', { className: 'offline-mark', text: 'Offline', attrs: { hidden: true } });
    this.body = el('div', { className: 'tile-body' });
    this.root = el(
      'article',
      { className: `tile tile-${kind}`, attrs: { 'data-uid': this.uid, 'data-kind': kind, tabindex: 0 } },
      [
        el('header', { className: 'tile-head' }, [
          icon(iconName, 'icon tile-icon'),
          el('div', { className: 'tile-title' }, [this.labelNode, this.subNode]),
        ]),
        this.body,
        el('footer', { className: 'tile-foot' }, [this.statusNode, this.offlineNode]),
      ],
    );
  }

  setHub(hub) {
    const name = hub?.name || this.hubId;
    setText(this.subNode, name);
    setAttr(this.root, 'aria-label', `${this.title} on ${name}`);
    const offline = hub?.state === 'offline';
    this.root.classList.toggle('is-offline', offline);
    setHidden(this.offlineNode, !offline);
  }

  destroy() {
    this.listeners.abort();
    this.root.remove();
  }
}

export class ModeTile extends HubTile {
  title = 'Mode';

  constructor(hubId, context) {
    super(hubId, 'mode', 'home', context);
    setText(this.labelNode, 'Mode');
    this.choices = new ChoiceGroup({
      label: 'Hub mode',
      signal: this.listeners.signal,
      onChoose: (modeId) => this.context.commands.setMode(this.hubId, modeId),
    });
    this.body.append(this.choices.root);
  }

  /** `modes` is the hub's list [{id, name, active}]. */
  setModes(modes) {
    const list = Array.isArray(modes) ? modes : [];
    const active = list.find((mode) => mode.active);
    this.choices.sync(
      list.map((mode) => ({ value: String(mode.id), text: String(mode.name ?? mode.id) })),
      active ? String(active.id) : null,
    );
    setText(this.statusNode, active ? String(active.name) : 'No mode');
  }
}

export class HsmTile extends HubTile {
  title = 'Security';

  constructor(hubId, context) {
    super(hubId, 'hsm', 'shield', context);
    setText(this.labelNode, 'Security');
    this.choices = new ChoiceGroup({
      label: 'Home Security Monitor',
      signal: this.listeners.signal,
      onChoose: (action) => this.#act(action),
    });
    this.body.append(this.choices.root);
    this.status = null;
    this.alert = null;
  }

  /**
   * Shows the HSM status. `alert` is the latest hsmAlert value: intrusion, smoke, water and
   * others start an alert, "cancel" ends it, undefined leaves the current alert as it is.
   */
  setStatus(status, alert = undefined) {
    if (typeof status === 'string') this.status = status;
    if (alert === 'cancel' || alert === null) this.alert = null;
    else if (typeof alert === 'string') this.alert = alert;
    const selected = HSM_ACTIONS.find((entry) => this.#matches(entry, this.status));
    this.choices.sync(
      HSM_ACTIONS.map((entry) => ({ value: entry.action, text: entry.text })),
      selected ? selected.action : null,
    );
    const statusText = this.status ? humanize(this.status) : 'Unknown';
    setText(this.statusNode, this.alert ? `Alert: ${humanize(this.alert)} · ${statusText}` : statusText);
    const alarm = this.alert !== null || (this.status !== null && ALARM_STATUSES.test(this.status));
    this.root.classList.toggle('is-alert', alarm);
    this.root.classList.toggle('is-on', this.status !== null && this.status.startsWith('armed'));
  }

  #matches(entry, status) {
    if (!status) return false;
    if (entry.action === 'disarm') return status === 'disarmed' || status === 'allDisarmed';
    const suffix = entry.action.slice(3);
    return status === `armed${suffix}` || status === `arming${suffix}`;
  }

  async #act(action) {
    if (action === 'disarm') {
      const ok = await this.context.ui.confirm('Disarm the Home Security Monitor?', 'Disarm');
      if (!ok) return;
    }
    this.context.commands.setHsm(this.hubId, action);
  }
}
