/**
 * The slice of Appwrite's REST API the import uses: listing documents with queries, as
 * node-appwrite 27 sends it (`GET /v1/databases/{db}/collections/{col}/documents?queries[0]=<json>&…`,
 * `X-Appwrite-Project` and `X-Appwrite-Key` headers) and answers in Appwrite's shapes.
 */
import Fastify, { type FastifyReply } from 'fastify';

export interface SimulatedCollection {
  project: string;
  apiKey: string;
  database: string;
  collection: string;
  /** Attribute values of each document; `$id` required. */
  documents: readonly (Record<string, unknown> & { $id: string })[];
}

export interface AppwriteSimulator {
  endpoint: string;
  /** The `queries` of every list request, parsed, in order. */
  requests: { queries: Query[] }[];
  close(): Promise<void>;
}

interface Query {
  method: string;
  attribute?: string;
  values?: unknown[];
}

const DEFAULT_LIMIT = 25;
const MAX_LIMIT = 5000;

function appwriteError(reply: FastifyReply, code: number, type: string, message: string): FastifyReply {
  return reply.code(code).type('application/json').send({ message, code, type, version: '1.8.0' });
}

export async function startAppwriteSimulator(data: SimulatedCollection): Promise<AppwriteSimulator> {
  const app = Fastify({ logger: false });
  const requests: { queries: Query[] }[] = [];
  const createdAt = '2025-08-10T00:00:00.000+00:00';
  const stored = [...data.documents]
    .sort((a, b) => (a.$id < b.$id ? -1 : a.$id > b.$id ? 1 : 0))
    .map((document, index) => ({
      $sequence: index + 1,
      $collectionId: data.collection,
      $databaseId: data.database,
      $createdAt: createdAt,
      $updatedAt: createdAt,
      $permissions: [],
      ...document,
    }));

  app.get<{ Params: { databaseId: string; collectionId: string }; Querystring: Record<string, string | string[]> }>(
    '/v1/databases/:databaseId/collections/:collectionId/documents',
    async (request, reply) => {
      if (request.headers['x-appwrite-project'] !== data.project) {
        return appwriteError(reply, 404, 'project_not_found', 'Project with the requested ID could not be found.');
      }
      if (request.headers['x-appwrite-key'] !== data.apiKey) {
        return appwriteError(
          reply,
          401,
          'user_unauthorized',
          'The current user is not authorized to perform the requested action.',
        );
      }
      if (request.params.databaseId !== data.database) {
        return appwriteError(reply, 404, 'database_not_found', 'Database not found');
      }
      if (request.params.collectionId !== data.collection) {
        return appwriteError(
          reply,
          404,
          'collection_not_found',
          'Collection with the requested ID could not be found.',
        );
      }
      let queries: Query[];
      try {
        queries = Object.entries(request.query)
          .filter(([key]) => /^queries\[\d*\]$/.test(key))
          .flatMap(([, value]) => (Array.isArray(value) ? value : [value]))
          .map((text) => JSON.parse(text) as Query);
      } catch {
        return appwriteError(reply, 400, 'general_query_invalid', 'Invalid query: Syntax error');
      }
      requests.push({ queries });
      let documents = stored;
      let limit = DEFAULT_LIMIT;
      for (const query of queries) {
        const value = query.values?.[0];
        if (query.method === 'limit' && typeof value === 'number' && value >= 1 && value <= MAX_LIMIT) limit = value;
        else if (query.method === 'orderAsc' && query.attribute === '$id') documents = [...documents];
        else if (query.method === 'cursorAfter' && typeof value === 'string') {
          const at = stored.findIndex((document) => document.$id === value);
          if (at < 0)
            return appwriteError(
              reply,
              400,
              'general_cursor_not_found',
              `Document '${value}' for the 'cursor' value not found.`,
            );
          documents = stored.slice(at + 1);
        } else
          return appwriteError(
            reply,
            400,
            'general_query_invalid',
            `Invalid query: ${query.method} is not supported here`,
          );
      }
      return reply.type('application/json').send({ total: stored.length, documents: documents.slice(0, limit) });
    },
  );

  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { endpoint: `http://127.0.0.1:${port}/v1`, requests, close: () => app.close() };
}
