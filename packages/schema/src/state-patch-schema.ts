// The Zod schema of a state patch on the wire (`patch` messages). Apart from state-patch.ts
// so that applying a patch (the browser's part) does not bring Zod's runtime along.
import './strict-csp.js';
import { z } from 'zod';
import { MAX_PATCH_POINTER_LENGTH } from './constants.js';

const pointer = z.string().max(MAX_PATCH_POINTER_LENGTH);

export const statePatchSchema = z.array(
  z.discriminatedUnion('op', [
    z.object({ op: z.literal('add'), path: pointer, value: z.unknown() }),
    z.object({ op: z.literal('remove'), path: pointer }),
    z.object({ op: z.literal('replace'), path: pointer, value: z.unknown() }),
  ]),
);
