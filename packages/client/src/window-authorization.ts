// Authorization in a popup or a new tab, for apps that must not navigate away (an embedded app, a single-page app
// with unsaved state): the app's page stays where it is while the window goes through sign-in and consent and lands
// on the redirect URI. That page hands the authorization response back with `postMessage`, to its own origin only,
// and closes; the opener then exchanges the code as after a redirect. Browser only.
import { AuthorizationError, completeAuthorization, startAuthorization, type AuthorizationOptions, type SmartSession } from './smart-launch.ts';

/** The message the redirect page sends its opener. */
export const AUTHORIZATION_RESPONSE_MESSAGE = 'smart-authorization-response';

export interface WindowAuthorizationOptions extends AuthorizationOptions {
  /** `popup` (a small window, the default) or `tab` (a new tab or window, as the browser chooses). */
  display?: 'popup' | 'tab';
  /** The page that opens the window (default: the global `window`). */
  window?: Window;
}

/** How often the opener checks whether the window was closed. */
export const CLOSED_POLL_MS = 400;

/**
 * Opens the authorization request in a popup or tab and resolves with the session once the redirect page has
 * called `notifyOpener()`. Call it from a click: the window is opened at once, before discovery, so popup blockers
 * allow it. Rejects with AuthorizationError `popup_blocked`, `window_closed` (the user closed it), or the server's error.
 */
export async function authorizeInWindow(o: WindowAuthorizationOptions): Promise<SmartSession> {
  const page = o.window ?? globalThis.window;
  if (!page) throw new TypeError('authorizeInWindow needs a browser window');
  const child = page.open('about:blank', '_blank', o.display === 'tab' ? '' : 'popup,width=520,height=720');
  if (!child) throw new AuthorizationError('popup_blocked', 'the browser blocked the authorization window: start it from a click');
  let url: string;
  try {
    url = await startAuthorization(o);
  } catch (err) {
    child.close();
    throw err;
  }
  child.location.href = url;
  const redirectOrigin = new URL(o.redirectUri).origin;
  const responseUrl = await new Promise<string>((resolve, reject) => {
    const onMessage = (event: MessageEvent) => {
      const data = event.data as { type?: unknown; url?: unknown } | null;
      // Only the window this call opened, on the redirect URI's origin, is listened to.
      if (event.source !== child || event.origin !== redirectOrigin || data?.type !== AUTHORIZATION_RESPONSE_MESSAGE || typeof data.url !== 'string') return;
      stop();
      resolve(data.url);
    };
    // The redirect page posts its message and closes itself at once, and the browser may show the window closed
    // before the message is delivered: a window found closed gets one more interval for its message.
    let closedOnce = false;
    const timer = setInterval(() => {
      if (!child.closed) return;
      if (!closedOnce) {
        closedOnce = true;
        return;
      }
      stop();
      reject(new AuthorizationError('window_closed', 'the authorization window was closed before it finished'));
    }, CLOSED_POLL_MS);
    const stop = () => {
      clearInterval(timer);
      page.removeEventListener('message', onMessage);
    };
    page.addEventListener('message', onMessage);
  });
  return completeAuthorization(responseUrl, o);
}

/**
 * On the redirect URI's page: if `authorizeInWindow` opened it, hands the authorization response to the opener (on
 * this page's origin only), closes the window and returns true; else returns false (a plain redirect: call
 * `completeAuthorization` on this page instead).
 */
export function notifyOpener(page: Window = globalThis.window): boolean {
  const opener = page.opener as Window | null;
  if (!opener) return false;
  opener.postMessage({ type: AUTHORIZATION_RESPONSE_MESSAGE, url: page.location.href }, page.location.origin);
  page.close();
  return true;
}
