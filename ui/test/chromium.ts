import { chromium, type Browser } from 'playwright-core';

/** The machine's Chromium, headless, without the background traffic that slows a loaded machine. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
];

/** Chromium for the UI tests (the system's /usr/bin/chromium; never a downloaded one). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}
