// Security settings: trusted networks, self-registration, session length (admins only) and
// the signed-in user's API tokens. The admin sections are built only after the server
// returned the settings, so a non-admin sees the token list and nothing else.

import { AUTH_API, ROLES, errorText, formatTime } from './auth-api.js';
import { el, setHidden, setText } from './dom.js';
import { secretContent } from './user-management-modal.js';

// The server's limits (tiles_edge/auth/security_settings.py).
const MAX_TRUSTED_NETWORKS = 64;
const MAX_IDLE_MINUTES = 60 * 24 * 365;
const MAX_TOKEN_NAME_LENGTH = 100;

export class SecuritySettingsPanel {
  #container;
  #api;
  #listeners = null;
  #root = null;
  #message = null;
  #adminSection = null;
  #tokenSection = null;
  #networkRows = null;
  #usernames = [];
  #generation = 0;

  /** `api` is an ApiClient; the panel renders into `container` and owns its children. */
  constructor(container, api) {
    this.#container = container;
    this.#api = api;
  }

  /** Builds the panel and loads its data; calling it again reloads everything. */
  async render() {
    this.destroy();
    this.#listeners = new AbortController();
    const generation = ++this.#generation;
    this.#message = el('p', { className: 'auth-message security-message', attrs: { role: 'alert', hidden: true } });
    this.#adminSection = el('div', { className: 'security-admin' });
    this.#tokenSection = el('section', { className: 'security-tokens', attrs: { 'aria-labelledby': 'tokens-title' } });
    this.#root = el('div', { className: 'security-panel' }, [this.#message, this.#adminSection, this.#tokenSection]);
    this.#container.replaceChildren(this.#root);
    await Promise.all([this.#loadAdmin(generation), this.#loadTokens(generation)]);
  }

  destroy() {
    this.#generation += 1;
    this.#listeners?.abort();
    this.#listeners = null;
    this.#root?.remove();
    this.#root = null;
  }

  #live(generation) {
    return generation === this.#generation && this.#listeners !== null;
  }

  #on(node, type, handler) {
    node.addEventListener(type, handler, { signal: this.#listeners.signal });
  }

  #show(text, tone = 'info') {
    if (!this.#message) return;
    setText(this.#message, text);
    this.#message.dataset.tone = tone;
    setHidden(this.#message, !text);
  }

  // --- admin settings ------------------------------------------------------------------------

  async #loadAdmin(generation) {
    // The admin routes return 403 to other users and the server logs each refusal, so they
    // are requested only for a session whose role is admin.
    let session;
    try {
      session = await this.#api.get(AUTH_API.SESSION);
    } catch (err) {
      if (this.#live(generation)) this.#show(errorText(err, 'Loading the session'), 'error');
      return;
    }
    if (session?.user?.role !== ROLES.ADMIN) return;
    let settings;
    try {
      settings = await this.#api.get(AUTH_API.SETTINGS);
    } catch (err) {
      // 403: the role changed since the session was read, so the admin sections stay absent.
      if (this.#live(generation) && err?.status !== 403) this.#show(errorText(err, 'Loading the security settings'), 'error');
      return;
    }
    let users = null;
    try {
      users = await this.#api.get(AUTH_API.USERS);
    } catch {
      // Without the user list the username field has no suggestions and works as before.
    }
    if (!this.#live(generation)) return;
    this.#usernames = Array.isArray(users?.users) ? users.users.map((user) => String(user.username)) : [];
    this.#adminSection.replaceChildren(this.#buildAdminForm(settings ?? {}, session?.clientAddress ?? null));
  }

  #buildAdminForm(settings, clientAddress) {
    const list = el('datalist', { attrs: { id: 'security-usernames' } }, this.#usernames.map((name) => el('option', { attrs: { value: name } })));
    this.#networkRows = el('div', { className: 'network-rows' });
    for (const entry of Array.isArray(settings.trustedNetworks) ? settings.trustedNetworks : []) this.#addNetworkRow(entry);
    const add = el('button', { className: 'btn small network-add', text: 'Add network', attrs: { type: 'button' } });
    this.#on(add, 'click', () => {
      if (this.#networkRows.childElementCount >= MAX_TRUSTED_NETWORKS) {
        this.#show(`At most ${MAX_TRUSTED_NETWORKS} trusted networks can be listed.`, 'error');
        return;
      }
      this.#addNetworkRow({ cidr: '', username: '', allowAdmin: false }).querySelector('input')?.focus();
    });

    const registration = checkbox('registrationEnabled', settings.registrationEnabled === true);
    const autoApprove = checkbox('registrationAutoApprove', settings.registrationAutoApprove === true);
    const idle = el('input', {
      attrs: {
        type: 'number',
        name: 'sessionIdleMinutes',
        min: 1,
        max: MAX_IDLE_MINUTES,
        step: 1,
        inputmode: 'numeric',
        placeholder: 'Server default',
        value: Number.isInteger(settings.sessionIdleMinutes) ? settings.sessionIdleMinutes : null,
      },
    });
    const save = el('button', { className: 'btn primary security-save', text: 'Save security settings', attrs: { type: 'submit' } });
    const hint = clientAddress ? `This browser's address is ${clientAddress}.` : '';
    const form = el('form', { className: 'security-form', attrs: { novalidate: true } }, [
      el('section', { attrs: { 'aria-labelledby': 'networks-title' } }, [
        el('h3', { text: 'Trusted networks', attrs: { id: 'networks-title' } }),
        el('p', {
          className: 'muted',
          text: `Browsers at these addresses sign in as the named user without a password. Leave the list empty to turn this off. ${hint}`,
        }),
        list,
        this.#networkRows,
        add,
      ]),
      el('section', { attrs: { 'aria-labelledby': 'registration-title' } }, [
        el('h3', { text: 'Self-registration', attrs: { id: 'registration-title' } }),
        checkField('Let people create their own account on the sign-in page', registration),
        checkField('Activate new accounts at once (otherwise an admin approves each one)', autoApprove),
      ]),
      el('section', { attrs: { 'aria-labelledby': 'session-title' } }, [
        el('h3', { text: 'Session length', attrs: { id: 'session-title' } }),
        field('Sign out after this many idle minutes (empty: the server setting)', idle),
      ]),
      save,
    ]);
    const syncAutoApprove = () => {
      autoApprove.disabled = !registration.checked;
    };
    syncAutoApprove();
    this.#on(registration, 'change', syncAutoApprove);
    this.#on(form, 'submit', (event) => {
      event.preventDefault();
      this.#save({ registration, autoApprove, idle, save });
    });
    return form;
  }

  #addNetworkRow({ cidr = '', username = '', allowAdmin = false }) {
    const index = this.#networkRows.childElementCount + 1;
    const address = el('input', {
      attrs: { type: 'text', name: 'cidr', value: cidr, placeholder: '192.168.1.0/24', autocomplete: 'off', spellcheck: 'false', 'aria-label': `Network ${index}: address or CIDR` },
    });
    const user = el('input', {
      attrs: { type: 'text', name: 'username', value: username, list: 'security-usernames', autocomplete: 'off', autocapitalize: 'none', 'aria-label': `Network ${index}: signs in as user` },
    });
    const admin = checkbox('allowAdmin', allowAdmin === true);
    admin.setAttribute('aria-label', `Network ${index}: may sign in as an admin`);
    const remove = el('button', { className: 'btn small network-remove', text: 'Remove', attrs: { type: 'button', 'aria-label': `Remove network ${index}` } });
    const row = el('div', { className: 'network-row row wrap' }, [
      field('Address or CIDR', address),
      field('Signs in as', user),
      checkField('Admin allowed', admin),
      remove,
    ]);
    this.#on(remove, 'click', () => row.remove());
    this.#networkRows.append(row);
    return row;
  }

  #readNetworks() {
    const networks = [];
    for (const row of this.#networkRows.children) {
      const cidr = row.querySelector('input[name="cidr"]').value.trim();
      const username = row.querySelector('input[name="username"]').value.trim();
      const allowAdmin = row.querySelector('input[name="allowAdmin"]').checked;
      if (!cidr && !username) continue;
      if (!cidr || !username) {
        return { error: `Each trusted network needs an address and a user (row ${networks.length + 1}).` };
      }
      networks.push({ cidr, username, allowAdmin });
    }
    return { networks };
  }

