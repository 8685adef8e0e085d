// dom.js — building DOM nodes safely.
//
// Every piece of text from the node (item bodies, names, markings) goes in
// through text nodes, never through innerHTML, so nothing a peer posts can
// become markup or script.

/**
 * h('button', {class: 'x', onclick: fn, 'aria-label': 'y'}, 'text', child)
 * Attributes: `class`, `on<event>` (a listener), `dataset` (object),
 * booleans (set when true), everything else through setAttribute.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'value') el.value = v;
    else if (k === 'checked' || k === 'disabled' || k === 'hidden' || k === 'required') el[k] = Boolean(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replace all children of `el`. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A date-time with its zone, in the page's language: the reader's local
 *  zone (its short name, e.g. "CET" or "GMT+9") or UTC when chosen; the ISO
 *  form as a title. */
export function formatTime(iso, lang, utc) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso ?? '');
  return d.toLocaleString(lang === 'fr' ? 'fr-FR' : 'en-GB', {
    year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit',
    timeZoneName: 'short', ...(utc ? { timeZone: 'UTC' } : {}),
  });
}

export function timeEl(iso, lang = 'en', utc = false) {
  const d = new Date(iso);
  const ok = !Number.isNaN(d.getTime());
  return h('time', { datetime: ok ? d.toISOString() : undefined, title: iso || '' }, formatTime(iso, lang, utc));
}

const SVG = 'http://www.w3.org/2000/svg';

/** A paper-clip icon (inline SVG, decorative: hidden from screen readers;
 *  the text beside it says what it means). */
export function clipIcon() {
  const svg = document.createElementNS(SVG, 'svg');
  for (const [k, v] of Object.entries({ viewBox: '0 0 24 24', width: '16', height: '16', fill: 'none',
    stroke: 'currentColor', 'stroke-width': '2', 'stroke-linecap': 'round', 'stroke-linejoin': 'round',
    'aria-hidden': 'true', focusable: 'false', class: 'icon' })) svg.setAttribute(k, v);
  const path = document.createElementNS(SVG, 'path');
  path.setAttribute('d', 'M21.4 11.1l-9.2 9.2a6 6 0 0 1-8.5-8.5l9.2-9.2a4 4 0 0 1 5.7 5.7l-9.2 9.2a2 2 0 0 1-2.8-2.8l8.5-8.5');
  svg.append(path);
  return svg;
}
