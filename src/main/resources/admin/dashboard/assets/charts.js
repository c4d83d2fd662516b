// Gatehouse admin dashboard: small charts drawn as inline SVG (no library, nothing fetched).
// Copyright the Gatehouse authors. SPDX-License-Identifier: Apache-2.0
//
// Colours come from CSS classes (.s0 ... .s7 in app.css), never from style attributes, which
// the CSP's style-src 'self' would block. Each chart is an <svg role="img"> whose aria-label
// says what it shows; the pages put the same numbers in a table beside it.

import {h, s, num} from './dom.js';

const PAD = {left: 48, right: 12, top: 12, bottom: 26};
const COLOURS = 8;

/**
 * Draws into container now and again whenever its width changes (phones rotate). Returns a
 * function that swaps in a new drawing (new data) and draws it at once.
 */
export function mountChart(container, draw) {
  const render = () => {
    const w = Math.max(260, Math.floor(container.clientWidth || 600));
    container.replaceChildren(draw(w));
  };
  render();
  if (typeof ResizeObserver === 'function') {
    let last = container.clientWidth;
    const ro = new ResizeObserver(() => {
      if (!container.isConnected) {
        ro.disconnect();
        return;
      }
      if (Math.abs(container.clientWidth - last) > 8) {
        last = container.clientWidth;
        render();
      }
    });
    ro.observe(container);
  }
  return (next) => {
    draw = next;
    render();
  };
}

/**
 * The top of the y axis: four equal "round" steps (1, 2, 2.5 or 5 times a power of ten) that
 * reach v; whole steps when the values are whole (counts), so no tick reads 0.3 requests.
 */
function niceMax(v, whole) {
  if (!(v > 0)) return 4;
  const raw = v / 4;
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const m of [1, 2, 2.5, 5, 10]) {
    const step = m * p;
    if (step >= raw && (!whole || Number.isInteger(step))) return step * 4;
  }
  return 40 * p;
}

function allWhole(values) {
  return values.every((v) => Number.isInteger(Number(v) || 0));
}

function short(v) {
  if (v >= 1e6) return num(v / 1e6, v % 1e6 ? 1 : 0) + 'M';
  if (v >= 1e3) return num(v / 1e3, v % 1e3 ? 1 : 0) + 'k';
  return num(v, v % 1 ? 1 : 0);
}

function frame(width, height, max, label) {
  const svg = s('svg', {class: 'chart', viewBox: `0 0 ${width} ${height}`, width, height,
    role: 'img', 'aria-label': label});
  const plotH = height - PAD.top - PAD.bottom;
  for (let i = 0; i <= 4; i++) {
    const y = PAD.top + plotH - (plotH * i) / 4;
    svg.append(s('line', {class: 'grid', x1: PAD.left, x2: width - PAD.right, y1: y, y2: y}));
    svg.append(s('text', {class: 'tick', x: PAD.left - 6, y: y + 4, 'text-anchor': 'end'},
      short((max * i) / 4)));
  }
  return svg;
}

function legend(names) {
  if (names.length < 2) return null;
  return h('ul', {class: 'legend'}, names.map((n, i) =>
    h('li', null, h('span', {class: 'swatch s' + (i % COLOURS), 'aria-hidden': 'true'}), n)));
}

/**
 * A line chart. labels: x labels (one per point); series: [{name, values}].
 * Returns a <figure> with the SVG, a legend and a caption.
 */
export function lineChart(width, {title, labels, series, height = 200}) {
  const n = labels.length;
  const flat = series.flatMap((x) => x.values.map(Number));
  const max = niceMax(Math.max(0, ...flat), allWhole(flat));
  const total = series.map((x) => x.name + ' ' + num(x.values.reduce((a, b) => a + Number(b || 0), 0)));
  const svg = frame(width, height, max, `${title}: ${n} points; totals ${total.join(', ')}`);
  const plotW = width - PAD.left - PAD.right;
  const plotH = height - PAD.top - PAD.bottom;
  const x = (i) => PAD.left + (n <= 1 ? plotW / 2 : (plotW * i) / (n - 1));
  const y = (v) => PAD.top + plotH - (plotH * Math.max(0, Number(v) || 0)) / max;
  series.forEach((ser, si) => {
    const pts = ser.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    svg.append(s('polyline', {class: 'line s' + (si % COLOURS), points: pts}));
    if (n <= 40) {
      ser.values.forEach((v, i) => svg.append(s('circle', {class: 'dot s' + (si % COLOURS),
        cx: x(i), cy: y(v), r: 2.5}, s('title', null, `${labels[i]} ${ser.name}: ${num(v)}`))));
    }
  });
  xLabels(svg, labels, x, height);
  return h('figure', {class: 'chart-figure'}, svg, legend(series.map((x) => x.name)),
    h('figcaption', null, title));
}

/**
 * A stacked bar chart. categories: x labels; groups: stack names;
 * values[c][g]: the value of group g in category c.
 */
export function barChart(width, {title, categories, groups, values, height = 220}) {
  const totals = values.map((row) => row.reduce((a, b) => a + (Number(b) || 0), 0));
  const max = niceMax(Math.max(0, ...totals), allWhole(totals));
  const svg = frame(width, height, max,
    `${title}: ${categories.length} bars, ${groups.length} groups, total ${num(totals.reduce((a, b) => a + b, 0))}`);
  const plotW = width - PAD.left - PAD.right;
  const plotH = height - PAD.top - PAD.bottom;
  const slot = plotW / Math.max(1, categories.length);
  const barW = Math.max(2, Math.min(48, slot * 0.7));
  const x = (i) => PAD.left + slot * i + slot / 2;
  categories.forEach((cat, ci) => {
    let base = 0;
    groups.forEach((g, gi) => {
      const v = Number(values[ci][gi]) || 0;
      if (v <= 0) return;
      const y0 = PAD.top + plotH - (plotH * base) / max;
      const hgt = (plotH * v) / max;
      svg.append(s('rect', {class: 'bar s' + (gi % COLOURS), x: x(ci) - barW / 2, y: y0 - hgt,
        width: barW, height: Math.max(0.5, hgt)}, s('title', null, `${cat} ${g}: ${num(v)}`)));
      base += v;
    });
  });
  xLabels(svg, categories, x, height);
  return h('figure', {class: 'chart-figure'}, svg, legend(groups), h('figcaption', null, title));
}

function xLabels(svg, labels, x, height) {
  const n = labels.length;
  if (!n) return;
  const picks = n <= 3 ? [...labels.keys()] : [0, Math.floor((n - 1) / 2), n - 1];
  for (const i of picks) {
    const anchor = n > 1 && i === 0 ? 'start' : n > 1 && i === n - 1 ? 'end' : 'middle';
    svg.append(s('text', {class: 'tick', x: x(i), y: height - 8, 'text-anchor': anchor}, labels[i]));
  }
}
