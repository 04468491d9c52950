/** How the UI writes volumes, times and signal strength. */
export function litres(ml: number): string {
  const value = ml / 1000;
  return `${value.toLocaleString('en', { maximumFractionDigits: value < 10 ? 2 : 1 })} L`;
}

/** Minor units as "KES 1,234.50" (the currency's own decimals). */
export function money(minor: number, currency: string): string {
  const digits =
    new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  return new Intl.NumberFormat('en', { style: 'currency', currency, currencyDisplay: 'code' }).format(
    minor / 10 ** digits,
  );
}

export function timeOfDay(at: number): string {
  return new Date(at).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export function dateTime(at: number): string {
  return new Date(at).toLocaleString('en-GB', { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
}

/** Day and time to the second in an IANA zone (the kiosk's, whatever the phone's own zone). */
export function zonedDateTime(at: number, timeZone: string): string {
  return new Date(at).toLocaleString('en-GB', {
    timeZone,
    day: 'numeric',
    month: 'short',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
}

export function ago(at: number | null, now: number = Date.now()): string {
  if (at === null) return 'never';
  const seconds = Math.max(0, Math.round((now - at) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.round(seconds / 3600)} h ago`;
  return dateTime(at);
}

/** Bars out of 4 for a WiFi or modem RSSI in dBm. */
export function signalBars(dbm: number | null): string {
  if (dbm === null) return '–';
  const bars = dbm >= -55 ? 4 : dbm >= -67 ? 3 : dbm >= -80 ? 2 : 1;
  return `${'▮'.repeat(bars)}${'▯'.repeat(4 - bars)} ${dbm} dBm`;
}

/** Local calendar date as YYYY-MM-DD, for date inputs. */
export function isoDate(at: number): string {
  const d = new Date(at);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}
