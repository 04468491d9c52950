// Building a DateTimeFormat is far slower than using one; this runs on every authorisation.
const formats = new Map<string, Intl.DateTimeFormat>();

function formatFor(timeZone: string): Intl.DateTimeFormat {
  let format = formats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formats.set(timeZone, format);
  }
  return format;
}

/** The calendar date (YYYY-MM-DD) in `timeZone` at instant `at`: the cloud's `usage_day` form. */
export function localDate(at: number, timeZone: string): string {
  const parts = formatFor(timeZone).formatToParts(at);
  const field = (type: Intl.DateTimeFormatPartTypes): string => parts.find((p) => p.type === type)?.value ?? '';
  return `${field('year')}-${field('month')}-${field('day')}`;
}

/** Offset of `timeZone` from UTC at instant `at`, in ms (e.g. +3 h for Africa/Nairobi). */
function zoneOffsetMs(at: number, timeZone: string): number {
  const parts = formatFor(timeZone).formatToParts(at);
  const field = (type: Intl.DateTimeFormatPartTypes): number => Number(parts.find((p) => p.type === type)?.value);
  const asUtc = Date.UTC(
    field('year'),
    field('month') - 1,
    field('day'),
    field('hour'),
    field('minute'),
    field('second'),
  );
  return asUtc - Math.floor(at / 1000) * 1000;
}

/** [start, end) in epoch ms of the kiosk's local calendar day containing `at`. */
export function localDay(at: number, timeZone: string): { start: number; end: number } {
  const offset = zoneOffsetMs(at, timeZone);
  const local = new Date(at + offset);
  const midnightLocal = Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate());
  // Offsets can change across the day (DST); take the one in force at each midnight.
  const start = midnightLocal - zoneOffsetMs(midnightLocal - offset, timeZone);
  const nextMidnightLocal = midnightLocal + 86_400_000;
  const end = nextMidnightLocal - zoneOffsetMs(nextMidnightLocal - offset, timeZone);
  return { start, end };
}
