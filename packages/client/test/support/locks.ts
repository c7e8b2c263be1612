// An in-memory Web Locks manager (exclusive locks only) for Node, which has no
// `navigator.locks` before v22: requests queue per name, `signal` takes a queued request
// back, `steal` takes the lock from its holder (whose request then rejects with an
// AbortError, as in browsers). One manager stands for one browser: share it between the
// engines that play its tabs. Browser behaviour (freezing, crashes) is tested in Chromium.
import type { LockManagerLike } from '../../src/tabs/leader.js';

interface Request {
  name: string;
  callback: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

const abortError = (message: string): DOMException => new DOMException(message, 'AbortError');

export class FakeLocks implements LockManagerLike {
  private readonly holders = new Map<string, Request>();
  private readonly queues = new Map<string, Request[]>();

  /** Who holds `name` now: for assertions. */
  isHeld(name: string): boolean {
    return this.holders.has(name);
  }

  request(
    name: string,
    options: { steal?: boolean; signal?: AbortSignal },
    callback: () => unknown,
  ): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const request: Request = { name, callback, resolve, reject };
      if (options.steal) {
        const holder = this.holders.get(name);
        this.holders.delete(name);
        holder?.reject(abortError('the lock was stolen'));
        this.run(request);
        return;
      }
      const queue = this.queues.get(name) ?? [];
      this.queues.set(name, queue);
      queue.push(request);
      options.signal?.addEventListener('abort', () => {
        const at = queue.indexOf(request);
        if (at < 0) return;
        queue.splice(at, 1);
        reject(abortError('the request was aborted'));
      });
      this.grant(name);
    });
  }

  private grant(name: string): void {
    if (this.holders.has(name)) return;
    const next = this.queues.get(name)?.shift();
    if (next) this.run(next);
  }

  private run(request: Request): void {
    this.holders.set(request.name, request);
    const done = (): void => {
      if (this.holders.get(request.name) !== request) return;
      this.holders.delete(request.name);
      this.grant(request.name);
    };
    Promise.resolve()
      .then(request.callback)
      .then(
        (value) => {
          done();
          request.resolve(value);
        },
        (error: unknown) => {
          done();
          request.reject(error);
        },
      );
  }
}
