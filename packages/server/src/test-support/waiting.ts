// Waiting in tests for something the server does over a real connection: a bounded wait, and a response read whole.
import type { ClientRequest, IncomingMessage } from 'node:http';

/** `promise`, or a failure naming `what` once `ms` have passed (a bound far from the expected time, not a timing). */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The response to `req` and its body as text, once it has ended. */
export function responseOf(req: ClientRequest): Promise<{ res: IncomingMessage; text: string }> {
  return new Promise((resolve, reject) => {
    req.on('error', reject);
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk)).on('end', () => resolve({ res, text })).on('error', reject);
    });
  });
}
