// `If-Match` / `If-None-Match` carry revisions as entity tags: `"12"` (also `W/"12"`
// or a bare 12). `*` means "any revision".
import { InvalidRequestError } from '../errors.js';

const TAG = /^\s*(?:W\/)?"?(\d{1,15})"?\s*$/;

export function etagOf(revision: number): string {
  return `"${revision}"`;
}

/** The revision an `If-Match` requires, or undefined when there is no condition (absent or `*`). */
export function parseIfMatch(header: string | undefined): number | undefined {
  if (header === undefined || header.trim() === '*') return undefined;
  const match = TAG.exec(header);
  if (!match?.[1]) throw new InvalidRequestError('If-Match must be a revision like "12"');
  return Number(match[1]);
}

/** True when `If-None-Match` names the current revision (or is `*`). */
export function matchesIfNoneMatch(header: string | undefined, revision: number): boolean {
  if (header === undefined) return false;
  return header.split(',').some((part) => {
    if (part.trim() === '*') return true;
    const match = TAG.exec(part);
    return match?.[1] !== undefined && Number(match[1]) === revision;
  });
}
