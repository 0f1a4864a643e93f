// The full-page form shown before any dashboard content: sign in, create the first admin
// account on a fresh install, or register when an admin opened self-registration.

import { AUTH_API, MIN_PASSWORD_LENGTH } from './auth-api.js';
import { el, setHidden, setText } from './dom.js';
import { pluralize } from './format.js';

export const SCREEN_MODES = Object.freeze({
  LOGIN: 'login',
  SETUP: 'setup',
  REGISTER: 'register',
});

const TITLES = {
  [SCREEN_MODES.LOGIN]: 'Sign in',
  [SCREEN_MODES.SETUP]: 'Create the admin account',
  [SCREEN_MODES.REGISTER]: 'Create an account',
};

const SUBMIT_TEXT = {
  [SCREEN_MODES.LOGIN]: 'Sign in',
  [SCREEN_MODES.SETUP]: 'Create admin account',
  [SCREEN_MODES.REGISTER]: 'Create account',
};

export class SignInScreen {
  #root;
  #api;
  #onSignedIn;
  #mode = SCREEN_MODES.LOGIN;
  #session = null;
  #busy = false;
  #countdownTimer = null;
  #blockedUntil = 0;
  #listeners = new AbortController();
  #nodes;

  /**
   * `root` is the element the screen fills. `onSignedIn()` runs after a session was created;
   * it is awaited, and a rejection is shown as an error on the form.
   */
  constructor(root, { api, onSignedIn }) {
    this.#root = root;
    this.#api = api;
    this.#onSignedIn = onSignedIn;
    this.#nodes = this.#build();
    root.replaceChildren(this.#nodes.panel);
  }

  /** Shows the form for `session` (the reply of GET /api/auth/session) with an optional notice. */
  show(session, { notice = '', mode = null } = {}) {
    this.#session = session;
    const next = mode ?? (session?.setupRequired ? SCREEN_MODES.SETUP : SCREEN_MODES.LOGIN);
    this.#setMode(next);
    this.#setMessage(notice, 'info');
    setHidden(this.#root, false);
    this.#nodes.password.value = '';
    this.#nodes.confirm.value = '';
    this.#focusFirst();
  }

  hide() {
    this.#stopCountdown();
    setHidden(this.#root, true);
  }

  destroy() {
    this.#stopCountdown();
    this.#listeners.abort();
    this.#root.replaceChildren();
  }

  get mode() {
    return this.#mode;
  }

  #on(node, type, handler) {
    node.addEventListener(type, handler, { signal: this.#listeners.signal });
  }

  #build() {
    const title = el('h1', { className: 'auth-title', attrs: { id: 'auth-title' } });
    const intro = el('p', { className: 'auth-intro muted' });
    const username = el('input', {
      attrs: {
        id: 'auth-username',
        name: 'username',
        type: 'text',
        autocomplete: 'username',
        autocapitalize: 'none',
        spellcheck: 'false',
        required: true,
        maxlength: 64,
      },
    });
    const password = el('input', {
      attrs: { id: 'auth-password', name: 'password', type: 'password', required: true, maxlength: 1024 },
    });
    const confirm = el('input', {
      attrs: { id: 'auth-confirm', name: 'confirm', type: 'password', autocomplete: 'new-password', maxlength: 1024 },
    });
    const confirmField = field('Repeat the password', confirm, 'auth-confirm');
    const message = el('p', { className: 'auth-message', attrs: { role: 'alert', 'aria-live': 'assertive' } });
    const countdown = el('p', { className: 'auth-countdown muted', attrs: { hidden: true } });
    const submit = el('button', { className: 'btn primary auth-submit', attrs: { type: 'submit' } });
    const form = el('form', { className: 'auth-form', attrs: { 'aria-labelledby': 'auth-title', novalidate: true } }, [
      field('Username', username, 'auth-username'),
      field('Password', password, 'auth-password'),
      confirmField,
      message,
      countdown,
      submit,
    ]);
    const trusted = el('button', { className: 'btn auth-trusted', attrs: { type: 'button', hidden: true } });
    const switchMode = el('button', { className: 'btn link auth-switch', attrs: { type: 'button', hidden: true } });
    const panel = el('section', { className: 'auth-panel' }, [
      el('p', { className: 'auth-brand', text: 'Tiles' }),
      title,
      intro,
      form,
      trusted,
      switchMode,
    ]);

    this.#on(form, 'submit', (event) => {
      event.preventDefault();
      this.#submit();
    });
    this.#on(trusted, 'click', () => this.#signInTrusted());
    this.#on(switchMode, 'click', () => {
      const next = this.#mode === SCREEN_MODES.REGISTER ? SCREEN_MODES.LOGIN : SCREEN_MODES.REGISTER;
      this.#setMode(next);
      this.#setMessage('', 'info');
      this.#focusFirst();
    });
    return { panel, title, intro, form, username, password, confirm, confirmField, message, countdown, submit, trusted, switchMode };
  }

  #setMode(mode) {
    this.#mode = mode;
    const nodes = this.#nodes;
    const creating = mode !== SCREEN_MODES.LOGIN;
    setText(nodes.title, TITLES[mode]);
    setText(nodes.submit, SUBMIT_TEXT[mode]);
    setText(nodes.intro, introText(mode));
    this.#root.dataset.mode = mode;
    setHidden(nodes.confirmField, !creating);
    nodes.confirm.required = creating;
    nodes.password.autocomplete = creating ? 'new-password' : 'current-password';
    if (creating) nodes.password.setAttribute('minlength', String(MIN_PASSWORD_LENGTH));
    else nodes.password.removeAttribute('minlength');

    const session = this.#session ?? {};
    const canRegister = Boolean(session.registrationEnabled) && mode !== SCREEN_MODES.SETUP;
    setHidden(nodes.switchMode, !canRegister);
    setText(nodes.switchMode, mode === SCREEN_MODES.REGISTER ? 'I have an account: sign in' : 'Create an account');
    const trusted = Boolean(session.trustedSignIn) && mode === SCREEN_MODES.LOGIN;
    setHidden(nodes.trusted, !trusted);
    setText(nodes.trusted, 'Continue without a password (trusted network)');
  }

  #focusFirst() {
    const { username } = this.#nodes;
    if (!this.#root.hidden) username.focus();
  }

  #setMessage(text, tone) {
    setText(this.#nodes.message, text);
    this.#nodes.message.dataset.tone = tone;
    setHidden(this.#nodes.message, !text);
  }

  #setBusy(busy) {
    this.#busy = busy;
    this.#nodes.form.setAttribute('aria-busy', busy ? 'true' : 'false');
    this.#updateSubmit();
  }

  #updateSubmit() {
    const blocked = this.#blockedUntil > Date.now();
    this.#nodes.submit.disabled = this.#busy || blocked;
    this.#nodes.trusted.disabled = this.#busy;
  }

  async #submit() {
    if (this.#busy || this.#blockedUntil > Date.now()) return;
    const { username, password, confirm } = this.#nodes;
    const name = username.value.trim();
    const problem = this.#checkInput(name, password.value, confirm.value);
    if (problem) {
      this.#setMessage(problem.text, 'error');
      problem.field.focus();
      return;
    }
    this.#setBusy(true);
    const mode = this.#mode;
    try {
      const body = { username: name, password: password.value };
      if (mode === SCREEN_MODES.REGISTER) {
        await this.#register(body);
        return;
      }
      await this.#api.post(mode === SCREEN_MODES.SETUP ? AUTH_API.SETUP : AUTH_API.LOGIN, body);
      password.value = '';
      confirm.value = '';
      await this.#onSignedIn();
    } catch (err) {
      this.#showError(err, mode);
    } finally {
      this.#setBusy(false);
    }
  }

  #checkInput(name, password, confirm) {
    const nodes = this.#nodes;
    if (!name) return { text: 'Enter a username.', field: nodes.username };
    if (!password) return { text: 'Enter a password.', field: nodes.password };
    if (this.#mode === SCREEN_MODES.LOGIN) return null;
    if (password.length < MIN_PASSWORD_LENGTH) {
      return { text: `Use a password of at least ${MIN_PASSWORD_LENGTH} characters.`, field: nodes.password };
    }
    if (password !== confirm) return { text: 'The two passwords differ.', field: nodes.confirm };
    return null;
  }

  async #register(body) {
    try {
      const reply = await this.#api.post(AUTH_API.REGISTER, body);
      this.#nodes.password.value = '';
      this.#nodes.confirm.value = '';
      this.#setMode(SCREEN_MODES.LOGIN);
      const text = reply?.awaitingApproval
        ? 'Account created. An admin must approve it before you can sign in.'
        : 'Account created. Sign in with your new password.';
      this.#setMessage(text, 'info');
    } catch (err) {
      this.#showError(err, SCREEN_MODES.REGISTER);
    }
  }

  async #signInTrusted() {
    if (this.#busy) return;
    this.#setBusy(true);
    try {
      await this.#api.post(AUTH_API.LOGIN, { trusted: true });
      await this.#onSignedIn();
    } catch (err) {
      this.#showError(err, SCREEN_MODES.LOGIN);
    } finally {
      this.#setBusy(false);
    }
  }

  #showError(err, mode) {
    if (err?.status === 429 || (err?.status === 401 && err.retryAfterS)) {
      this.#startCountdown(err.retryAfterS ?? 1, err.status === 429);
      if (err.status === 401) this.#setMessage(`${sentence(err.message)} Wait before the next try.`, 'error');
      return;
    }
    if (err?.code === 'setup_closed') {
      this.#setMode(SCREEN_MODES.LOGIN);
      this.#setMessage('An admin account already exists. Sign in with it.', 'error');
      return;
    }
    if (err?.status === 0) {
      this.#setMessage(`The server could not be reached. ${sentence(err.message)}`, 'error');
      return;
    }
    const fallback = mode === SCREEN_MODES.LOGIN ? 'Sign-in failed.' : 'The account could not be created.';
    this.#setMessage(err?.message ? sentence(err.message) : fallback, 'error');
    this.#nodes.password.focus();
  }

  /** Blocks the form for `seconds` and counts down; `throttled` shows the 429 message. */
  #startCountdown(seconds, throttled) {
    this.#stopCountdown();
    this.#blockedUntil = Date.now() + seconds * 1000;
    this.#root.dataset.throttled = 'true';
    if (throttled) {
      this.#setMessage(`Too many failed sign-ins. Wait ${pluralize(seconds, 'second')}, then try again.`, 'error');
    }
    const tick = () => {
      const left = Math.ceil((this.#blockedUntil - Date.now()) / 1000);
      if (left <= 0) {
        this.#stopCountdown();
        return;
      }
      setText(this.#nodes.countdown, `You can try again in ${left} s.`);
      this.#nodes.countdown.dataset.seconds = String(left);
      setHidden(this.#nodes.countdown, false);
    };
    tick();
    this.#countdownTimer = setInterval(tick, 250);
    this.#updateSubmit();
  }

  #stopCountdown() {
    if (this.#countdownTimer !== null) clearInterval(this.#countdownTimer);
    this.#countdownTimer = null;
    this.#blockedUntil = 0;
    delete this.#root.dataset.throttled;
    if (this.#nodes) {
      setHidden(this.#nodes.countdown, true);
      delete this.#nodes.countdown.dataset.seconds;
      this.#updateSubmit();
    }
  }
}

function field(label, input, id) {
  return el('div', { className: 'field' }, [el('label', { text: label, attrs: { for: id } }), input]);
}

function introText(mode) {
  if (mode === SCREEN_MODES.SETUP) {
    return 'No account exists yet. The first account is the admin: it manages users and security settings.';
  }
  if (mode === SCREEN_MODES.REGISTER) return 'An admin may need to approve the new account before it can sign in.';
  return '';
}

/** Capitalises a server message and ends it with a full stop. */
function sentence(text) {
  const value = String(text ?? '').trim();
  if (!value) return '';
  const capital = value.charAt(0).toUpperCase() + value.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}
