import { css, html, nothing, svg, type TemplateResult } from 'lit';
import { litres } from './display-format.js';

const WIDTH = 320;
const HEIGHT = 140;
const PAD = 22;

export interface Bar {
  /** Axis label under the bar (shown every `labelEvery` bars). */
  label: string;
  ml: number;
  /** Hover text. */
  title: string;
}

/**
 * Litres per bucket as bars, hand-drawn in SVG: no chart library to ship to a kiosk or a phone.
 * The technicians' usage charts and the console's analytics both draw with it.
 */
export function barChart(bars: readonly Bar[], ariaLabel: string, labelEvery = 1): TemplateResult {
  const max = Math.max(1, ...bars.map((b) => b.ml));
  const slot = (WIDTH - PAD) / Math.max(1, bars.length);
  return html`<svg class="bar-chart" viewBox="0 0 ${WIDTH} ${HEIGHT + 16}" role="img" aria-label=${ariaLabel}>
    <text x="0" y="10" class="axis">${litres(max)}</text>
    <line x1=${PAD} y1=${HEIGHT} x2=${WIDTH} y2=${HEIGHT} class="base"></line>
    ${bars.map((b, i) => {
      const h = (b.ml / max) * (HEIGHT - 16);
      const x = PAD + i * slot;
      return svg`<rect x=${x + 1} y=${HEIGHT - h} width=${Math.max(1, slot - 2)} height=${h} class="bar"><title>${b.title}</title></rect>
        ${i % labelEvery === 0 ? svg`<text x=${x + slot / 2} y=${HEIGHT + 12} class="axis" text-anchor="middle">${b.label}</text>` : nothing}`;
    })}
  </svg>`;
}

export const barChartStyles = css`
  svg.bar-chart { width: 100%; height: auto; max-height: 260px; display: block; margin: 0 auto; }
  .bar { fill: #1d8fc7; }
  .base { stroke: #b9c6cf; }
  .axis { font-size: 9px; fill: #5d6f7c; }
`;
