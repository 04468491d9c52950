/** A name as customers type it on USSD or SMS: 2–40 letters, spaces, dots, apostrophes, hyphens. */
const NAME = /^[\p{L}][\p{L} .'-]{1,39}$/u;

/** The name to store (single spaces), or undefined when it is not a name (digits, symbols, too short). */
export function customerName(input: string): string | undefined {
  const name = input.trim().replace(/\s+/g, ' ');
  return NAME.test(name) ? name : undefined;
}
