// The "change password" dialog of the signed-in user. The server ends every session of the
// user on success, so other browsers sign out, and signs this browser in again.

import { AUTH_API, MIN_PASSWORD_LENGTH } from './auth-api.js';
import { el, setHidden, setText } from './dom.js';
import { pluralize } from './format.js';

export class ChangePasswordDialog {
  #dialog;
  #api;
  #ui;
  #listeners = null;
  #busy = false;

  constructor(dialog, { api, ui }) {
    this.#dialog = dialog;
    this.#api = api;
    this.#ui = ui;
  }

  open() {
    this.#teardown();
    this.#listeners = new AbortController();
    this.#dialog.replaceChildren(...this.#build());
    this.#on(this.#dialog, 'close', () => this.#teardown());
    if (!this.#dialog.open) this.#dialog.showModal();
    this.#dialog.querySelector('input')?.focus();
  }

  destroy() {
    if (this.#dialog.open) this.#dialog.close();
    this.#teardown();
  }

  #teardown() {
    this.#listeners?.abort();
    this.#listeners = null;
    this.#busy = false;
    this.#dialog.replaceChildren();
  }

  #on(node, type, handler) {
    node.addEventListener(type, handler, { signal: this.#listeners.signal });
  }

  #build() {
    const close = el('button', { className: 'btn close', text: 'Close', attrs: { type: 'button' } });
    this.#on(close, 'click', () => this.#dialog.close());
    const current = passwordInput('current-password', 'current-password');
    const next = passwordInput('new-password', 'new-password');
    const repeat = passwordInput('repeat-password', 'new-password');
    next.setAttribute('minlength', String(MIN_PASSWORD_LENGTH));
    const message = el('p', { className: 'auth-message', attrs: { role: 'alert', hidden: true } });
    const submit = el('button', { className: 'btn primary', text: 'Change password', attrs: { type: 'submit' } });
    const form = el('form', { className: 'auth-form', attrs: { novalidate: true } }, [
      field('Current password', current),
      field(`New password (at least ${MIN_PASSWORD_LENGTH} characters)`, next),
      field('Repeat the new password', repeat),
      el('p', { className: 'muted', text: 'Every other browser signed in to this account will be signed out.' }),
      message,
      submit,
    ]);
    const show = (text) => {
      setText(message, text);
      setHidden(message, !text);
    };
    this.#on(form, 'submit', async (event) => {
      event.preventDefault();
      if (this.#busy) return;
      if (!current.value) return show('Enter your current password.');
      if (next.value.length < MIN_PASSWORD_LENGTH) {
        return show(`Use a new password of at least ${MIN_PASSWORD_LENGTH} characters.`);
      }
      if (next.value !== repeat.value) return show('The two new passwords differ.');
      this.#busy = true;
      submit.disabled = true;
      const listeners = this.#listeners;
      try {
        await this.#api.post(AUTH_API.CHANGE_PASSWORD, {
          currentPassword: current.value,
          newPassword: next.value,
        });
        if (this.#listeners !== listeners) return;
        this.#dialog.close();
        this.#ui?.toast('Password changed. Other browsers were signed out.');
      } catch (err) {
        if (this.#listeners !== listeners) return;
        const wait = err?.retryAfterS ? ` Wait ${pluralize(err.retryAfterS, 'second')} before the next try.` : '';
        show(`The password was not changed: ${err?.message ?? 'unknown error'}.${wait}`);
        current.focus();
      } finally {
        if (this.#listeners === listeners) {
          this.#busy = false;
          submit.disabled = false;
        }
      }
    });
    return [
      el('header', { className: 'detail-head' }, [el('h2', { text: 'Change password', attrs: { id: 'password-title' } }), close]),
      form,
    ];
  }
}

function passwordInput(name, autocomplete) {
  return el('input', { attrs: { type: 'password', name, autocomplete, required: true, maxlength: 1024 } });
}

function field(label, input) {
  return el('label', { className: 'field' }, [el('span', { text: label }), input]);
}
