// A 270° dial used for thermostat setpoints: pointer drag, arrow keys and ARIA slider
// semantics. The value is committed on pointer release or after each key press.

import { el, setAttr } from '../dom.js';
import { clamp } from '../format.js';

const SVG_NS = 'http://www.w3.org/2000/svg';
const START_DEG = 135;
const SWEEP_DEG = 270;
const RADIUS = 40;
const CENTER = 50;

export class RoundSlider {
  #min;
  #max;
  #step;
  #value;
  #dragging = false;
  #onPreview;
  #onCommit;

  constructor({ label, min, max, step = 1, onPreview, onCommit, signal }) {
    this.#min = min;
    this.#max = max;
    this.#step = step;
    this.#value = min;
    this.#onPreview = onPreview;
    this.#onCommit = onCommit;
    const svg = document.createElementNS(SVG_NS, 'svg');
    svg.setAttribute('viewBox', '0 0 100 100');
    svg.setAttribute('aria-hidden', 'true');
    this.track = arcPath('dial-track');
    this.fill = arcPath('dial-fill');
    this.knob = document.createElementNS(SVG_NS, 'circle');
    this.knob.setAttribute('class', 'dial-knob');
    this.knob.setAttribute('r', '6');
    svg.append(this.track, this.fill, this.knob);
    this.track.setAttribute('d', describeArc(START_DEG, START_DEG + SWEEP_DEG));
    this.valueNode = el('span', { className: 'dial-value' });
    this.root = el(
      'div',
      {
        className: 'dial',
        attrs: { role: 'slider', tabindex: 0, 'aria-label': label, 'aria-valuemin': min, 'aria-valuemax': max },
      },
      [svg, this.valueNode],
    );
    const options = { signal };
    this.root.addEventListener('pointerdown', (event) => this.#pointerDown(event), options);
    this.root.addEventListener('pointermove', (event) => this.#pointerMove(event), options);
    this.root.addEventListener('pointerup', (event) => this.#pointerUp(event), options);
    this.root.addEventListener('pointercancel', () => (this.#dragging = false), options);
    this.root.addEventListener('keydown', (event) => this.#keyDown(event), options);
  }

  get dragging() {
    return this.#dragging;
  }

  setRange(min, max) {
    this.#min = min;
    this.#max = max;
    setAttr(this.root, 'aria-valuemin', min);
    setAttr(this.root, 'aria-valuemax', max);
  }

  /** Shows a value from the device; ignored while the user is dragging. */
  setValue(value, text) {
    if (this.#dragging || typeof value !== 'number') return;
    this.#show(value, text);
  }

  #show(value, text = String(value)) {
    this.#value = clamp(value, this.#min, this.#max);
    const ratio = (this.#value - this.#min) / (this.#max - this.#min || 1);
    const end = START_DEG + ratio * SWEEP_DEG;
    this.fill.setAttribute('d', describeArc(START_DEG, Math.max(START_DEG + 0.5, end)));
    const [x, y] = polar(end);
    this.knob.setAttribute('cx', x.toFixed(2));
    this.knob.setAttribute('cy', y.toFixed(2));
    if (this.valueNode.textContent !== text) this.valueNode.textContent = text;
    setAttr(this.root, 'aria-valuenow', this.#value);
    setAttr(this.root, 'aria-valuetext', text);
  }

  #valueAt(event) {
    const box = this.root.getBoundingClientRect();
    const dx = event.clientX - (box.left + box.width / 2);
    const dy = event.clientY - (box.top + box.height / 2);
    let degrees = (Math.atan2(dy, dx) * 180) / Math.PI;
    if (degrees < 0) degrees += 360;
    let offset = degrees - START_DEG;
    if (offset < 0) offset += 360;
    // The 90° gap at the bottom snaps to the nearer end.
    if (offset > SWEEP_DEG) offset = offset - SWEEP_DEG < (360 - SWEEP_DEG) / 2 ? SWEEP_DEG : 0;
    const raw = this.#min + (offset / SWEEP_DEG) * (this.#max - this.#min);
    return Math.round(raw / this.#step) * this.#step;
  }

  #pointerDown(event) {
    this.#dragging = true;
    this.root.setPointerCapture?.(event.pointerId);
    this.#preview(this.#valueAt(event));
    event.preventDefault();
  }

  #pointerMove(event) {
    if (this.#dragging) this.#preview(this.#valueAt(event));
  }

  #pointerUp(event) {
    if (!this.#dragging) return;
    this.#dragging = false;
    this.root.releasePointerCapture?.(event.pointerId);
    this.#onCommit(this.#value);
  }

  #keyDown(event) {
    const delta = { ArrowUp: 1, ArrowRight: 1, ArrowDown: -1, ArrowLeft: -1 }[event.key];
    if (!delta) return;
    event.preventDefault();
    this.#preview(this.#value + delta * this.#step);
    this.#onCommit(this.#value);
  }

  #preview(value) {
    const clamped = clamp(value, this.#min, this.#max);
    this.#show(clamped, this.#onPreview?.(clamped) ?? String(clamped));
  }
}

function arcPath(className) {
  const path = document.createElementNS(SVG_NS, 'path');
  path.setAttribute('class', className);
  return path;
}

function polar(degrees) {
  const radians = (degrees * Math.PI) / 180;
  return [CENTER + RADIUS * Math.cos(radians), CENTER + RADIUS * Math.sin(radians)];
}

function describeArc(fromDeg, toDeg) {
  const [x1, y1] = polar(fromDeg);
  const [x2, y2] = polar(toDeg);
  const large = toDeg - fromDeg > 180 ? 1 : 0;
  return `M ${x1.toFixed(2)} ${y1.toFixed(2)} A ${RADIUS} ${RADIUS} 0 ${large} 1 ${x2.toFixed(2)} ${y2.toFixed(2)}`;
}
