import type { SyncView, Usage } from '@tusafishe/gateway/api';

/**
 * Decisions of the overview and usage cards kept apart from the markup, so a unit test
 * can check them without a browser.
 */

/**
 * The sync card's last error: an alarm (red) only while the link is down; once back
 * online it is history, shown muted so a working link never looks broken.
 */
export function syncErrorNotice(sync: SyncView): { text: string; alarm: boolean } | null {
  if (!sync.last_error) return null;
  return sync.online
    ? { text: `Last error (recovered): ${sync.last_error}`, alarm: false }
    : { text: sync.last_error, alarm: true };
}

export interface ChartBox {
  width: number;
  height: number;
  /** Left margin for the axis labels. */
  pad: number;
  /** Top margin above 100 %. */
  top: number;
}

/**
 * SVG polyline points of the tank level over the usage range. A freshly started kiosk
 * has one averaged sample: a lone point draws nothing, which looked like a flat line at
 * 0 %, so the last level is held until now (or the range's end).
 */
export function tankPolyline(usage: Usage, tank: NonNullable<Usage['tank']>, now: number, box: ChartBox): string {
  const span = Math.max(1, usage.to - usage.from);
  const x = (at: number) =>
    box.pad + ((Math.min(Math.max(at, usage.from), usage.to) - usage.from) / span) * (box.width - box.pad);
  const y = (percent: number) => box.height - (Math.min(Math.max(percent, 0), 100) / 100) * (box.height - box.top);
  const samples = tank.map((s) => ({ at: s.at, percent: s.percent }));
  const last = samples.at(-1);
  if (last) samples.push({ at: Math.max(last.at, Math.min(now, usage.to)), percent: last.percent });
  return samples.map((s) => `${round(x(s.at))},${round(y(s.percent))}`).join(' ');
}

const round = (n: number) => Math.round(n * 10) / 10;
