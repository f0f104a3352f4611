// Where a client keeps what must survive a redirect (the pending authorization: state, PKCE verifier, nonce) and
// its sessions (tokens and launch context): pluggable, asynchronous, one string per key.

export interface KeyValueStorage {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
  remove(key: string): Promise<void>;
}

/** In memory: a Node process, or tests. */
export class MemoryStorage implements KeyValueStorage {
  readonly #map = new Map<string, string>();
  async get(key: string) { return this.#map.get(key); }
  async set(key: string, value: string) { this.#map.set(key, value); }
  async remove(key: string) { this.#map.delete(key); }
}

/** A browser's Web Storage (`window.sessionStorage`: per tab, gone when the tab closes). */
export class WebStorage implements KeyValueStorage {
  constructor(private readonly store: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>) {}
  async get(key: string) { return this.store.getItem(key) ?? undefined; }
  async set(key: string, value: string) { this.store.setItem(key, value); }
  async remove(key: string) { this.store.removeItem(key); }
}
