import { describe, expect, it } from 'vitest';
import type { SyncView, Usage } from '@tusafishe/gateway/api';
import { syncErrorNotice, tankPolyline } from './card-logic.js';

const sync = (online: boolean, last_error: string | null): SyncView => ({
  enabled: true,
  online,
  offline_limit_active: false,
  last_contact_at: null,
  last_pull_at: null,
  last_push_at: null,
  events_waiting: 0,
  cursor: null,
  last_error,
});

describe('sync card', () => {
  it('shows the last error in red only while the link is down', () => {
    expect(syncErrorNotice(sync(false, 'cloud unreachable: ECONNREFUSED'))).toEqual({
      text: 'cloud unreachable: ECONNREFUSED',
      alarm: true,
    });
    expect(syncErrorNotice(sync(true, 'cloud unreachable: ECONNREFUSED'))).toEqual({
      text: 'Last error (recovered): cloud unreachable: ECONNREFUSED',
      alarm: false,
    });
    expect(syncErrorNotice(sync(true, null))).toBeNull();
  });
});

describe('tank chart', () => {
  const box = { width: 320, height: 140, pad: 22, top: 16 };
  const day = { from: 0, to: 86_400_000 } as Usage;

  it('draws a lone sample (a freshly started kiosk) as a line at its level, not nothing at 0 %', () => {
    const points = tankPolyline(day, [{ at: 43_200_000, percent: 44 }], 50_000_000, box).split(' ');
    expect(points).toHaveLength(2);
    const [a, b] = points.map((p) => p.split(',').map(Number) as [number, number]);
    expect(a![1]).toBe(b![1]);
    expect(a![1]).toBeCloseTo(140 - 0.44 * 124, 1); // 44 %, well above the 0 % base line at y = 140
    expect(b![0]).toBeGreaterThan(a![0]);
  });

  it('keeps samples inside the chart when a bucket starts before the range', () => {
    const [first] = tankPolyline(day, [{ at: -60_000, percent: 50 }], 1000, box).split(' ');
    expect(Number(first!.split(',')[0])).toBe(22);
  });
});
