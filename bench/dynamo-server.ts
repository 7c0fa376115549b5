/**
 * dynalite in its own process with the state table of lib/table.json, so a benchmark's figures do not include the
 * emulator's CPU on the measured event loop. Prints one JSON line `{endpoint, tableName}` on stdout, then serves
 * until stdin closes. `node --import tsx bench/dynamo-server.ts`
 */
import { startLocalDynamo } from '../local/dynamodb.ts';

const dynamo = await startLocalDynamo({ port: 0, prefix: 'bench' });
process.stdout.write(`${JSON.stringify({ endpoint: dynamo.endpoint, tableName: dynamo.tableName })}\n`);
process.stdin.resume();
process.stdin.on('end', async () => {
  await dynamo.stop();
  process.exit(0);
});
