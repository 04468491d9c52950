/**
 * `@tusafishe/cloud/console-api`: the console API's shapes for the console app (import types
 * only, so no zod reaches the browser bundle). A section adds its own schemas' types here.
 */
import type * as z from 'zod';
import type { Me } from './api-schemas.js';

export type { OperatorRole } from './roles.js';
export type ConsoleMe = z.infer<typeof Me>;
