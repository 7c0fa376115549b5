/**
 * fauxqs in its own process, so a benchmark's CPU figures count the client side only.
 * Prints one JSON line `{endpoint, queueUrl, dlqUrl}` on stdout, then serves until stdin closes.
 * `node --import tsx bench/sqs-server.ts`
 */
import { startTestSqs } from '../tests/helpers/sqs.ts';

const sqs = await startTestSqs('bench');
process.stdout.write(`${JSON.stringify({ endpoint: sqs.endpoint, queueUrl: sqs.queueUrl, dlqUrl: sqs.dlqUrl })}\n`);
// Benchmarks send thousands of messages: drop them as they come so the server's memory stays flat.
const purge = setInterval(() => void sqs.reset(), 1000);
process.stdin.resume();
process.stdin.on('end', async () => {
  clearInterval(purge);
  await sqs.stop();
  process.exit(0);
});
