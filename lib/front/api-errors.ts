/**
 * What can go wrong when calling Front's Core API, one class per thing the caller does about it:
 * fix the token (auth), wait (rate limited), try again later (unavailable), skip (not found),
 * or look at the configuration (response, request). Messages never quote an event's content.
 */

/** Base class: `request` is `METHOD /path` (no query, no host), `status` Front's HTTP status when there was one. */
export class FrontApiError extends Error {
  override readonly name: string = 'FrontApiError';
  readonly request: string;
  readonly status: number | undefined;

  constructor(message: string, request: string, status?: number, options?: ErrorOptions) {
    super(message, options);
    this.request = request;
    this.status = status;
  }
}

/** 401/403, or no token configured: retrying cannot help, so it is never retried and should page an operator. */
export class FrontAuthError extends FrontApiError {
  override readonly name = 'FrontAuthError';

  static missingToken(request: string): FrontAuthError {
    return new FrontAuthError(
      `no Front API token is configured, so ${request} was not sent: set FRONT_API_TOKEN, or the SSM parameter the deployment names, to a Front API token with the events:*:read scope`,
      request,
    );
  }

  static fromStatus(request: string, status: number, frontMessage: string | undefined): FrontAuthError {
    const said = frontMessage ? ` (Front said: ${frontMessage})` : '';
    const what = status === 403
      ? 'the API token is valid but may not read events: give it the events:*:read scope (Settings > Developers > API tokens)'
      : 'the API token is missing, wrong or revoked: put a valid Front API token in FRONT_API_TOKEN or its SSM parameter';
    return new FrontAuthError(`Front refused ${request} with ${status}${said}: ${what}; retrying will not help`, request, status);
  }
}

/**
 * Front answered 429, or the deployment's share of Front's rate limit has no room before the caller's deadline.
 * `retryAfterMs`: how long from now until a request may be sent; schedule the work again after it.
 */
export class FrontRateLimitedError extends FrontApiError {
  override readonly name = 'FrontRateLimitedError';
  readonly retryAfterMs: number;

  constructor(message: string, request: string, retryAfterMs: number, status?: number) {
    super(message, request, status);
    this.retryAfterMs = Math.max(0, Math.ceil(retryAfterMs));
  }

  static beyondDeadline(request: string, retryAfterMs: number, why: string): FrontRateLimitedError {
    const wait = Math.max(0, Math.ceil(retryAfterMs));
    return new FrontRateLimitedError(
      `${request} may not be sent for another ${wait} ms (${why}), which is past the caller's deadline: try again after retryAfterMs`,
      request,
      wait,
    );
  }
}

/** 5xx, a network failure or a timeout, after the bounded retries: Front or the path to it is down; try again later. */
export class FrontUnavailableError extends FrontApiError {
  override readonly name = 'FrontUnavailableError';
}

/** 404: Front has no such resource for this token's company (wrong id, deleted, or another company's). */
export class FrontNotFoundError extends FrontApiError {
  override readonly name = 'FrontNotFoundError';
}

/** Front refused the request itself (400 and other 4xx): a bug in the query we built, not something to retry. */
export class FrontRequestError extends FrontApiError {
  override readonly name = 'FrontRequestError';
}

/** A 2xx whose body is not what Front documents, a redirect, or a `next` URL we refuse to send the token to. */
export class FrontResponseError extends FrontApiError {
  override readonly name = 'FrontResponseError';
}
