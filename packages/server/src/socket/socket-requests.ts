// The socket's requests: `save`, `patch-save` and `delete` run on the persistence service
// exactly as their HTTP routes do, answered with `saved` / `delete-ack` or `error` (same
// statuses and bodies as HTTP) and counted in the metrics as the HTTP ones are.
import {
  type ClientMessage,
  JSON_PATCH_CONTENT_TYPE,
  MERGE_PATCH_CONTENT_TYPE,
  type ServerMessage,
  type StatePatchRequest,
} from '@hyvve/schema';
import type { Identity } from '../auth/token.js';
import { toApiError } from '../errors.js';
import type { ServerMetrics } from '../metrics/server-metrics.js';
import { type Limited, refuseAfterSpending } from '../rate-limit/user-limit.js';
import { toPatchRequest } from '../service/apply-patch.js';
import type { StatePersistenceService } from '../service/state-persistence-service.js';

/** Origin of a socket's saves and deletes that name none. */
const WS_ORIGIN = 'ws';

export type SocketRequest = Exclude<ClientMessage, { type: 'auth' }>;

export interface SocketAnswers {
  answer(message: Extract<ServerMessage, { type: 'saved' | 'delete-ack' }>): void;
  error(error: unknown, id?: string): void;
}

export interface RequestContext {
  service: StatePersistenceService;
  metrics: ServerMetrics;
  /** The user's limit, spent in the request's store call. */
  limited: Limited;
}

/** Runs one request of a verified socket and answers it. */
export function answerRequest(
  { service, metrics, limited }: RequestContext,
  identity: Identity,
  message: SocketRequest,
  answers: SocketAnswers,
): Promise<void> {
  const { scope } = identity;
  switch (message.type) {
    case 'save': {
      const ifMatch = message.baseRevision === undefined ? {} : { ifMatch: message.baseRevision };
      return answerSave(message.id, metrics, answers, () =>
        limited(scope, (limit) =>
          service.save(scope, message.state, {
            origin: message.origin ?? WS_ORIGIN,
            ...ifMatch,
            ...limit,
          }),
        ),
      );
    }
    case 'patch-save': {
      const ifMatch = message.baseRevision === undefined ? {} : { ifMatch: message.baseRevision };
      const contentType =
        message.contentType ??
        (Array.isArray(message.patch) ? JSON_PATCH_CONTENT_TYPE : MERGE_PATCH_CONTENT_TYPE);
      // Answered and counted as a save, as HTTP PATCH is.
      return answerSave(message.id, metrics, answers, () =>
        limited(scope, (limit) => {
          let patch: StatePatchRequest;
          try {
            patch = toPatchRequest(contentType, message.patch);
          } catch (error) {
            return refuseAfterSpending(service, scope, limit, error);
          }
          return service.patch(scope, patch, {
            origin: message.origin ?? WS_ORIGIN,
            ...ifMatch,
            ...limit,
          });
        }),
      );
    }
    case 'delete':
      return answerDelete({ service, metrics, limited }, identity, message, answers);
  }
}

/** Runs a save or patch-save, answers `saved` or `error` with its id, and times it. */
async function answerSave(
  id: string,
  metrics: ServerMetrics,
  answers: SocketAnswers,
  run: () => Promise<{ revision: number; savedAt: number; epoch: string }>,
): Promise<void> {
  const started = performance.now();
  try {
    const result = await run();
    answers.answer({
      type: 'saved',
      id,
      revision: result.revision,
      savedAt: result.savedAt,
      epoch: result.epoch,
    });
    metrics.saveFinished('ws', 200, performance.now() - started);
  } catch (error) {
    answers.error(error, id);
    metrics.saveFinished('ws', toApiError(error).status, performance.now() - started);
  }
}

async function answerDelete(
  { service, metrics, limited }: RequestContext,
  identity: Identity,
  message: Extract<ClientMessage, { type: 'delete' }>,
  answers: SocketAnswers,
): Promise<void> {
  try {
    const result = await limited(identity.scope, (limit) =>
      service.delete(identity.scope, { origin: message.origin ?? WS_ORIGIN, ...limit }),
    );
    answers.answer({
      type: 'delete-ack',
      id: message.id,
      revision: result.revision,
      epoch: result.epoch,
    });
    metrics.deleteFinished('ws', 200);
  } catch (error) {
    answers.error(error, message.id);
    metrics.deleteFinished('ws', toApiError(error).status);
  }
}
