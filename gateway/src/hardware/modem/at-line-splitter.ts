import { Transform, type TransformCallback } from 'node:stream';

/** What the modem sends before the SMS text: a prompt that is not followed by a line end. */
export const SMS_PROMPT = '> ';
const MAX_PARTIAL = 4096;

/**
 * Bytes from the modem → trimmed non-empty lines (any of CR, LF, CRLF ends one),
 * plus the SMS prompt as a token of its own. A line-only parser (parser-readline)
 * would hold the prompt until the next line end, which never comes.
 */
export class AtLineSplitter extends Transform {
  private partial = '';

  constructor() {
    super({ readableObjectMode: true });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const lines = (this.partial + chunk.toString('latin1')).split(/\r\n|\r|\n/);
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.pushLine(line);
    if (this.partial.trim() === '>') {
      this.push(SMS_PROMPT);
      this.partial = '';
    }
    // Line noise without line ends must not grow without bound.
    if (this.partial.length > MAX_PARTIAL) this.partial = '';
    callback();
  }

  override _flush(callback: TransformCallback): void {
    this.pushLine(this.partial);
    this.partial = '';
    callback();
  }

  private pushLine(line: string): void {
    const trimmed = line.trim();
    if (trimmed) this.push(trimmed);
  }
}
