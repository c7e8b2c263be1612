// Pre-signed tokens for many users, so the load generators never sign per request.
// Claims follow the contract: HS256 with AUTH_SECRET, `sub` = userId, `wid` = workspaceId.
import { SignJWT } from 'jose';

export const BENCH_WORKSPACE = 'bench-ws';

export function benchUserId(index: number): string {
  return `bench-user-${index}`;
}

export async function signBenchToken(secret: string, userId: string): Promise<string> {
  return new SignJWT({ wid: BENCH_WORKSPACE })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(userId)
    .setIssuedAt()
    .setExpirationTime('2h')
    .sign(new TextEncoder().encode(secret));
}

/** One token per user index 0..count-1. */
export async function signTokenPool(secret: string, count: number): Promise<string[]> {
  return Promise.all(
    Array.from({ length: count }, (_, i) => signBenchToken(secret, benchUserId(i))),
  );
}
