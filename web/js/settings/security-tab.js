// Settings → Security: mounts the accounts panel; shows nothing when it cannot be loaded.

export class SecurityTab {
  #container;
  #api;
  #panel = null;

  constructor(container, api) {
    this.#container = container;
    this.#api = api;
  }

  async render() {
    this.destroy();
    let module;
    try {
      module = await import('../security-settings-panel.js');
    } catch {
      return;
    }
    if (typeof module.SecuritySettingsPanel !== 'function') return;
    this.#panel = new module.SecuritySettingsPanel(this.#container, this.#api);
    await this.#panel.render();
  }

  destroy() {
    this.#panel?.destroy();
    this.#panel = null;
    this.#container.replaceChildren();
  }
}
