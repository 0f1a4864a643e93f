// Server-Sent Events over fetch streaming. EventSource cannot set Last-Event-ID on a
// reconnect that we start ourselves (after a tablet wakes, or when the stream goes silent),
// so this client parses the text/event-stream format itself:
// https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation

import {
  CLIENT_EVENTS,
  RECONNECT_MAX_MS,
  RECONNECT_MIN_MS,
  STREAM_STATES,
} from './constants.js';
import { Emitter } from './emitter.js';

export class EventStream extends Emitter {
  #url;
  #state = STREAM_STATES.IDLE;
  #controller = null;
  #lastEventId = null;
  #retryMs = RECONNECT_MIN_MS;
  #retryTimer = null;
  #watchdog = null;
  #lastByteAt = 0;
  #silenceMs;
  #connectedSince = 0;
  #disconnectedSince = 0;
  #pageListeners = null;

  /**
   * `heartbeatMs` is the server's comment heartbeat interval; a stream that sends nothing for
   * 2.5 heartbeats is treated as dead (a sleeping tablet or a dropped Wi-Fi leaves the socket
   * open but silent).
   */
  constructor(url, { heartbeatMs = 15000, lastEventId = null } = {}) {
    super();
    this.#url = url;
    this.#silenceMs = Math.round(heartbeatMs * 2.5);
    this.#lastEventId = lastEventId;
  }

  get state() {
    return this.#state;
  }

  get lastEventId() {
    return this.#lastEventId;
  }

  /** Time when the stream went down, 0 while it is open. */
  get disconnectedSince() {
    return this.#disconnectedSince;
  }

