// The RateLimitedError a limiter's synchronous take throws; fails the test when it admits.
import { RateLimitedError } from '../../src/errors.js';

export function refusalOf(take: () => unknown): RateLimitedError {
  try {
    take();
  } catch (error) {
    if (error instanceof RateLimitedError) return error;
    throw error;
  }
  throw new Error('expected a RateLimitedError, the take was admitted');
}
