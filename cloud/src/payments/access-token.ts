/** An OAuth-style bearer token fetched on demand and reused until shortly before it expires. */
export class AccessToken {
  private token: { value: string; expiresAt: number } | undefined;
  private pending: Promise<string> | undefined;

  constructor(private readonly fetchToken: () => Promise<{ accessToken: string; expiresInS: number }>) {}

  async get(): Promise<string> {
    if (this.token && this.token.expiresAt > Date.now()) return this.token.value;
    this.pending ??= this.fetchToken()
      .then(({ accessToken, expiresInS }) => {
        // Renew 30 s early so a request never carries a token that expires in flight.
        this.token = { value: accessToken, expiresAt: Date.now() + Math.max(0, expiresInS - 30) * 1000 };
        return accessToken;
      })
      .finally(() => {
        this.pending = undefined;
      });
    return this.pending;
  }
}