  open() {
    if (this.#state !== STREAM_STATES.IDLE) return;
    this.#listenToPage();
    this.#connect();
  }

  /** Reconnects at once when the stream is down or has gone silent. */
  check() {
    if (this.#state === STREAM_STATES.CLOSED || this.#state === STREAM_STATES.IDLE) return;
    if (this.#state === STREAM_STATES.WAITING) {
      this.#retryMs = RECONNECT_MIN_MS;
      this.#clearRetry();
      this.#connect();
      return;
    }
    const quietMs = Date.now() - this.#lastByteAt;
    if (this.#state === STREAM_STATES.OPEN && quietMs > this.#silenceMs) {
      this.#fail(new Error('no data within the heartbeat window'), 0);
    } else if (this.#state === STREAM_STATES.CONNECTING && quietMs > this.#silenceMs) {
      this.#fail(new Error('connecting took longer than the heartbeat window'), 0);
    }
  }

  /** Drops the current connection and reconnects with the last event id. */
  reconnect() {
    if (this.#state === STREAM_STATES.CLOSED || this.#state === STREAM_STATES.IDLE) return;
    this.#fail(new Error('reconnect requested'), 0);
  }

  close() {
    if (this.#state === STREAM_STATES.CLOSED) return;
    this.#teardown();
    this.#clearRetry();
    if (this.#pageListeners) this.#pageListeners.abort();
    this.#pageListeners = null;
    this.#setState(STREAM_STATES.CLOSED);
    this.clear();
  }

  #listenToPage() {
    this.#pageListeners = new AbortController();
    const { signal } = this.#pageListeners;
    const wake = () => {
      if (document.visibilityState === 'visible') this.check();
    };
    document.addEventListener('visibilitychange', wake, { signal });
    window.addEventListener('online', () => this.check(), { signal });
    window.addEventListener('pageshow', () => this.check(), { signal });
  }

  async #connect() {
    this.#teardown();
    const controller = new AbortController();
    this.#controller = controller;
    const resumed = this.#lastEventId !== null;
    this.#lastByteAt = Date.now();
    this.#setState(STREAM_STATES.CONNECTING);
    const headers = { Accept: 'text/event-stream' };
    if (resumed) headers['Last-Event-ID'] = this.#lastEventId;
    this.#startWatchdog(controller);
    try {
      const response = await fetch(this.#url, {
        headers,
        cache: 'no-store',
        credentials: 'same-origin',
        signal: controller.signal,
      });
      if (this.#controller !== controller) return;
      if (response.status === 401) this.emit(CLIENT_EVENTS.UNAUTHORIZED, { path: this.#url });
      if (!response.ok || !response.body) {
        throw new Error(`event stream returned HTTP ${response.status}`);
      }
      this.#lastByteAt = Date.now();
      this.#retryMs = RECONNECT_MIN_MS;
      this.#connectedSince = Date.now();
      this.#disconnectedSince = 0;
      this.#setState(STREAM_STATES.OPEN, { resumed });
      await this.#read(response.body, controller);
    } catch (err) {
      if (this.#controller !== controller) return;
      this.#fail(err);
    }
  }

  async #read(body, controller) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    const parser = new EventParser((event) => this.#dispatch(event));
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (this.#controller !== controller) return;
        if (done) throw new Error('event stream ended');
        this.#lastByteAt = Date.now();
        parser.push(value);
      }
    } finally {
      reader.cancel().catch(() => {});
    }
  }

  #dispatch({ id, type, data, retry }) {
    if (retry !== null) this.#retryMs = Math.max(RECONNECT_MIN_MS, retry);
    if (id !== null) this.#lastEventId = id;
    if (data === null) return;
    let payload = null;
    try {
      payload = data === '' ? null : JSON.parse(data);
    } catch {
      payload = data;
    }
    this.emit(CLIENT_EVENTS.MESSAGE, { type, id: this.#lastEventId, data: payload });
  }

  #startWatchdog(controller) {
    clearInterval(this.#watchdog);
    const period = Math.max(1000, Math.round(this.#silenceMs / 4));
    this.#watchdog = setInterval(() => {
      if (this.#controller === controller) this.check();
    }, period);
  }

  // The only error path: tear the connection down and schedule the next attempt.
  #fail(err, delayMs = null) {
    if (this.#state === STREAM_STATES.CLOSED) return;
    this.#teardown();
    if (!this.#disconnectedSince) this.#disconnectedSince = Date.now();
    const delay = delayMs ?? this.#nextDelay();
    this.#setState(STREAM_STATES.WAITING, { error: err.message, retryInMs: delay });
    this.#clearRetry();
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      if (this.#state === STREAM_STATES.WAITING) this.#connect();
    }, delay);
  }

  #nextDelay() {
    const base = this.#retryMs;
    this.#retryMs = Math.min(RECONNECT_MAX_MS, this.#retryMs * 2);
    return Math.round(base * (0.8 + Math.random() * 0.4));
  }

  #teardown() {
    clearInterval(this.#watchdog);
    this.#watchdog = null;
    if (this.#controller) {
      const controller = this.#controller;
      this.#controller = null;
      controller.abort();
    }
  }

  #clearRetry() {
    if (this.#retryTimer !== null) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
  }

  #setState(state, detail = {}) {
    this.#state = state;
    this.emit(CLIENT_EVENTS.STATE, {
      state,
      since: state === STREAM_STATES.OPEN ? this.#connectedSince : this.#disconnectedSince,
      ...detail,
    });
  }
}

/** Incremental text/event-stream parser; `push()` takes decoded text chunks. */
export class EventParser {
  #buffer = '';
  #onEvent;
  #type = '';
  #data = [];
  #id = null;
  #retry = null;
  #sawCarriageReturn = false;

  constructor(onEvent) {
    this.#onEvent = onEvent;
  }

  push(chunk) {
    let text = chunk;
    // A CRLF pair split across two chunks: the CR already ended the line.
    if (this.#sawCarriageReturn && text.startsWith('\n')) text = text.slice(1);
    this.#sawCarriageReturn = text.endsWith('\r');
    this.#buffer += text;
    const lines = this.#buffer.split(/\r\n|\r|\n/);
    this.#buffer = lines.pop();
    for (const line of lines) this.#line(line);
  }

  #line(line) {
    if (line === '') {
      this.#flush();
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.#type = value;
    else if (field === 'data') this.#data.push(value);
    else if (field === 'id' && !value.includes('\0')) this.#id = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.#retry = Number(value);
  }

  #flush() {
    const event = {
      id: this.#id,
      type: this.#type || 'message',
      data: this.#data.length > 0 ? this.#data.join('\n') : null,
      retry: this.#retry,
    };
    this.#type = '';
    this.#data = [];
    this.#id = null;
    this.#retry = null;
    if (event.data !== null || event.id !== null || event.retry !== null) this.#onEvent(event);
  }
}
