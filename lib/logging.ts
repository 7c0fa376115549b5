import { LogFormatter, Logger, LogItem } from '@aws-lambda-powertools/logger';
import type { LogAttributes, UnformattedAttributes } from '@aws-lambda-powertools/logger/types';

/**
 * The functions' log lines: Powertools Logger's JSON, without the keys CloudWatch already knows from the log group
 * or that no query reads (service, function name, ARN and memory, sampling rate, X-Ray trace id: about 250 bytes a
 * line). Logs are billed per byte ingested and are, after API Gateway, the largest cost per event
 * (docs/deploy.md). Kept: level, message, timestamp, `function_request_id` to tie a line to its invocation, and
 * `cold_start: true` on the lines of an invocation that started a new instance.
 */
export class CompactLogFormatter extends LogFormatter {
  override formatAttributes(attributes: UnformattedAttributes, additionalLogAttributes: LogAttributes): LogItem {
    const context = attributes.lambdaContext;
    return new LogItem({
      attributes: {
        level: attributes.logLevel,
        message: attributes.message,
        timestamp: this.formatTimestamp(attributes.timestamp),
        ...(context && { function_request_id: context.awsRequestId, ...(context.coldStart && { cold_start: true }) }),
      },
    }).addAttributes(additionalLogAttributes);
  }
}

/** The logger of one function, built once at cold start. */
export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName, logFormatter: new CompactLogFormatter() });
}
