// Whose dashboard a copy is: the workspace and user of the signed-in person. Every stored
// copy and every cross-tab message names its owner, and the engine uses only copies of
// its own owner, so one person's dashboard never reaches another who signs in on the
// same browser. The owner comes from the `owner` option or from the server token's
// claims (`wid`, `sub`), read without verifying the signature: the server verifies, and
// a forged claim could only hide this browser's own copies from itself.

/** The workspace and user a copy belongs to. */
export interface Owner {
  workspaceId: string;
  userId: string;
}

/** A plain JSON object (not null, not an array); shared by the client's readers. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `value` as an owner, or undefined when it is not one. */
export function readOwner(value: unknown): Owner | undefined {
  if (!isRecord(value)) return undefined;
  const { workspaceId, userId } = value;
  if (typeof workspaceId !== 'string' || typeof userId !== 'string') return undefined;
  if (workspaceId.length === 0 || userId.length === 0) return undefined;
  return { workspaceId, userId };
}

/** The claims of a JWT's payload, unverified; null when `token` is not a readable JWT. */
export function tokenClaims(token: string): Record<string, unknown> | null {
  const payload = token.split('.')[1];
  if (payload === undefined || payload.length === 0) return null;
  try {
    // `atob` decodes base64 without its padding (forgiving-base64, as JWTs write it).
    const base64 = payload.replace(/-/g, '+').replace(/_/g, '/');
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const claims: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return isRecord(claims) ? claims : null;
  } catch {
    return null;
  }
}

/** The owner a server token names (`wid` = workspace, `sub` = user), or null. */
export function ownerFromToken(token: string): Owner | null {
  const claims = tokenClaims(token);
  if (!claims) return null;
  return readOwner({ workspaceId: claims.wid, userId: claims.sub }) ?? null;
}

/** Same owner; two copies without one (`null`/`undefined`) count as the same. */
export function sameOwner(a: Owner | null | undefined, b: Owner | null | undefined): boolean {
  if (!a || !b) return !a && !b;
  return a.workspaceId === b.workspaceId && a.userId === b.userId;
}

/** `workspace/user`, or `(none)`: for logs. */
export function describeOwner(owner: Owner | null | undefined): string {
  return owner ? `${owner.workspaceId}/${owner.userId}` : '(none)';
}
