// Settings → Hubs: the configured hubs with live health, the add / edit form with its
// connection test, webhook registration and rotation, reordering and discovered candidates.

import { el, setText } from '../dom.js';
import { SETTINGS_API, button, field, formatEpoch, showStatus } from './common.js';

const TRANSPORTS = [
  ['eventsocket', 'Eventsocket (live, recommended)'],
  ['webhook', 'Webhook (the hub posts events here)'],
  ['poll', 'Polling'],
];

export class HubsTab {
  #container;
  #api;
  #listeners = null;
  #hubs = [];
  #rows = new Map();
  #list = null;
  #form = null;
  #inputs = {};
  #editing = null;
  #formStatus = null;
  #status = null;
  #candidates = null;
  #generation = 0;
  #confirm;

  /** `confirm(message, actionText)` resolves true when the user chooses the action. */
  constructor(container, api, confirm) {
    this.#container = container;
    this.#api = api;
    this.#confirm = confirm;
  }

  async render() {
    this.destroy();
    this.#listeners = new AbortController();
    const generation = ++this.#generation;
    this.#status = el('p', { className: 'settings-status', attrs: { role: 'status', hidden: true } });
    this.#list = el('ol', { className: 'hub-list', attrs: { 'aria-label': 'Configured hubs' } });
    this.#candidates = el('div', { className: 'hub-candidates' });
    this.#container.replaceChildren(
      el('section', { className: 'settings-section', attrs: { 'aria-labelledby': 'hubs-title' } }, [
        el('h3', { text: 'Hubs', attrs: { id: 'hubs-title' } }),
        this.#status,
        this.#list,
        button('Add a hub', () => this.#openForm(null), { primary: true, signal: this.#listeners.signal }),
      ]),
      this.#buildForm(),
      el('section', { className: 'settings-section', attrs: { 'aria-labelledby': 'found-title' } }, [
        el('h3', { text: 'Found on the network', attrs: { id: 'found-title' } }),
        this.#candidates,
      ]),
    );
    await Promise.all([this.reload(generation), this.#loadCandidates(generation)]);
  }

  destroy() {
    this.#generation += 1;
    this.#listeners?.abort();
    this.#listeners = null;
    this.#rows.clear();
    this.#container.replaceChildren();
  }

  /** Applies a `hub` server event: one hub's health changed. */
  onHubEvent(health) {
    const row = this.#rows.get(health?.hubId);
    if (row) this.#paintHealth(row, health);
  }

  async reload(generation = this.#generation) {
    try {
      const reply = await this.#api.get(SETTINGS_API.HUB_CONFIG);
      if (generation !== this.#generation) return;
      this.#hubs = Array.isArray(reply?.hubs) ? reply.hubs : [];
      this.#warning = typeof reply?.webhookWarning === 'string' ? reply.webhookWarning : '';
      this.#paintList();
      showStatus(this.#status, this.#hubs.length ? '' : 'No hub is configured yet: add one below.');
    } catch (err) {
      if (generation === this.#generation) showStatus(this.#status, `Loading the hubs failed: ${err.message}`, 'error');
    }
  }

  #warning = '';

  #paintList() {
    const signal = this.#listeners.signal;
    this.#rows.clear();
    const items = this.#hubs.map((hub, index) => {
      const state = el('span', { className: 'hub-state badge' });
      const reason = el('span', { className: 'hub-reason' });
      const devices = el('span', { className: 'hub-devices' });
      const lastEvent = el('span', { className: 'hub-last-event' });
      const lastWebhook = el('span', { className: 'hub-last-webhook' });
      const message = el('p', { className: 'settings-status', attrs: { role: 'status', hidden: true } });
      const row = { state, reason, devices, lastEvent, lastWebhook };
      this.#rows.set(hub.hubId, row);
      this.#paintHealth(row, hub.health ?? {});
      setText(lastWebhook, formatEpoch(hub.lastWebhookAt));

      const actions = el('div', { className: 'row wrap hub-actions' }, [
        button('Edit', () => this.#openForm(hub), { signal }),
        button('Test', () => this.#testStored(hub, message), { signal }),
        button('Move up', () => this.#move(index, -1), { signal }),
        button('Move down', () => this.#move(index, 1), { signal }),
        button('Remove', () => this.#remove(hub, message), { danger: true, signal }),
      ]);
      actions.children[2].disabled = index === 0;
      actions.children[3].disabled = index === this.#hubs.length - 1;

      const webhook = el('details', { className: 'hub-webhook' }, [
        el('summary', { text: 'Webhook' }),
        el('p', { text: 'Paste this URL into the Maker API app ("URL to send device events to by POST"):' }),
        el('code', { className: 'hub-webhook-url', text: hub.webhookUrl ?? '' }),
        el('p', { className: 'settings-hint', text: this.#warning }),
        el('div', { className: 'row wrap' }, [
          button('Register on the hub', () => this.#register(hub, message), { signal }),
          button('Rotate the token', () => this.#rotate(hub, message), { signal }),
        ]),
        el('p', {}, [el('span', { text: 'Last webhook: ' }), lastWebhook]),
      ]);
      if (hub.transport === 'webhook') webhook.open = true;

      return el('li', { className: 'hub-row', attrs: { 'data-hub-id': hub.hubId } }, [
        el('div', { className: 'row wrap hub-head' }, [
          el('strong', { className: 'hub-name', text: hub.name }),
          state,
          el('span', { className: 'hub-host', text: `${hub.host} · app ${hub.appId} · ${hub.transport}${hub.active ? '' : ' · inactive'}` }),
        ]),
        el('div', { className: 'row wrap hub-facts' }, [
          reason,
          el('span', {}, [devices, el('span', { text: ' devices' })]),
          el('span', {}, [el('span', { text: 'Last event: ' }), lastEvent]),
          el('span', { className: 'hub-token', text: `Token ${hub.tokenHint}` }),
        ]),
        actions,
        webhook,
        message,
      ]);
    });
    this.#list.replaceChildren(...items);
  }

  #paintHealth(row, health) {
    const state = health.state ?? 'offline';
    setText(row.state, state);
    row.state.dataset.state = state;
    setText(row.reason, health.reason ?? '');
    setText(row.devices, health.deviceCount ?? 0);
    setText(row.lastEvent, formatEpoch(health.lastEventAt));
    if ('lastWebhookAt' in health) setText(row.lastWebhook, formatEpoch(health.lastWebhookAt));
  }

  #buildForm() {
    const signal = this.#listeners.signal;
    const input = (name, attrs = {}) => el('input', { attrs: { name, autocomplete: 'off', ...attrs } });
    this.#inputs = {
      hubId: input('hubId', { required: true, pattern: '[a-z0-9][a-z0-9_\\-]{0,31}', placeholder: 'main' }),
      name: input('name', { required: true, maxlength: 64, placeholder: 'Main Hub' }),
      host: input('host', { required: true, placeholder: '192.168.1.20' }),
      appId: input('appId', { required: true, inputmode: 'numeric', placeholder: '12' }),
      token: input('token', { type: 'password', placeholder: 'Maker API access token' }),
      transport: el('select', { attrs: { name: 'transport' } }, TRANSPORTS.map(([value, label]) => el('option', { text: label, attrs: { value } }))),
      active: el('input', { attrs: { name: 'active', type: 'checkbox', checked: true } }),
    };
    this.#formStatus = el('p', { className: 'settings-status', attrs: { role: 'status', hidden: true } });
    this.#form = el('form', { className: 'settings-section hub-form', attrs: { hidden: true, 'aria-labelledby': 'hub-form-title', novalidate: true } }, [
      el('h3', { text: 'Add a hub', attrs: { id: 'hub-form-title' } }),
      field('Hub id', this.#inputs.hubId, 'Lower-case letters, digits, - and _; it cannot change later.'),
      field('Name', this.#inputs.name),
      field('Host', this.#inputs.host, 'The hub\'s address, such as 192.168.1.20 or hubitat.local'),
      field('Maker API app id', this.#inputs.appId, 'The number after /apps/api/ in the Maker API app\'s URLs'),
      field('Access token', this.#inputs.token),
      field('Transport', this.#inputs.transport),
      field('Active', this.#inputs.active),
      this.#formStatus,
      el('div', { className: 'row wrap' }, [
        button('Test connection', () => this.#testForm(), { signal }),
        el('button', { className: 'btn primary', text: 'Save', attrs: { type: 'submit' } }),
        button('Cancel', () => this.#closeForm(), { signal }),
      ]),
    ]);
    this.#form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.#save();
    }, { signal });
    return this.#form;
  }

  #openForm(hub, prefill = {}) {
    this.#editing = hub;
    const values = hub ?? { hubId: '', name: '', host: '', appId: '', transport: 'eventsocket', active: true, ...prefill };
    for (const name of ['hubId', 'name', 'host', 'appId']) this.#inputs[name].value = values[name] ?? '';
    this.#inputs.hubId.readOnly = Boolean(hub);
    this.#inputs.token.value = '';
    this.#inputs.token.placeholder = hub ? `Leave empty to keep ${hub.tokenHint}` : 'Maker API access token';
    this.#inputs.transport.value = values.transport ?? 'eventsocket';
    this.#inputs.active.checked = values.active !== false;
    setText(this.#form.querySelector('h3'), hub ? `Edit ${hub.name}` : 'Add a hub');
    showStatus(this.#formStatus, '');
    this.#form.hidden = false;
    this.#inputs[hub ? 'name' : 'hubId'].focus();
  }

  #closeForm() {
    this.#form.hidden = true;
    this.#editing = null;
    this.#inputs.token.value = '';
  }

  #formBody() {
    const body = {
      hubId: this.#inputs.hubId.value.trim(),
      name: this.#inputs.name.value,
      host: this.#inputs.host.value.trim(),
      appId: this.#inputs.appId.value.trim(),
      transport: this.#inputs.transport.value,
      active: this.#inputs.active.checked,
    };
    const token = this.#inputs.token.value.trim();
    if (token) body.token = token;
    return body;
  }

  async #testForm() {
    const body = this.#formBody();
    const request = { host: body.host, appId: body.appId };
    if (body.token) request.token = body.token;
    if (this.#editing) request.hubId = this.#editing.hubId;
    showStatus(this.#formStatus, 'Testing…');
    try {
      const result = await this.#api.post(SETTINGS_API.HUB_TEST, request);
      showStatus(this.#formStatus, describeTest(result), result.ok ? 'ok' : 'error');
    } catch (err) {
      showStatus(this.#formStatus, err.message, 'error');
    }
  }

  async #testStored(hub, message) {
    showStatus(message, 'Testing…');
    try {
      const result = await this.#api.post(SETTINGS_API.HUB_TEST, { hubId: hub.hubId });
      showStatus(message, describeTest(result), result.ok ? 'ok' : 'error');
    } catch (err) {
      showStatus(message, err.message, 'error');
    }
  }

  async #save() {
    showStatus(this.#formStatus, 'Saving…');
    try {
      const reply = await this.#api.post(SETTINGS_API.HUB_CONFIG, this.#formBody());
      this.#closeForm();
      await this.reload();
      showStatus(this.#status, `${reply.hub.name} ${reply.created ? 'added' : 'saved'}; its devices appear as soon as it connects.`, 'ok');
    } catch (err) {
      showStatus(this.#formStatus, err.message, 'error');
    }
  }

  async #remove(hub, message) {
    if (!(await this.#confirm(`Remove ${hub.name}? Its tiles disappear from every dashboard.`, 'Remove'))) return;
    try {
      await this.#api.delete(SETTINGS_API.HUB_CONFIG_ONE(hub.hubId));
      await this.reload();
    } catch (err) {
      showStatus(message, err.message, 'error');
    }
  }

  async #move(index, step) {
    const order = this.#hubs.map((hub) => hub.hubId);
    const target = index + step;
    if (target < 0 || target >= order.length) return;
    [order[index], order[target]] = [order[target], order[index]];
    try {
      await this.#api.post(SETTINGS_API.HUB_ORDER, { order });
      await this.reload();
    } catch (err) {
      showStatus(this.#status, err.message, 'error');
    }
  }

  async #register(hub, message) {
    if (!(await this.#confirm(this.#warning || 'Register the webhook URL on the hub?', 'Register'))) return;
    showStatus(message, 'Registering…');
    try {
      const reply = await this.#api.post(SETTINGS_API.WEBHOOK_REGISTER(hub.hubId), {});
      showStatus(message, `Registered ${reply.webhookUrl} on the hub.`, 'ok');
    } catch (err) {
      showStatus(message, err.message, 'error');
    }
  }

  async #rotate(hub, message) {
    if (!(await this.#confirm('Rotate the webhook token? The current URL stops working at once.', 'Rotate'))) return;
    try {
      const reply = await this.#api.post(SETTINGS_API.WEBHOOK_ROTATE(hub.hubId), {});
      await this.reload();
      showStatus(this.#status, `${hub.name}: ${reply.message}`, 'ok');
    } catch (err) {
      showStatus(message, err.message, 'error');
    }
  }

  async #loadCandidates(generation) {
    let reply;
    try {
      reply = await this.#api.get(SETTINGS_API.DISCOVERY, { allowStatus: [404] });
    } catch (err) {
      if (generation === this.#generation) this.#candidates.replaceChildren(el('p', { text: `Discovery failed: ${err.message}` }));
      return;
    }
    if (generation !== this.#generation) return;
    const candidates = Array.isArray(reply?.candidates) ? reply.candidates.filter((item) => item.kind !== 'mediamtx') : [];
    if (!candidates.length) {
      const why = reply?.enabled === false ? reply.reason : 'No Hubitat hub was found on the network yet.';
      this.#candidates.replaceChildren(el('p', { className: 'settings-hint', text: why ?? '' }));
      return;
    }
    const signal = this.#listeners.signal;
    this.#candidates.replaceChildren(el('ul', { className: 'candidate-list' }, candidates.map((candidate) => {
      const host = candidate.port && candidate.port !== 80 ? `${candidate.host}:${candidate.port}` : candidate.host;
      return el('li', { className: 'row wrap' }, [
        el('strong', { text: candidate.name || candidate.hostname || host }),
        el('span', { text: host }),
        el('span', { className: 'settings-hint', text: candidate.confirmed ? candidate.detail ?? 'Hubitat hub' : 'unconfirmed' }),
        button('Add', () => this.#openForm(null, { host, name: candidate.name ?? '' }), { signal }),
      ]);
    })));
  }
}

function describeTest(result) {
  if (!result?.ok) return result?.message ?? 'The test failed.';
  const parts = [result.message];
  parts.push(result.modes?.ok ? `modes readable (${result.modes.count})` : 'modes not allowed');
  parts.push(result.hsm?.ok ? `HSM readable (${result.hsm.status})` : 'HSM not allowed');
  return parts.join('; ');
}
