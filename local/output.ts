/**
 * What `npm start` prints: one line per webhook request and one per event outcome, read from the functions' own
 * JSON log lines (the same lines CloudWatch gets), like `stripe listen` prints deliveries: the time, what happened,
 * the event type, the event id on every line (it pairs a request with its processing), the conversation, and then
 * durations, lag, handler and reason. `--json` prints the lines themselves instead.
 */

export type Printed = { text: string; tone: 'ok' | 'warn' | 'bad' | 'info' | 'dim' };

const SYMBOLS = { request: '→', processed: '✓', failed: '✗', deadLettered: '☠', skipped: '↷', deferred: '…', reconcile: '⟳' } as const;

function ms(value: unknown): string | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value)) return undefined;
  return value >= 1000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value * 10) / 10} ms`;
}

function time(line: Record<string, unknown>): string {
  const at = typeof line.timestamp === 'string' ? new Date(line.timestamp) : new Date();
  return Number.isNaN(at.getTime()) ? '--:--:--' : at.toISOString().slice(11, 19);
}

const pad = (text: unknown, width: number) => String(text ?? '-').padEnd(width);
const short = (text: unknown, width: number) => {
  const value = String(text ?? '-');
  return value.length > width ? `${value.slice(0, width - 1)}…` : value.padEnd(width);
};
const join = (...parts: Array<string | false | undefined>) => parts.filter(Boolean).join('  ');

/** The human line for one function log line, or undefined for lines not worth a line of their own. */
export function describeLine(line: Record<string, unknown>): Printed | undefined {
  const head = (symbol: string, outcome: string) =>
    `${time(line)}  ${symbol} ${pad(outcome, 15)} ${pad(line.eventType, 13)} ${short(line.eventId, 16)} ${short(line.conversationId, 15)}`;
  switch (line.message) {
    case 'front webhook request': {
      const status = Number(line.status);
      const tone = status >= 500 ? 'bad' : status >= 400 || line.outcome === 'dead_lettered' || line.outcome === 'too_large' ? 'warn' : 'ok';
      return {
        tone,
        text: join(head(SYMBOLS.request, `${status} ${line.outcome}`), String(line.scheme ?? ''), ms(line.durationMs), line.reason !== undefined && `${line.reason}${line.detail ? `: ${line.detail}` : ''}`),
      };
    }
    case 'front event processed':
      return {
        tone: 'ok',
        text: join(
          head(SYMBOLS.processed, 'processed'),
          `handler ${line.handler}`,
          ms(line.durationMs),
          ms(line.lagMs) && `lag ${ms(line.lagMs)}`,
          line.arrival !== undefined && line.arrival !== 'webhook' && String(line.arrival),
          line.hydrated === true && 'hydrated',
          line.preview === true && 'preview',
          typeof line.attempt === 'number' && line.attempt > 1 && `attempt ${line.attempt}`,
        ),
      };
    case 'front event failed':
      return {
        tone: 'bad',
        text: join(
          head(SYMBOLS.failed, `failed ${line.attempt ?? '?'}/${line.maxAttempts ?? '?'}`),
          `handler ${line.handler}`,
          ms(line.durationMs),
          line.willRetry === true ? `retry in ${line.retryInSeconds ?? '?'} s` : 'no retry left: dead-lettered',
          String(line.reason ?? ''),
        ),
      };
    case 'front event dead-lettered':
      return { tone: 'bad', text: join(head(SYMBOLS.deadLettered, 'dead-lettered'), String(line.reason ?? ''), typeof line.attempts === 'number' && `after ${line.attempts} attempts`, String(line.detail ?? '')) };
    case 'front event skipped':
      return { tone: 'warn', text: join(head(SYMBOLS.skipped, 'skipped'), `already processed ${line.firstProcessedAt ?? ''}`, String(line.arrival ?? '')) };
    case 'front event deferred':
      return { tone: 'warn', text: join(head(SYMBOLS.deferred, 'deferred'), String(line.reason ?? ''), `retry in ${line.retryInSeconds ?? '?'} s`, line.detail !== undefined && String(line.detail)) };
    case 'front event not recorded':
    case 'front event processed twice':
      return { tone: 'bad', text: join(head('!', String(line.message).replace('front event ', '')), String(line.reason ?? line.firstProcessedAt ?? '')) };
    case 'front reconcile run':
      return {
        tone: line.complete === true ? 'info' : line.stoppedBecause === 'unauthorized' ? 'bad' : 'warn',
        text: join(
          `${time(line)}  ${SYMBOLS.reconcile} ${pad('reconcile', 15)}`,
          `seen ${line.seen ?? 0}, already processed ${line.alreadyProcessed ?? 0}${line.alreadyFailing ? `, failing ${line.alreadyFailing}` : ''}, recovered ${line.enqueued ?? 0}`,
          line.complete === true ? `through ${String(line.watermark ?? '').slice(11, 19)}` : `stopped: ${line.stoppedBecause}${line.detail ? ` (${line.detail})` : ''}`,
        ),
      };
    case 'front reconcile off':
      return { tone: 'dim', text: `${time(line)}  ${SYMBOLS.reconcile} ${pad('reconcile off', 15)} ${String(line.reason ?? '')}` };
    case 'front api':
      return undefined;
    default: {
      // A handler's own line (it carries the event's keys) or anything else a function said.
      const { level, message, timestamp: _t, function_request_id: _r, cold_start: _c, eventId, eventType: _y, conversationId: _v, ...rest } = line;
      const fields = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : '';
      return { tone: level === 'ERROR' ? 'bad' : level === 'WARN' ? 'warn' : 'dim', text: `${time(line)}    ${eventId ? `${String(eventId)} ` : ''}${String(message ?? '')}${fields}` };
    }
  }
}

const COLORS: Record<Printed['tone'], [string, string]> = {
  ok: ['\x1b[32m', '\x1b[39m'],
  warn: ['\x1b[33m', '\x1b[39m'],
  bad: ['\x1b[31m', '\x1b[39m'],
  info: ['\x1b[36m', '\x1b[39m'],
  dim: ['\x1b[2m', '\x1b[22m'],
};

/** Colours only for a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function wantsColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  return stream.isTTY === true && (env.NO_COLOR === undefined || env.NO_COLOR === '');
}

export function paint(printed: Printed, color: boolean): string {
  if (!color) return printed.text;
  const [on, off] = COLORS[printed.tone];
  return `${on}${printed.text}${off}`;
}
