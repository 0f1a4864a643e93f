// Decides what the page shows: the sign-in screen until GET /api/auth/session reports a
// session, then the dashboard. The dashboard is created only after sign-in, so no device data
// is fetched or painted for an anonymous visitor. A 401 from any request or from the event
// stream tears the dashboard down and returns to the sign-in screen.

import { ApiClient } from './api-client.js';
import { AUTH_API, AUTH_EVENTS, ROLES, errorText } from './auth-api.js';
import { ChangePasswordDialog } from './change-password-dialog.js';
import { SELECTORS } from './constants.js';
import { DataCacheManager } from './data-cache-manager.js';
import { el, icon } from './dom.js';
import { SecuritySettingsPanel } from './security-settings-panel.js';
import { SignInScreen } from './sign-in-screen.js';
import { UserManagementModal } from './user-management-modal.js';

export const AUTH_STATES = Object.freeze({
  CHECKING: 'checking',
  SIGNED_OUT: 'signed-out',
  SIGNED_IN: 'signed-in',
  SIGNING_OUT: 'signing-out',
});

const AUTH_SELECTORS = Object.freeze({
  SCREEN: '#auth-screen',
  NOTICE: '#auth-notice',
  ACCOUNT_BUTTON: '#account-button',
  ACCOUNT_DIALOG: '#account-dialog',
  USERS_DIALOG: '#users-dialog',
  SECURITY_DIALOG: '#security-dialog',
  PASSWORD_DIALOG: '#password-dialog',
  TOOLS: '.topbar .tools',
});

export class AuthManager {
  #doc;
  #api;
  #createApp;
  #cache;
  #state = AUTH_STATES.CHECKING;
  #session = null;
  #app = null;
  // A page that has torn down one dashboard reloads for the next sign-in instead of building
  // a second one next to the remains of the first.
  #tornDown = false;
  #screen;
  #chrome = null;
  #listeners = new AbortController();

