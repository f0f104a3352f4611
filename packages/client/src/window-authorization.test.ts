// authorizeInWindow's watch on the window it opened, against a real Firekeeper for discovery, with a scripted
// stand-in for the browser's window objects (browser.test.ts drives the whole flow in Chromium). The redirect page
// posts its message and closes itself at once, so the opener can see the window closed before the message arrives.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { listeningApp, type ListeningApp } from '../../server/src/test-support/listening-app.ts';
import { AuthorizationError, MemoryStorage } from './index.ts';
import { AUTHORIZATION_RESPONSE_MESSAGE, CLOSED_POLL_MS, authorizeInWindow } from './window-authorization.ts';

const REDIRECT = 'https://window-app.example/callback';
let fk: ListeningApp;

before(async () => {
  fk = await listeningApp();
});

type Listener = (event: { source: unknown; origin: string; data: unknown }) => void;

/** An opener whose popup, once sent to the authorization URL, does what `then` says with it. */
function scriptedOpener(then: (popup: { closed: boolean }, state: string, post: (url: string) => void) => void): Window {
  const listeners = new Set<Listener>();
  const popup = {
    closed: false,
    close() {
      this.closed = true;
    },
    location: {
      set href(url: string) {
        const state = new URL(url).searchParams.get('state')!;
        then(popup, state, (response) => {
          for (const l of listeners) l({ source: popup, origin: new URL(REDIRECT).origin, data: { type: AUTHORIZATION_RESPONSE_MESSAGE, url: response } });
        });
      },
    },
  };
  return {
    open: () => popup,
    addEventListener: (_type: string, l: Listener) => listeners.add(l),
    removeEventListener: (_type: string, l: Listener) => listeners.delete(l),
  } as unknown as Window;
}

const authorize = (window: Window) =>
  authorizeInWindow({ iss: fk.fhirBase, clientId: 'any-app', redirectUri: REDIRECT, scope: 'openid patient/*.rs', storage: new MemoryStorage(), window });

describe('authorizeInWindow watching its window', () => {
  it('takes a response whose message arrives just after the window closed (not window_closed)', async () => {
    const opener = scriptedOpener((popup, state, post) => {
      popup.closed = true;
      // After the first check that finds the window closed, before the next one.
      setTimeout(() => post(`${REDIRECT}?error=access_denied&state=${state}`), CLOSED_POLL_MS * 1.5);
    });
    await assert.rejects(authorize(opener), (err) => err instanceof AuthorizationError && err.error === 'access_denied');
  });

  it('reports window_closed when the window closes and no response comes', async () => {
    const opener = scriptedOpener((popup) => {
      popup.closed = true;
    });
    await assert.rejects(authorize(opener), (err) => err instanceof AuthorizationError && err.error === 'window_closed');
  });
});
