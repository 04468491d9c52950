import { randomUUID } from 'node:crypto';

/** Plays Africa's Talking: form-encoded callbacks exactly as AT posts them. */
export async function postForm(
  url: string,
  fields: Record<string, string>,
): Promise<{ status: number; contentType: string; body: string }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? '',
    body: await response.text(),
  };
}

/**
 * One USSD session on a phone: each `send` is a keypress-and-OK, and AT posts every input so
 * far joined by `*`. Asserts the AT contract (200, text/plain, CON/END, ≤ 160 chars) on every screen.
 */
export function ussdSession(baseUrl: string, phoneNumber: string, networkCode = '64110', query = '') {
  const sessionId = `ATUid_${randomUUID()}`;
  const inputs: string[] = [];
  const post = async (): Promise<string> => {
    const response = await postForm(`${baseUrl}/ussd${query}`, {
      sessionId,
      serviceCode: '*123#',
      phoneNumber,
      networkCode,
      text: inputs.join('*'),
    });
    if (response.status !== 200) throw new Error(`USSD answered HTTP ${response.status}`);
    if (!response.contentType.startsWith('text/plain')) throw new Error(`USSD answered ${response.contentType}`);
    if (!/^(CON|END) /.test(response.body))
      throw new Error(`USSD answer does not start with CON/END: ${response.body}`);
    if (response.body.length > 160)
      throw new Error(`USSD screen has ${response.body.length} characters: ${response.body}`);
    return response.body;
  };
  return {
    start: post,
    send(input: string): Promise<string> {
      inputs.push(input);
      return post();
    },
  };
}

/** Runs a whole session and returns every screen. */
export async function dial(
  baseUrl: string,
  phone: string,
  inputs: string[],
  networkCode = '64110',
  query = '',
): Promise<string[]> {
  const session = ussdSession(baseUrl, phone, networkCode, query);
  const screens = [await session.start()];
  for (const input of inputs) screens.push(await session.send(input));
  return screens;
}

export function inboundSms(baseUrl: string, from: string, text: string, id: string = randomUUID()) {
  return postForm(`${baseUrl}/sms/inbound`, {
    from,
    to: '12345',
    text,
    date: new Date().toISOString(),
    id,
    linkId: randomUUID(),
  });
}