  /**
   * `createApp(doc)` returns a dashboard with `start()`, `close()` and an `api` ApiClient
   * (TilesApp). `api` is the client for the accounts routes before sign-in.
   */
  constructor(doc, { createApp, api = new ApiClient(), cache = new DataCacheManager() }) {
    this.#doc = doc;
    this.#api = api;
    this.#createApp = createApp;
    this.#cache = cache;
    this.#screen = new SignInScreen(this.#ensureScreenRoot(), {
      api,
      onSignedIn: () => this.#afterSignIn(),
    });
    doc.addEventListener(AUTH_EVENTS.UNAUTHORIZED, () => this.#onUnauthorized(), {
      signal: this.#listeners.signal,
    });
  }

  get state() {
    return this.#state;
  }

  /** The last reply of GET /api/auth/session, or null before the first check. */
  get session() {
    return this.#session;
  }

  get app() {
    return this.#app;
  }

  async start() {
    this.#setState(AUTH_STATES.CHECKING);
    let session;
    try {
      session = await this.#api.get(AUTH_API.SESSION);
    } catch (err) {
      this.#showScreen(null, `The server could not be reached. ${errorText(err, 'Checking the session')}`);
      return;
    }
    if (this.#state !== AUTH_STATES.CHECKING) return;
    if (session?.authenticated) {
      await this.#enter(session);
    } else {
      this.#showScreen(session);
    }
  }

  /** Ends the session on the server, closes the event stream and returns to the sign-in screen. */
  async signOut() {
    if (this.#state !== AUTH_STATES.SIGNED_IN) return;
    this.#setState(AUTH_STATES.SIGNING_OUT);
    // The dashboard goes first so that its event stream is closed before the session ends.
    this.#teardown();
    let notice = 'You signed out.';
    try {
      await this.#api.post(AUTH_API.LOGOUT, {});
    } catch (err) {
      notice = errorText(err, 'Signing out on the server');
    }
    const session = await this.#fetchSession();
    this.#showScreen(session, notice);
    this.#doc.dispatchEvent(new CustomEvent(AUTH_EVENTS.SIGNED_OUT));
  }

  close() {
    this.#listeners.abort();
    this.#teardown();
    this.#screen.destroy();
  }

  async #afterSignIn() {
    const session = await this.#api.get(AUTH_API.SESSION);
    if (!session?.authenticated) throw new Error('the server did not keep the new session');
    if (this.#tornDown) {
      window.location.reload();
      return;
    }
    await this.#enter(session);
  }

  async #enter(session) {
    this.#session = session;
    this.#screen.hide();
    this.#setState(AUTH_STATES.SIGNED_IN);
    const root = this.#doc.documentElement;
    root.dataset.role = session.user?.role === ROLES.ADMIN ? ROLES.ADMIN : ROLES.USER;
    root.dataset.signIn = session.kind === 'trusted' ? 'trusted' : 'password';
    this.#app = this.#createApp(this.#doc);
    this.#chrome = new AccountChrome(this.#doc, {
      session,
      api: this.#app.api,
      ui: this.#app.ui,
      onSignOut: () => this.signOut(),
      onOwnAccountChanged: () => window.location.reload(),
    });
    this.#doc.dispatchEvent(new CustomEvent(AUTH_EVENTS.SIGNED_IN, { detail: { user: session.user } }));
    try {
      await this.#app.start();
    } catch (err) {
      console.error('the dashboard failed to start', err);
    }
  }

  async #onUnauthorized() {
    if (this.#state !== AUTH_STATES.SIGNED_IN) return;
    this.#setState(AUTH_STATES.SIGNED_OUT);
    this.#teardown();
    const session = await this.#fetchSession();
    if (this.#state !== AUTH_STATES.SIGNED_OUT) return;
    this.#showScreen(session, 'Your session has ended. Sign in again.');
  }

  /** Closes the dashboard and its event stream and removes every device from the page. */
  #teardown() {
    this.#chrome?.destroy();
    this.#chrome = null;
    if (this.#app) {
      this.#app.close();
      this.#app = null;
      this.#tornDown = true;
    }
    // Device names and states are the household's data: they leave the page and the cache.
    // Preferences stay, so the next sign-in keeps its theme and layout.
    this.#cache.clear();
    this.#doc.querySelector(SELECTORS.MAIN)?.replaceChildren();
    this.#doc.querySelector(SELECTORS.NAV)?.replaceChildren();
    for (const dialog of this.#doc.querySelectorAll('dialog[open]')) dialog.close();
    const root = this.#doc.documentElement;
    delete root.dataset.role;
    delete root.dataset.signIn;
  }

  async #fetchSession() {
    try {
      return await this.#api.get(AUTH_API.SESSION);
    } catch {
      return null;
    }
  }

  #showScreen(session, notice = '') {
    if (session) this.#session = session;
    this.#setState(AUTH_STATES.SIGNED_OUT);
    this.#screen.show(session, { notice });
  }

  #setState(state) {
    this.#state = state;
    this.#doc.documentElement.dataset.auth = state;
  }

  #ensureScreenRoot() {
    let root = this.#doc.querySelector(AUTH_SELECTORS.SCREEN);
    if (!root) {
      root = el('div', { className: 'auth-screen', attrs: { id: 'auth-screen', hidden: true } });
      this.#doc.body.prepend(root);
    }
    return root;
  }
}

/**
 * The signed-in part of the page chrome: the account button and its dialog, the notice shown
 * while signed in through a trusted network, and the admin dialogs. Admin controls are only
 * created for admins.
 */
class AccountChrome {
  #doc;
  #session;
  #api;
  #ui;
  #onSignOut;
  #onOwnAccountChanged;
  #nodes = [];
  #listeners = new AbortController();
  #passwordDialog = null;
  #usersModal = null;
  #securityPanel = null;

  constructor(doc, { session, api, ui, onSignOut, onOwnAccountChanged }) {
    this.#doc = doc;
    this.#session = session;
    this.#api = api;
    this.#ui = ui;
    this.#onSignOut = onSignOut;
    this.#onOwnAccountChanged = onOwnAccountChanged;
    this.#buildAccountButton();
    if (session.kind === 'trusted') this.#buildTrustedNotice();
  }

  destroy() {
    this.#listeners.abort();
    this.#passwordDialog?.destroy();
    this.#usersModal?.destroy();
    this.#securityPanel?.destroy();
    for (const node of this.#nodes) node.remove();
    this.#nodes = [];
  }

  get #isAdmin() {
    return this.#session.user?.role === ROLES.ADMIN;
  }

