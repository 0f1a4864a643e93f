// A minimal listener registry: on() returns the function that removes the listener.

export class Emitter {
  #listeners = new Map();

  on(type, callback) {
    let set = this.#listeners.get(type);
    if (!set) {
      set = new Set();
      this.#listeners.set(type, set);
    }
    set.add(callback);
    return () => set.delete(callback);
  }

  emit(type, detail) {
    const set = this.#listeners.get(type);
    if (!set) return;
    for (const callback of [...set]) {
      try {
        callback(detail);
      } catch (err) {
        console.error(`listener for "${type}" failed`, err);
      }
    }
  }

  clear() {
    this.#listeners.clear();
  }
}
