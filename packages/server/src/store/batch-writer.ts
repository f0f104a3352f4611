// A batched writer: concurrent callers each `add` an item and await the commit of the batch that carries it. The
// owner supplies the write, one statement (or one transaction) for a whole batch that returns one result per item,
// in order, so per-item outcomes ("this jti was already used") reach the caller whose item it was.
//
// Guarantees:
// - A caller's promise settles only after the write of its batch has settled: resolved with its own result once the
//   batch is committed, rejected (every caller of the batch, with the same error) when the write fails. Nothing is
//   acknowledged before its commit, and nothing added is dropped: `close()` writes whatever is still waiting.
// - A batch is written when `maxItems` items are waiting, or when its oldest item has waited `maxDelayMs` (0: at the
//   next turn of the event loop, so the items added in one turn go together), or on `flush()` / `close()`.
// - At most `maxConcurrent` batches are being written at once; meanwhile new items wait and form the next batch
//   (so a busy writer batches more). With `maxConcurrent: 1` (the default) batches are written strictly one after
//   another, in the order their items were added: what an ordered log (the audit trail's hash chain) needs.
// - Items keep their order: within a batch, in the order they were added, and batches are formed in that order.

export interface BatchWriterOptions<I, R> {
  /**
   * Writes `items` in one statement or transaction and returns one result per item, in the same order. Resolves
   * only once the batch is committed; a rejection fails every item of the batch. It is never called with an empty
   * batch, and never called again for the same items.
   */
  write: (items: I[]) => Promise<R[]>;
  /** The most items in one batch; a batch is written as soon as this many are waiting. Default 100. */
  maxItems?: number;
  /** The longest the oldest waiting item waits before its batch is written, in milliseconds. Default 2. */
  maxDelayMs?: number;
  /** How many batches may be written at the same time. Default 1 (strictly ordered). */
  maxConcurrent?: number;
}

export interface BatchWriterStats {
  /** Batches written (successfully or not). */
  batches: number;
  /** Items in those batches. */
  items: number;
  /** Batches whose write failed. */
  failedBatches: number;
  /** The largest batch written. */
  largestBatch: number;
}

export class BatchWriterClosedError extends Error {
  constructor() {
    super('the batch writer is closed');
    this.name = 'BatchWriterClosedError';
  }
}

interface Entry<I, R> {
  item: I;
  /** Position in the order of `add` calls. */
  seq: number;
  /** When it was added (performance.now()). */
  at: number;
  resolve: (result: R) => void;
  reject: (err: unknown) => void;
}

export class BatchWriter<I, R> {
  readonly #write: (items: I[]) => Promise<R[]>;
  readonly #maxItems: number;
  readonly #maxDelayMs: number;
  readonly #maxConcurrent: number;
  #pending: Entry<I, R>[] = [];
  /** The lowest seq of each batch being written. */
  #writing = new Set<number>();
  #nextSeq = 0;
  /** Items with a seq below this are written without waiting for their delay (flush / close). */
  #forceBelow = 0;
  /** Items with a seq below this have reached their delay (the timer fired for them). */
  #dueBelow = 0;
  #timer: { cancel: () => void; due: number } | undefined;
  #waiters: (() => void)[] = [];
  #closing: Promise<void> | undefined;
  readonly #stats: BatchWriterStats = { batches: 0, items: 0, failedBatches: 0, largestBatch: 0 };

  constructor(opts: BatchWriterOptions<I, R>) {
    const { maxItems = 100, maxDelayMs = 2, maxConcurrent = 1 } = opts;
    if (!Number.isInteger(maxItems) || maxItems < 1) throw new RangeError('maxItems must be a positive integer');
    if (!Number.isFinite(maxDelayMs) || maxDelayMs < 0) throw new RangeError('maxDelayMs must be a number ≥ 0');
    if (!Number.isInteger(maxConcurrent) || maxConcurrent < 1) throw new RangeError('maxConcurrent must be a positive integer');
    this.#write = opts.write;
    this.#maxItems = maxItems;
    this.#maxDelayMs = maxDelayMs;
    this.#maxConcurrent = maxConcurrent;
  }

