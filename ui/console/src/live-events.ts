/** What the cloud's live feed (`GET /console/api/live`, server-sent events) sends. */
export type LiveKind = 'alert' | 'dispense' | 'kiosk' | 'rollout';

/**
 * Listens to the console's live feed while a page is shown; the browser's EventSource reconnects
 * by itself after a dropped connection. Returns the function that stops listening.
 */
export function listenLive(kinds: readonly LiveKind[], onEvent: (kind: LiveKind, data: unknown) => void): () => void {
  const source = new EventSource('/console/api/live');
  for (const kind of kinds) source.addEventListener(kind, (event) => onEvent(kind, JSON.parse(event.data) as unknown));
  return () => source.close();
}
