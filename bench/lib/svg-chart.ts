/**
 * Line charts as standalone SVG: enough for benchmark figures (axes, ticks, legend, several
 * series), with no dependency and nothing to render but the file itself.
 */
export interface Series {
  readonly name: string;
  readonly color: string;
  readonly dashed?: boolean;
  readonly points: readonly (readonly [number, number])[];
}

export interface Panel {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  /** Optional horizontal reference lines, e.g. a target. */
  readonly rules?: readonly { readonly y: number; readonly label: string }[];
}

const W = 520;
const H = 340;
const M = { left: 64, right: 16, top: 36, bottom: 48 };

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A "nice" step (1, 2 or 5 x 10^k) giving about `count` ticks over [0, max]. */
function niceStep(max: number, count: number): number {
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
}

function panelSvg(p: Panel, offsetX: number): string {
  const pts = p.series.flatMap((s) => s.points);
  const xMax = Math.max(...pts.map(([x]) => x), 1e-9);
  const yMax = Math.max(...pts.map(([, y]) => y), ...(p.rules ?? []).map((r) => r.y), 1e-9) * 1.1;
  const sx = (x: number): number => offsetX + M.left + (x / xMax) * (W - M.left - M.right);
  const sy = (y: number): number => M.top + (1 - y / yMax) * (H - M.top - M.bottom);
  const out: string[] = [`<text x="${offsetX + W / 2}" y="20" text-anchor="middle" font-weight="bold">${esc(p.title)}</text>`];
  const yStep = niceStep(yMax, 5);
  for (let y = 0; y <= yMax; y += yStep) {
    out.push(`<line x1="${sx(0)}" x2="${sx(xMax)}" y1="${sy(y)}" y2="${sy(y)}" stroke="#ddd"/>`);
    out.push(`<text x="${sx(0) - 6}" y="${sy(y) + 4}" text-anchor="end">${+y.toPrecision(4)}</text>`);
  }
  const xStep = niceStep(xMax, 6);
  for (let x = 0; x <= xMax + 1e-9; x += xStep) out.push(`<text x="${sx(x)}" y="${H - M.bottom + 16}" text-anchor="middle">${+x.toPrecision(4)}</text>`);
  out.push(
    `<line x1="${sx(0)}" x2="${sx(0)}" y1="${sy(0)}" y2="${sy(yMax)}" stroke="#333"/><line x1="${sx(0)}" x2="${sx(xMax)}" y1="${sy(0)}" y2="${sy(0)}" stroke="#333"/>`,
  );
  out.push(`<text x="${sx(xMax / 2)}" y="${H - 10}" text-anchor="middle">${esc(p.xLabel)}</text>`);
  out.push(`<text transform="translate(${offsetX + 16},${sy(yMax / 2)}) rotate(-90)" text-anchor="middle">${esc(p.yLabel)}</text>`);
  for (const r of p.rules ?? []) {
    out.push(`<line x1="${sx(0)}" x2="${sx(xMax)}" y1="${sy(r.y)}" y2="${sy(r.y)}" stroke="#999" stroke-dasharray="2,3"/>`);
    out.push(`<text x="${sx(xMax) - 4}" y="${sy(r.y) - 4}" text-anchor="end" fill="#666">${esc(r.label)}</text>`);
  }
  p.series.forEach((s, i) => {
    const d = s.points.map(([x, y], j) => `${j === 0 ? 'M' : 'L'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ');
    out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6,4"' : ''}/>`);
    for (const [x, y] of s.points) out.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="3" fill="${s.color}"/>`);
    const ly = M.top + 6 + i * 16;
    out.push(
      `<line x1="${sx(0) + 10}" x2="${sx(0) + 30}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6,4"' : ''}/>`,
    );
    out.push(`<text x="${sx(0) + 34}" y="${ly + 4}">${esc(s.name)}</text>`);
  });
  return out.join('\n');
}

/** Panels side by side in one SVG document. */
export function lineCharts(panels: readonly Panel[], caption = ''): string {
  const width = W * panels.length;
  const height = H + (caption ? 24 : 0);
  const body = panels.map((p, i) => panelSvg(p, i * W)).join('\n');
  const foot = caption ? `<text x="8" y="${H + 16}" fill="#444">${esc(caption)}</text>` : '';
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">\n<rect width="100%" height="100%" fill="white"/>\n${body}\n${foot}\n</svg>\n`;
}
