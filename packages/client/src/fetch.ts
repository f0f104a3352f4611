// A browser's `fetch` must be called with the window (or nothing) as `this`: kept as a property and called as
// `this.fetch(…)` it throws "Illegal invocation". Every stored fetch goes through this wrapper.

/** `f` (default: the global fetch) as a plain function, safe to store and call as a method. */
export function plainFetch(f?: typeof fetch): typeof fetch {
  const impl = f ?? fetch;
  return (input, init) => impl(input, init);
}
