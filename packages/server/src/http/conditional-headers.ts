// `If-Match` / `If-None-Match` carry revisions as entity tags. The ETag we send is
// `"<epoch>.<revision>"`: the epoch names the incarnation of the user's revision counter,
// so a tag can never name two different contents (a store that lost its data starts a
// new epoch). A bare `"<revision>"` (also `W/"12"` or 12) is still accepted and compares
// the revision only. `*` means "any revision".
import { InvalidRequestError } from '../errors.js';

const TAG = /^\s*(?:W\/)?"?(?:([A-Za-z0-9_-]{1,64})\.)?(\d{1,15})"?\s*$/;

/** A condition: the revision, and the epoch when the tag named one. */
export interface RevisionTag {
  revision: number;
  epoch?: string;
}

/** The ETag of a revision; the bare revision when the epoch is unknown (''). */
export function etagOf(revision: number, epoch = ''): string {
  return epoch === '' ? `"${revision}"` : `"${epoch}.${revision}"`;
}

function parseTag(text: string): RevisionTag | undefined {
  const match = TAG.exec(text);
  if (!match?.[2]) return undefined;
  const revision = Number(match[2]);
  return match[1] === undefined ? { revision } : { revision, epoch: match[1] };
}

/** The tag an `If-Match` requires, or undefined when there is no condition (absent or `*`). */
export function parseIfMatch(header: string | undefined): RevisionTag | undefined {
  if (header === undefined || header.trim() === '*') return undefined;
  const tag = parseTag(header);
  if (!tag) {
    throw new InvalidRequestError(
      'If-Match must be an ETag like "<epoch>.12" or a revision like "12"',
    );
  }
  return tag;
}

/** True when `If-None-Match` names the current revision (and epoch, if it names one), or is `*`. */
export function matchesIfNoneMatch(
  header: string | undefined,
  revision: number,
  epoch = '',
): boolean {
  if (header === undefined) return false;
  return header.split(',').some((part) => {
    if (part.trim() === '*') return true;
    const tag = parseTag(part);
    if (!tag || tag.revision !== revision) return false;
    return tag.epoch === undefined || tag.epoch === epoch;
  });
}
