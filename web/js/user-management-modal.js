// The admin's user list: create users, change roles, enable and disable accounts, switch the
// password requirement, reset passwords, unlock throttled sign-ins and delete users. The
// server keeps at least one active admin and its refusal is shown as it words it.

import { AUTH_API, ROLES, errorText, formatTime } from './auth-api.js';
import { el, setHidden, setText } from './dom.js';

export class UserManagementModal {
  #dialog;
  #api;
  #ui;
  #currentUserId;
  #onOwnAccountChanged;
  #listeners = null;
  #rowListeners = null;
  #nodes = null;
  #users = [];
  #busy = false;

  /**
   * `currentUserId` is the signed-in admin; `onOwnAccountChanged()` runs after the admin
   * changed their own role or active flag, which changes what the page may show.
   */
  constructor(dialog, { api, ui, currentUserId = null, onOwnAccountChanged = () => {} }) {
    this.#dialog = dialog;
    this.#api = api;
    this.#ui = ui;
    this.#currentUserId = currentUserId;
    this.#onOwnAccountChanged = onOwnAccountChanged;
  }

  async open() {
    this.#teardown();
    this.#listeners = new AbortController();
    this.#nodes = this.#build();
    this.#dialog.replaceChildren(this.#nodes.head, this.#nodes.message, this.#nodes.secret, this.#nodes.tableWrap, this.#nodes.create);
    this.#on(this.#dialog, 'close', () => this.#teardown());
    if (!this.#dialog.open) this.#dialog.showModal();
    await this.refresh();
  }

  destroy() {
    if (this.#dialog.open) this.#dialog.close();
    this.#teardown();
  }

  /** Reloads the user list from the server. */
  async refresh() {
    const listeners = this.#listeners;
    try {
      const reply = await this.#api.get(AUTH_API.USERS);
      if (this.#listeners !== listeners) return;
      this.#users = Array.isArray(reply?.users) ? reply.users : [];
      this.#renderRows();
    } catch (err) {
      if (this.#listeners !== listeners) return;
      this.#showMessage(errorText(err, 'Loading the users'), 'error');
    }
  }

  #teardown() {
    this.#listeners?.abort();
    this.#listeners = null;
    this.#rowListeners?.abort();
    this.#rowListeners = null;
    this.#nodes = null;
    this.#busy = false;
    this.#dialog.replaceChildren();
  }

  #on(node, type, handler, signal = this.#listeners.signal) {
    node.addEventListener(type, handler, { signal });
  }

  #build() {
    const close = el('button', { className: 'btn close', text: 'Close', attrs: { type: 'button' } });
    this.#on(close, 'click', () => this.#dialog.close());
    const head = el('header', { className: 'detail-head' }, [el('h2', { text: 'Users', attrs: { id: 'users-title' } }), close]);
    const message = el('p', { className: 'auth-message users-message', attrs: { role: 'alert', hidden: true } });
    const secret = el('div', { className: 'secret-box', attrs: { hidden: true, role: 'status' } });
    const body = el('tbody');
    const table = el('table', { className: 'users-table' }, [
      el('caption', { className: 'visually-hidden', text: 'Users' }),
      el('thead', {}, [
        el('tr', {}, ['User', 'Role', 'Active', 'Password', 'Last sign-in', 'Actions'].map((text) => el('th', { text, attrs: { scope: 'col' } }))),
      ]),
      body,
    ]);
    const tableWrap = el('div', { className: 'table-wrap' }, [table]);
    return { head, message, secret, body, tableWrap, create: this.#buildCreateForm() };
  }

  #buildCreateForm() {
    const username = el('input', { attrs: { type: 'text', name: 'new-username', required: true, maxlength: 64, autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false' } });
    const role = roleSelect(ROLES.USER, 'new-role');
    const password = el('input', { attrs: { type: 'password', name: 'new-password', autocomplete: 'new-password', maxlength: 1024 } });
    const submit = el('button', { className: 'btn primary', text: 'Create user', attrs: { type: 'submit' } });
    const form = el('form', { className: 'users-create', attrs: { 'aria-labelledby': 'users-create-title', novalidate: true } }, [
      el('h3', { text: 'New user', attrs: { id: 'users-create-title' } }),
      el('div', { className: 'row wrap' }, [
        field('Username', username),
        field('Role', role),
        field('Password (empty: generate a temporary one)', password),
      ]),
      submit,
    ]);
    this.#on(form, 'submit', async (event) => {
      event.preventDefault();
      const name = username.value.trim();
      if (!name) {
        this.#showMessage('Enter a username for the new user.', 'error');
        username.focus();
        return;
      }
      const body = { username: name, role: role.value };
      if (password.value) body.password = password.value;
      const reply = await this.#run(() => this.#api.post(AUTH_API.USERS, body), 'Creating the user');
      if (!reply) return;
      username.value = '';
      password.value = '';
      role.value = ROLES.USER;
      if (reply.temporaryPassword) {
        this.#showSecret(`Temporary password for ${reply.user?.username ?? name}`, reply.temporaryPassword);
      } else {
        this.#showMessage(`User ${reply.user?.username ?? name} was created.`, 'info');
      }
      await this.refresh();
    });
    return form;
  }

  #renderRows() {
    if (!this.#nodes) return;
    this.#rowListeners?.abort();
    this.#rowListeners = new AbortController();
    this.#nodes.body.replaceChildren(...this.#users.map((user) => this.#row(user)));
  }

  #row(user) {
    const signal = this.#rowListeners.signal;
    const name = String(user.username ?? '');
    const isSelf = user.id === this.#currentUserId;
    const label = el('span', { className: 'user-name', text: isSelf ? `${name} (you)` : name });

    const role = roleSelect(user.role === ROLES.ADMIN ? ROLES.ADMIN : ROLES.USER, 'role');
    role.setAttribute('aria-label', `Role of ${name}`);
    this.#on(role, 'change', () => this.#patch(user, { role: role.value }, `Changing the role of ${name}`), signal);

    const active = toggleButton(user.active, user.active ? 'Active' : 'Disabled', `${name} is active`);
    active.classList.add('user-active');
    this.#on(active, 'click', () => this.#patch(user, { active: !user.active }, `${user.active ? 'Disabling' : 'Enabling'} ${name}`), signal);

    // A trusted network that names a user signs that user in without a password either way;
    // this switch decides whether any other trusted network may too (kiosk accounts).
    const auth = toggleButton(
      user.authEnabled,
      user.authEnabled ? 'Password' : 'Any trusted network',
      `${name} needs a password, except from a trusted network that names ${name}`,
    );
    auth.classList.add('user-auth');
    this.#on(auth, 'click', () => this.#toggleAuth(user), signal);

    const reset = actionButton('Reset password', `Reset the password of ${name}`, 'user-reset');
    this.#on(reset, 'click', () => this.#resetPassword(user), signal);
    const unlock = actionButton('Unlock', `Allow ${name} to sign in again at once`, 'user-unlock');
    this.#on(unlock, 'click', () => this.#unlock(user), signal);
    const remove = actionButton('Delete', `Delete ${name}`, 'user-delete danger');
    this.#on(remove, 'click', () => this.#delete(user), signal);

    return el('tr', { attrs: { 'data-user-id': user.id, 'data-username': name } }, [
      el('th', { attrs: { scope: 'row' } }, [label]),
      el('td', {}, [role]),
      el('td', {}, [active]),
      el('td', {}, [auth]),
      el('td', { className: 'user-last-login', text: formatTime(user.lastLoginAt) }),
      el('td', {}, [el('div', { className: 'row wrap' }, [reset, unlock, remove])]),
    ]);
  }

  async #patch(user, changes, action) {
    const reply = await this.#run(() => this.#api.request('PATCH', AUTH_API.USER(user.id), { body: changes }), action);
    if (reply) {
      this.#showMessage(`${action}: done.`, 'info');
      if (user.id === this.#currentUserId) {
        this.#onOwnAccountChanged();
        return;
      }
    }
    await this.refresh();
  }

