// Debian's chromium for the real-browser tests (installed by .ci/run; never a downloaded browser): the reason to skip
// when it is missing (said, not silent), and the one way to launch it.
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** false when chromium is there; otherwise the reason, printed, for `describe(…, { skip })`. */
export function chromiumSkipReason(what: string): string | false {
  if (existsSync(CHROMIUM)) return false;
  const reason = `SKIPPED: no chromium at ${CHROMIUM} (apt-get install chromium); ${what} need it`;
  console.warn(reason);
  return reason;
}

/** Headless, without the background network traffic a closed network refuses. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--disable-background-networking', '--disable-component-update'] });
}
