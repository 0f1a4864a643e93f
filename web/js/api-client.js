// JSON client for the edge server. Every failure becomes an ApiError; 401 is announced as an
// "unauthorized" event so that a sign-in flow can take over.

import { CLIENT_EVENTS } from './constants.js';
import { Emitter } from './emitter.js';

export class ApiError extends Error {
  /** `retryAfterS` is the reply's Retry-After in seconds (429 and throttled 401), else null. */
  constructor(status, code, message, { retryAfterS = null } = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.retryAfterS = retryAfterS;
  }
}

/**
 * Runs at most `concurrency` requests at once. A queued task with the same `key` as a newer
 * one is dropped before it starts (its promise resolves to `{ superseded: true }`), so a
 * slider dragged across ten values sends the last one, not all ten.
 */
export class RequestQueue {
  #concurrency;
  #running = 0;
  #waiting = [];

  constructor(concurrency = 4) {
    this.#concurrency = concurrency;
  }

  get size() {
    return this.#waiting.length + this.#running;
  }

  enqueue(task, key = null) {
    return new Promise((resolve, reject) => {
      if (key !== null) {
        const index = this.#waiting.findIndex((entry) => entry.key === key);
        if (index !== -1) {
          const [old] = this.#waiting.splice(index, 1);
          old.resolve({ superseded: true });
        }
      }
      this.#waiting.push({ task, key, resolve, reject });
      this.#pump();
    });
  }

  #pump() {
    while (this.#running < this.#concurrency && this.#waiting.length > 0) {
      const entry = this.#waiting.shift();
      this.#running += 1;
      this.#run(entry);
    }
  }

  async #run(entry) {
    try {
      entry.resolve(await entry.task());
    } catch (err) {
      entry.reject(err);
    } finally {
      this.#running -= 1;
      this.#pump();
    }
  }
}

export class ApiClient extends Emitter {
  #baseUrl;
  #queue;
  #timeoutMs;

  constructor({ baseUrl = '', concurrency = 4, timeoutMs = 20000 } = {}) {
    super();
    this.#baseUrl = baseUrl;
    this.#queue = new RequestQueue(concurrency);
    this.#timeoutMs = timeoutMs;
  }

  get(path, options = {}) {
    return this.request('GET', path, options);
  }

  post(path, body, options = {}) {
    return this.request('POST', path, { ...options, body });
  }

  put(path, body, options = {}) {
    return this.request('PUT', path, { ...options, body });
  }

  delete(path, options = {}) {
    return this.request('DELETE', path, options);
  }

  /** Queues a request; `options.key` replaces a queued request with the same key. */
  request(method, path, options = {}) {
    return this.#queue.enqueue(() => this.#send(method, path, options), options.key ?? null);
  }

  async #send(method, path, { body, keepalive = false, allowStatus = [], headers = {} } = {}) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.#timeoutMs);
    const init = {
      method,
      headers: { Accept: 'application/json', ...headers },
      credentials: 'same-origin',
      cache: 'no-store',
      signal: controller.signal,
      keepalive,
    };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(this.#baseUrl + path, init);
    } catch (err) {
      const reason = controller.signal.aborted ? 'timed out' : 'failed';
      throw new ApiError(0, 'network', `${method} ${path} ${reason}: ${err.message}`);
    } finally {
      clearTimeout(timer);
    }
    const payload = await readJson(response);
    if (response.ok || allowStatus.includes(response.status)) {
      return response.ok ? payload : { status: response.status, body: payload };
    }
    if (response.status === 401) this.emit(CLIENT_EVENTS.UNAUTHORIZED, { method, path });
    const error = payload && typeof payload === 'object' ? payload.error : null;
    throw new ApiError(
      response.status,
      error?.code ?? `http_${response.status}`,
      error?.message ?? `${method} ${path} failed with HTTP ${response.status}`,
      { retryAfterS: retryAfterSeconds(response.headers.get('retry-after')) },
    );
  }
}

/** Reads a Retry-After header in its delay-seconds form; an HTTP date gives null. */
function retryAfterSeconds(value) {
  if (value === null || !/^\d+$/.test(value.trim())) return null;
  return Number(value.trim());
}

async function readJson(response) {
  const text = await response.text().catch(() => '');
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