  /** Adds an item; resolves with its result once its batch is committed, rejects when that batch fails. */
  add(item: I): Promise<R> {
    if (this.#closing) return Promise.reject(new BatchWriterClosedError());
    return new Promise<R>((resolve, reject) => {
      this.#pending.push({ item, seq: this.#nextSeq++, at: performance.now(), resolve, reject });
      this.#pump();
    });
  }

  /** Items waiting for a batch (not yet being written). */
  get waiting(): number {
    return this.#pending.length;
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  get stats(): Readonly<BatchWriterStats> {
    return { ...this.#stats };
  }

  /**
   * Writes every item added so far without waiting for its delay, and resolves when all of them have settled
   * (committed or failed: the callers of `add` see the failures). Items added later are not waited for.
   */
  async flush(): Promise<void> {
    const target = this.#nextSeq;
    this.#forceBelow = Math.max(this.#forceBelow, target);
    this.#pump();
    while (this.#oldestUnsettled() < target) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  /** Refuses new items, writes the waiting ones, and resolves when every batch has settled. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.flush();
    return this.#closing;
  }

  /** The lowest seq not yet settled (pending or being written); `#nextSeq` when everything has settled. */
  #oldestUnsettled(): number {
    let oldest = this.#pending[0]?.seq ?? this.#nextSeq;
    for (const seq of this.#writing) if (seq < oldest) oldest = seq;
    return oldest;
  }

  /** Starts every batch that is due and has a free slot; arms the timer for the rest. */
  #pump(): void {
    while (this.#pending.length > 0 && this.#writing.size < this.#maxConcurrent) {
      const first = this.#pending[0]!;
      const due = this.#pending.length >= this.#maxItems || first.seq < this.#forceBelow || first.seq < this.#dueBelow
        || (this.#maxDelayMs > 0 && performance.now() - first.at >= this.#maxDelayMs);
      if (!due) break;
      void this.#run(this.#pending.splice(0, this.#maxItems));
    }
    this.#arm();
  }

  /** Keeps a timer for the oldest waiting item's deadline, when a slot could take it (otherwise a settling batch pumps). */
  #arm(): void {
    const first = this.#pending[0];
    if (!first || this.#writing.size >= this.#maxConcurrent) {
      this.#disarm();
      return;
    }
    const due = first.at + this.#maxDelayMs;
    if (this.#timer && this.#timer.due <= due) return;
    this.#disarm();
    const fire = () => {
      this.#timer = undefined;
      this.#dueBelow = Math.max(this.#dueBelow, first.seq + 1); // later items ride along, up to maxItems
      this.#pump();
    };
    if (this.#maxDelayMs === 0) {
      const handle = setImmediate(fire);
      this.#timer = { due, cancel: () => clearImmediate(handle) };
    } else {
      const handle = setTimeout(fire, Math.max(0, due - performance.now()));
      this.#timer = { due, cancel: () => clearTimeout(handle) };
    }
  }

  #disarm(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  async #run(batch: Entry<I, R>[]): Promise<void> {
    const id = batch[0]!.seq;
    this.#writing.add(id);
    this.#stats.batches++;
    this.#stats.items += batch.length;
    this.#stats.largestBatch = Math.max(this.#stats.largestBatch, batch.length);
    try {
      let results: R[];
      try {
        results = await this.#write(batch.map((e) => e.item));
        if (!Array.isArray(results) || results.length !== batch.length) {
          throw new Error(`batch write returned ${Array.isArray(results) ? results.length : typeof results} results for ${batch.length} items`);
        }
      } catch (err) {
        this.#stats.failedBatches++;
        for (const e of batch) e.reject(err);
        return;
      }
      batch.forEach((e, i) => e.resolve(results[i]!));
    } finally {
      this.#writing.delete(id);
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const w of waiters) w();
      this.#pump();
    }
  }
}
