import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';

/** What the process function counts; one flush per invocation. */
export interface ProcessMetrics {
  processed(eventType: string, lagMs: number | undefined): void;
  failed(eventType: string | undefined): void;
  deadLettered(reason: string): void;
  /** An event delivered again after its handler had succeeded. */
  skipped(): void;
  /** A recovered event (from Front's Events API) whose handler ran: the webhook never brought it. */
  recovered(): void;
  /** Front refused the API token. */
  frontAuthFailed(): void;
  flush(): void;
}

/** Counts nothing: for benchmarks and tools that run the process logic without CloudWatch. */
export const noMetrics: ProcessMetrics = {
  processed() {}, failed() {}, deadLettered() {}, skipped() {}, recovered() {}, frontAuthFailed() {}, flush() {},
};

export const METRIC = {
  processed: 'EventsProcessed',
  failed: 'EventsFailed',
  deadLettered: 'EventsDeadLettered',
  skipped: 'EventsSkipped',
  recovered: 'EventsRecovered',
  frontAuthFailed: 'FrontApiAuthFailures',
  lag: 'EventLag',
} as const;

/**
 * CloudWatch Embedded Metric Format through Powertools Metrics (namespace POWERTOOLS_METRICS_NAMESPACE,
 * dimension `service`): one EMF line per invocation with the totals and every lag value, plus one line per
 * event type seen with EventsProcessed by `eventType`.
 */
export function emfMetrics(metrics: Metrics): ProcessMetrics {
  const byType = new Map<string, number>();
  let recorded = false;
  return {
    processed(eventType, lag) {
      recorded = true;
      metrics.addMetric(METRIC.processed, MetricUnit.Count, 1);
      if (lag !== undefined) metrics.addMetric(METRIC.lag, MetricUnit.Milliseconds, lag);
      byType.set(eventType, (byType.get(eventType) ?? 0) + 1);
    },
    failed() {
      recorded = true;
      metrics.addMetric(METRIC.failed, MetricUnit.Count, 1);
    },
    deadLettered() {
      recorded = true;
      metrics.addMetric(METRIC.deadLettered, MetricUnit.Count, 1);
    },
    skipped() {
      recorded = true;
      metrics.addMetric(METRIC.skipped, MetricUnit.Count, 1);
    },
    recovered() {
      recorded = true;
      metrics.addMetric(METRIC.recovered, MetricUnit.Count, 1);
    },
    frontAuthFailed() {
      recorded = true;
      metrics.addMetric(METRIC.frontAuthFailed, MetricUnit.Count, 1);
    },
    flush() {
      if (recorded) metrics.publishStoredMetrics();
      for (const [eventType, count] of byType) {
        const single = metrics.singleMetric();
        single.addDimension('eventType', eventType);
        single.addMetric(METRIC.processed, MetricUnit.Count, count);
      }
      byType.clear();
      recorded = false;
    },
  };
}
