// Small DOM helpers. Text always goes through textContent, never through HTML parsing.

const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * Creates an element. `props.text` becomes textContent, `props.attrs` attributes,
 * `props.className` the class list; children are appended in order.
 */
export function el(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  if (props.className) node.className = props.className;
  if (props.text !== undefined && props.text !== null) node.textContent = String(props.text);
  if (props.attrs) {
    for (const [name, value] of Object.entries(props.attrs)) {
      if (value !== undefined && value !== null && value !== false) {
        node.setAttribute(name, value === true ? '' : String(value));
      }
    }
  }
  for (const child of children) {
    if (child) node.append(child);
  }
  return node;
}

/** Creates an <svg><use href="#icon-NAME"></svg> icon from the inline sprite. */
export function icon(name, className = 'icon') {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('class', className);
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const use = document.createElementNS(SVG_NS, 'use');
  use.setAttribute('href', `#icon-${name}`);
  svg.append(use);
  return svg;
}

export function setIcon(svg, name) {
  const use = svg.firstElementChild;
  const href = `#icon-${name}`;
  if (use.getAttribute('href') !== href) use.setAttribute('href', href);
}

export function setText(node, text) {
  const value = text === undefined || text === null ? '' : String(text);
  if (node.textContent !== value) node.textContent = value;
}

export function setAttr(node, name, value) {
  if (value === undefined || value === null || value === false) {
    if (node.hasAttribute(name)) node.removeAttribute(name);
    return;
  }
  const text = value === true ? '' : String(value);
  if (node.getAttribute(name) !== text) node.setAttribute(name, text);
}

export function setHidden(node, hidden) {
  if (node.hidden !== hidden) node.hidden = hidden;
}

/** Sets an input's value unless the user is dragging it right now. */
export function setInputValue(input, value) {
  const text = String(value);
  if (document.activeElement === input && input.dataset.dragging === 'true') return;
  if (input.value !== text) input.value = text;
}