  async #save({ registration, autoApprove, idle, save }) {
    const { networks, error } = this.#readNetworks();
    if (error) {
      this.#show(error, 'error');
      return;
    }
    let minutes = null;
    if (idle.value.trim() !== '') {
      minutes = Number(idle.value);
      if (!Number.isInteger(minutes) || minutes < 1 || minutes > MAX_IDLE_MINUTES) {
        this.#show(`The session length must be a whole number of minutes from 1 to ${MAX_IDLE_MINUTES}.`, 'error');
        idle.focus();
        return;
      }
    }
    const generation = this.#generation;
    save.disabled = true;
    try {
      const saved = await this.#api.request('PATCH', AUTH_API.SETTINGS, {
        body: {
          trustedNetworks: networks,
          registrationEnabled: registration.checked,
          registrationAutoApprove: autoApprove.checked,
          sessionIdleMinutes: minutes,
        },
      });
      if (!this.#live(generation)) return;
      this.#show('Security settings saved.', 'info');
      this.#networkRows.replaceChildren();
      for (const entry of saved?.trustedNetworks ?? networks) this.#addNetworkRow(entry);
    } catch (err) {
      if (this.#live(generation)) this.#show(errorText(err, 'Saving the security settings'), 'error');
    } finally {
      if (this.#live(generation)) save.disabled = false;
    }
  }

  // --- API tokens ----------------------------------------------------------------------------

  async #loadTokens(generation) {
    let tokens = [];
    let failure = '';
    try {
      const reply = await this.#api.get(AUTH_API.TOKENS);
      tokens = Array.isArray(reply?.tokens) ? reply.tokens : [];
    } catch (err) {
      failure = errorText(err, 'Loading the API tokens');
    }
    if (!this.#live(generation)) return;
    this.#renderTokens(tokens, failure);
  }

  #renderTokens(tokens, failure = '', secret = null) {
    const section = this.#tokenSection;
    const name = el('input', { attrs: { type: 'text', name: 'tokenName', maxlength: MAX_TOKEN_NAME_LENGTH, required: true, placeholder: 'Backup script' } });
    const create = el('button', { className: 'btn primary', text: 'Create token', attrs: { type: 'submit' } });
    const form = el('form', { className: 'row wrap token-create', attrs: { novalidate: true } }, [field('Name of the new token', name), create]);
    this.#on(form, 'submit', (event) => {
      event.preventDefault();
      this.#createToken(name.value.trim(), create);
    });
    const rows = tokens.map((token) => this.#tokenRow(token));
    const table = el('table', { className: 'tokens-table' }, [
      el('caption', { className: 'visually-hidden', text: 'API tokens' }),
      el('thead', {}, [el('tr', {}, ['Name', 'Created', 'Last used', 'Status', ''].map((text) => el('th', { text, attrs: { scope: 'col' } })))]),
      el('tbody', {}, rows),
    ]);
    const children = [
      el('h3', { text: 'API tokens', attrs: { id: 'tokens-title' } }),
      el('p', { className: 'muted', text: 'Scripts send a token in the Authorization header ("Bearer" followed by the token). A token acts as your account.' }),
    ];
    if (secret) {
      children.push(
        el('div', { className: 'secret-box', attrs: { role: 'status' } }, secretContent(`New token "${secret.name}"`, secret.token, 'It is shown only now: store it in the script that uses it.', this.#listeners.signal)),
      );
    }
    if (failure) children.push(el('p', { className: 'auth-message', text: failure, attrs: { role: 'alert' } }));
    children.push(tokens.length > 0 ? el('div', { className: 'table-wrap' }, [table]) : el('p', { className: 'muted tokens-empty', text: 'No API tokens yet.' }), form);
    section.replaceChildren(...children);
  }

  #tokenRow(token) {
    const name = String(token.name ?? '');
    const revoked = token.revokedAt !== null && token.revokedAt !== undefined;
    const cells = [
      el('th', { text: name, attrs: { scope: 'row' } }),
      el('td', { text: formatTime(token.createdAt, '?') }),
      el('td', { className: 'token-last-used', text: formatTime(token.lastUsedAt) }),
      el('td', { text: revoked ? `Revoked ${formatTime(token.revokedAt, '')}` : 'Active' }),
    ];
    const action = el('td');
    if (!revoked) {
      const revoke = el('button', { className: 'btn small danger token-revoke', text: 'Revoke', attrs: { type: 'button', 'aria-label': `Revoke token ${name}` } });
      this.#on(revoke, 'click', () => this.#revokeToken(token, revoke));
      action.append(revoke);
    }
    cells.push(action);
    return el('tr', { attrs: { 'data-token-id': token.id } }, cells);
  }

  async #createToken(name, button) {
    if (!name) {
      this.#show('Enter a name for the new token, such as the script that will use it.', 'error');
      return;
    }
    const generation = this.#generation;
    button.disabled = true;
    try {
      const created = await this.#api.post(AUTH_API.TOKENS, { name });
      const reply = await this.#api.get(AUTH_API.TOKENS);
      if (!this.#live(generation)) return;
      this.#show('', 'info');
      this.#renderTokens(Array.isArray(reply?.tokens) ? reply.tokens : [], '', { name: created?.name ?? name, token: created?.token ?? '' });
    } catch (err) {
      if (this.#live(generation)) {
        this.#show(errorText(err, 'Creating the token'), 'error');
        button.disabled = false;
      }
    }
  }

  async #revokeToken(token, button) {
    const generation = this.#generation;
    button.disabled = true;
    try {
      await this.#api.delete(AUTH_API.TOKEN(token.id));
      this.#show(`Token "${token.name}" was revoked.`, 'info');
    } catch (err) {
      if (this.#live(generation)) this.#show(errorText(err, 'Revoking the token'), 'error');
    }
    if (this.#live(generation)) await this.#loadTokens(generation);
  }
}

function checkbox(name, checked) {
  return el('input', { attrs: { type: 'checkbox', name, checked } });
}

function checkField(label, input) {
  return el('label', { className: 'check-field' }, [input, el('span', { text: label })]);
}

function field(label, input) {
  return el('label', { className: 'field' }, [el('span', { text: label }), input]);
}
