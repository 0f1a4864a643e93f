import { el, setHidden, setText } from '../dom.js';
import { humanize } from '../format.js';
import { BaseTile } from './base-tile.js';

const ALARM = new Set(['detected']);

/** Smoke and carbon monoxide alarm states. */
export class SmokeCoTile extends BaseTile {
  static icon = 'smoke';

  buildBody(body) {
    this.smokeNode = el('span', { className: 'readout', attrs: { hidden: true } });
    this.coNode = el('span', { className: 'readout', attrs: { hidden: true } });
    body.append(el('div', { className: 'row readouts' }, [this.smokeNode, this.coNode]));
  }

  patch() {
    const smoke = this.value('smoke');
    const co = this.value('carbonMonoxide');
    setHidden(this.smokeNode, !this.has('smoke'));
    setText(this.smokeNode, `Smoke: ${smoke ? humanize(smoke) : 'unknown'}`);
    setHidden(this.coNode, !this.has('carbonMonoxide'));
    setText(this.coNode, `CO: ${co ? humanize(co) : 'unknown'}`);
    const alarm = ALARM.has(smoke) || ALARM.has(co);
    const tested = smoke === 'tested' || co === 'tested';
    this.root.classList.toggle('is-alert', alarm);
    let status = 'Clear';
    if (alarm) status = ALARM.has(smoke) ? 'Smoke detected' : 'CO detected';
    else if (tested) status = 'Testing';
    else if (smoke === null && co === null) status = 'Unknown';
    let tone = null;
    if (alarm) tone = 'alert';
    else if (tested) tone = 'warn';
    this.setStatus(status, tone);
  }
}
