/**
 * Sending realistic Front events to the local stack, as `npm run send` and the inspector page do: signed as Front
 * signs them, recorded first in the fake Front API (as Front records every event it emits, so the reconciliation
 * sees what Front would), or only recorded (a webhook Front "missed"), or left in the DLQ as the process function
 * leaves an event whose handler failed every attempt.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { FrontEventBody } from '../lib/front/event.ts';
import { appEnvelope, sampleEvent, signedHeaders, syncEnvelope } from '../lib/front/samples.ts';
import { ATTR, eventMessage, failureAttributes, sendToQueue } from '../lib/queue.ts';
import queues from '../lib/queues.json' with { type: 'json' };
import type { Scheme } from '../lib/signature.ts';
import type { EventStore } from '../lib/store/events.ts';

export interface SendOptions {
  /** The webhook URL (the local stack's, or a deployed one). */
  url: string;
  scheme: Scheme;
  secret: string;
  type: string;
  preview?: boolean;
  conversationId?: string;
  /** An application-webhook sync with x-front-challenge instead of an event. */
  challenge?: boolean;
  /** The local stack's fake Front API: events are recorded there first. */
  frontUrl?: string;
  /** Record the event in the fake Front API only: the webhook Front never delivered. */
  missed?: boolean;
  /** Put the event in this DLQ as a handler that failed every attempt leaves it, instead of sending it. */
  deadLetter?: DeadLetterTarget;
}

export type SendResult =
  | { kind: 'sent'; eventId?: string; type: string; status: number; body: string }
  | { kind: 'recorded'; eventId: string; type: string }
  | { kind: 'dead_lettered'; eventId: string; type: string; attempts: number };

export async function recordInFront(frontUrl: string, events: FrontEventBody[]): Promise<void> {
  const response = await fetch(`${frontUrl}/_fake/events`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(events), signal: AbortSignal.timeout(5000),
  });
  if (!response.ok) throw new Error(`the fake Front API answered ${response.status}: ${await response.text()}`);
}

/** The local DLQ, and the state table where the process function counts an event's failed attempts. */
export interface DeadLetterTarget {
  client: SQSClient;
  dlqUrl: string;
  store: Pick<EventStore, 'recordFailure'>;
}

/**
 * Exactly what the process function leaves when an event's handler failed its last attempt: the failed attempts in
 * the state table (so a redrive that fails again is dead-lettered at once, as a real letter's is), then the letter.
 */
export async function deadLetterSample(event: FrontEventBody, target: DeadLetterTarget): Promise<number> {
  const message = eventMessage(Buffer.from(JSON.stringify(event)), event, { scheme: 'rule', receivedAt: new Date().toISOString() });
  const attempts = queues.processing.maxHandlerAttempts;
  Object.assign(message.attributes, failureAttributes('handler_failed', 'Error: the CRM answered 503 (a dead letter made by npm run send --dead-letter)'), { [ATTR.attempts]: String(attempts) });
  message.groupId = `handler_failed-${event.id}`;
  message.deduplicationId = `handler_failed-${event.id}`;
  for (let attempt = 0; attempt < attempts; attempt++) await target.store.recordFailure(event.id, new Date());
  await sendToQueue(target.client, target.dlqUrl, message, 5000);
  return attempts;
}

export async function sendOne(options: SendOptions): Promise<SendResult> {
  const event = sampleEvent({ type: options.type, preview: options.preview ?? false, ...(options.conversationId && { conversationId: options.conversationId }) });
  if (options.deadLetter) {
    return { kind: 'dead_lettered', eventId: event.id, type: event.type, attempts: await deadLetterSample(event, options.deadLetter) };
  }
  if (options.frontUrl && !options.challenge) {
    await recordInFront(options.frontUrl, [event]);
    if (options.missed) return { kind: 'recorded', eventId: event.id, type: event.type };
  }
  const body = JSON.stringify(options.challenge ? syncEnvelope() : options.scheme === 'app' ? appEnvelope(event) : event);
  const headers = {
    ...signedHeaders(options.scheme, options.secret, body),
    ...(options.challenge && { 'x-front-challenge': `challenge-${Date.now()}` }),
  };
  const response = await fetch(options.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(10_000) });
  return { kind: 'sent', ...(!options.challenge && { eventId: event.id }), type: options.challenge ? 'sync' : event.type, status: response.status, body: await response.text() };
}
