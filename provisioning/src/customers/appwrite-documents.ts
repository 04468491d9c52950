import { AppwriteException, Client, Databases, Query, type Models } from 'node-appwrite';
import { ProvisioningError } from '../provisioning-error.js';

export interface AppwriteCollection {
  endpoint: string;
  project: string;
  database: string;
  collection: string;
  /** Server API key with documents.read; from the environment only. */
  apiKey: string;
}

/**
 * Every document of a collection, a page at a time, ordered by `$id` and paged by cursor
 * (offsets get slow and skip rows on a collection that changes while it is read).
 */
export async function* appwriteDocumentPages(
  source: AppwriteCollection,
  pageSize = 100,
): AsyncGenerator<Models.DefaultDocument[]> {
  const client = new Client().setEndpoint(source.endpoint).setProject(source.project).setKey(source.apiKey);
  const databases = new Databases(client);
  let cursor: string | undefined;
  for (;;) {
    const queries = [Query.orderAsc('$id'), Query.limit(pageSize), ...(cursor ? [Query.cursorAfter(cursor)] : [])];
    const page = await listPage(databases, source, queries);
    if (page.documents.length > 0) yield page.documents;
    if (page.documents.length < pageSize) return;
    cursor = page.documents.at(-1)!.$id;
  }
}

async function listPage(
  databases: Databases,
  source: AppwriteCollection,
  queries: string[],
): Promise<Models.DocumentList<Models.DefaultDocument>> {
  try {
    return await databases.listDocuments({ databaseId: source.database, collectionId: source.collection, queries });
  } catch (error) {
    if (error instanceof AppwriteException) {
      throw new ProvisioningError(
        'APPWRITE_FAILED',
        `Appwrite refused to list ${source.database}/${source.collection} (${error.code} ${error.type}): ${error.message}`,
      );
    }
    throw new ProvisioningError(
      'APPWRITE_FAILED',
      `cannot reach Appwrite at ${source.endpoint}: ${(error as Error).message}`,
    );
  }
}