  async #toggleAuth(user) {
    const name = user.username;
    const action = user.authEnabled
      ? `Letting ${name} sign in from trusted networks without a password`
      : `Requiring a password for ${name}`;
    const reply = await this.#run(() => this.#api.post(AUTH_API.TOGGLE_AUTH(user.id)), action);
    if (reply) this.#showMessage(`${action}: done.`, 'info');
    await this.refresh();
  }

  async #resetPassword(user) {
    const name = user.username;
    const confirmed = await this.#confirm(`Reset the password of ${name}? Their browsers are signed out and a temporary password is shown once.`, 'Reset password');
    if (!confirmed) return;
    const reply = await this.#run(() => this.#api.post(AUTH_API.RESET_PASSWORD(user.id)), `Resetting the password of ${name}`);
    if (reply?.temporaryPassword) this.#showSecret(`New temporary password for ${name}`, reply.temporaryPassword);
    await this.refresh();
  }

  async #unlock(user) {
    const reply = await this.#run(() => this.#api.post(AUTH_API.UNLOCK(user.id)), `Unlocking ${user.username}`);
    if (reply) {
      const text = reply.wasLocked
        ? `${user.username} may sign in again at once.`
        : `${user.username} had no failed sign-ins to clear.`;
      this.#showMessage(text, 'info');
    }
  }

  async #delete(user) {
    const name = user.username;
    const confirmed = await this.#confirm(`Delete ${name}? Their preferences and API tokens are deleted too.`, 'Delete');
    if (!confirmed) return;
    const reply = await this.#run(
      async () => {
        await this.#api.delete(AUTH_API.USER(user.id));
        return { deleted: true };
      },
      `Deleting ${name}`,
    );
    if (reply) this.#showMessage(`${name} was deleted.`, 'info');
    await this.refresh();
  }

  #confirm(message, action) {
    return this.#ui?.confirm ? this.#ui.confirm(message, action) : Promise.resolve(window.confirm(message));
  }

  /** Runs one request at a time; returns its reply, or null after showing the error. */
  async #run(request, action) {
    if (this.#busy || !this.#listeners) return null;
    const listeners = this.#listeners;
    this.#busy = true;
    this.#dialog.setAttribute('aria-busy', 'true');
    try {
      const reply = await request();
      return this.#listeners === listeners ? reply ?? {} : null;
    } catch (err) {
      if (this.#listeners === listeners) this.#showMessage(errorText(err, action), 'error');
      return null;
    } finally {
      if (this.#listeners === listeners) {
        this.#busy = false;
        this.#dialog.removeAttribute('aria-busy');
      }
    }
  }

  #showMessage(text, tone) {
    if (!this.#nodes) return;
    const { message } = this.#nodes;
    setText(message, text);
    message.dataset.tone = tone;
    setHidden(message, !text);
  }

  #showSecret(title, value) {
    if (!this.#nodes) return;
    this.#showMessage('', 'info');
    this.#nodes.secret.replaceChildren(...secretContent(title, value, 'It is shown only now: give it to the user, who should change it after signing in.', this.#listeners.signal));
    setHidden(this.#nodes.secret, false);
  }
}

/** Builds the "shown once" box for a temporary password or an API token. */
export function secretContent(title, value, note, signal) {
  const output = el('output', { className: 'secret-value', text: value });
  const children = [el('strong', { text: title }), output, el('p', { className: 'muted', text: note })];
  if (navigator.clipboard?.writeText) {
    const copy = el('button', { className: 'btn small', text: 'Copy', attrs: { type: 'button' } });
    copy.addEventListener(
      'click',
      async () => {
        try {
          await navigator.clipboard.writeText(value);
          setText(copy, 'Copied');
        } catch {
          setText(copy, 'Copy failed: select the text');
        }
      },
      { signal },
    );
    children.push(copy);
  }
  return children;
}

function roleSelect(value, name) {
  return el('select', { attrs: { name } }, [
    el('option', { text: 'User', attrs: { value: ROLES.USER, selected: value === ROLES.USER } }),
    el('option', { text: 'Admin', attrs: { value: ROLES.ADMIN, selected: value === ROLES.ADMIN } }),
  ]);
}

function toggleButton(pressed, text, label) {
  return el('button', {
    className: 'btn small toggle',
    text,
    attrs: { type: 'button', 'aria-pressed': pressed ? 'true' : 'false', title: label },
  });
}

function actionButton(text, label, className) {
  return el('button', { className: `btn small ${className}`, text, attrs: { type: 'button', 'aria-label': label } });
}

function field(label, input) {
  return el('label', { className: 'field' }, [el('span', { text: label }), input]);
}