  #on(node, type, handler) {
    node.addEventListener(type, handler, { signal: this.#listeners.signal });
  }

  #buildAccountButton() {
    const name = this.#session.user?.username ?? 'Account';
    const button = el(
      'button',
      {
        className: 'btn account-button',
        attrs: { id: 'account-button', type: 'button', 'aria-haspopup': 'dialog', 'aria-label': `Account: ${name}` },
      },
      [icon('person'), el('span', { className: 'account-name', text: name })],
    );
    const tools = this.#doc.querySelector(AUTH_SELECTORS.TOOLS) ?? this.#doc.body;
    tools.append(button);
    this.#nodes.push(button);

    const dialog = el('dialog', { className: 'sheet account-dialog', attrs: { id: 'account-dialog', 'aria-labelledby': 'account-title' } });
    this.#doc.body.append(dialog);
    this.#nodes.push(dialog);
    this.#on(button, 'click', () => {
      dialog.replaceChildren(...this.#accountContent(dialog));
      dialog.showModal();
    });
  }

  #accountContent(dialog) {
    const user = this.#session.user ?? {};
    const close = el('button', { className: 'btn close', text: 'Close', attrs: { type: 'button' } });
    this.#on(close, 'click', () => dialog.close());
    const role = user.role === ROLES.ADMIN ? 'Admin' : 'User';
    const method = this.#session.kind === 'trusted' ? 'through a trusted network, without a password' : 'with a password';
    const actions = el('div', { className: 'account-actions' });

    const action = (text, className, handler) => {
      const button = el('button', { className: `btn ${className}`, text, attrs: { type: 'button' } });
      this.#on(button, 'click', () => {
        dialog.close();
        handler();
      });
      actions.append(button);
    };
    if (this.#session.kind !== 'trusted' || user.authEnabled) {
      action('Change password', 'account-change-password', () => this.#openPasswordDialog());
    }
    if (this.#isAdmin) {
      action('Manage users', 'account-manage-users', () => this.#openUsers());
      action('Security settings', 'account-security', () => this.#openSecurity());
    }
    action('Sign out', 'primary account-sign-out', () => this.#onSignOut());
    return [
      el('header', { className: 'detail-head' }, [el('h2', { text: 'Account', attrs: { id: 'account-title' } }), close]),
      el('p', { className: 'account-summary', text: `Signed in as ${user.username ?? '?'} (${role}) ${method}.` }),
      actions,
    ];
  }

  #buildTrustedNotice() {
    const user = this.#session.user?.username ?? '?';
    const address = this.#session.clientAddress ?? 'this address';
    const notice = el('div', { className: 'auth-notice', attrs: { id: 'auth-notice', role: 'status' } }, [
      icon('shield'),
      el('span', {
        text: `Signed in as ${user} without a password because ${address} is a trusted network. Anyone using this device can control the home.`,
      }),
    ]);
    const header = this.#doc.querySelector('.topbar');
    if (header) header.after(notice);
    else this.#doc.body.prepend(notice);
    this.#nodes.push(notice);
  }

  #dialog(id, labelledBy) {
    let dialog = this.#doc.getElementById(id);
    if (!dialog) {
      dialog = el('dialog', { className: 'sheet auth-sheet', attrs: { id, 'aria-labelledby': labelledBy } });
      this.#doc.body.append(dialog);
      this.#nodes.push(dialog);
    }
    return dialog;
  }

  #openPasswordDialog() {
    this.#passwordDialog ??= new ChangePasswordDialog(this.#dialog('password-dialog', 'password-title'), {
      api: this.#api,
      ui: this.#ui,
    });
    this.#passwordDialog.open();
  }

  #openUsers() {
    if (!this.#isAdmin) return;
    this.#usersModal ??= new UserManagementModal(this.#dialog('users-dialog', 'users-title'), {
      api: this.#api,
      ui: this.#ui,
      currentUserId: this.#session.user?.id ?? null,
      onOwnAccountChanged: this.#onOwnAccountChanged,
    });
    this.#usersModal.open();
  }

  #openSecurity() {
    if (!this.#isAdmin) return;
    const dialog = this.#dialog('security-dialog', 'security-dialog-title');
    const close = el('button', { className: 'btn close', text: 'Close', attrs: { type: 'button' } });
    const body = el('div', { className: 'security-body' });
    dialog.replaceChildren(
      el('header', { className: 'detail-head' }, [el('h2', { text: 'Security', attrs: { id: 'security-dialog-title' } }), close]),
      body,
    );
    this.#securityPanel?.destroy();
    const panel = new SecuritySettingsPanel(body, this.#api);
    this.#securityPanel = panel;
    const done = new AbortController();
    const finish = () => {
      done.abort();
      panel.destroy();
      if (this.#securityPanel === panel) this.#securityPanel = null;
      dialog.replaceChildren();
    };
    close.addEventListener('click', () => dialog.close(), { signal: done.signal });
    dialog.addEventListener('close', finish, { signal: done.signal });
    panel.render();
    dialog.showModal();
  }
}

