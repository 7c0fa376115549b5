import { createDynamoClient, createDynamoEventStore, type EventStore } from '../../lib/store/events.ts';
import { createStateTable, startLocalDynamo } from '../../local/dynamodb.ts';

export interface TestStore {
  endpoint: string;
  tableName: string;
  /** The state table as the process function uses it, through the AWS SDK, on dynalite. */
  store: EventStore;
  /** A store on the same table with another clock (record expiry). */
  storeAt(now: () => number): EventStore;
  /** A fresh, empty table, so each test starts with no records. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

let tables = 0;

/** dynalite in-process on loopback, with the state table of lib/table.json. */
export async function startTestStore(prefix = 'test'): Promise<TestStore> {
  const dynamo = await startLocalDynamo({ port: 0, prefix });
  const client = createDynamoClient(dynamo.endpoint);
  const result: TestStore = {
    endpoint: dynamo.endpoint,
    tableName: dynamo.tableName,
    store: createDynamoEventStore({ client, tableName: dynamo.tableName }),
    storeAt: (now) => createDynamoEventStore({ client, tableName: result.tableName, now }),
    async reset() {
      result.tableName = `${prefix}-state-${++tables}`;
      await createStateTable(dynamo.client, result.tableName);
      result.store = createDynamoEventStore({ client, tableName: result.tableName });
    },
    async stop() {
      client.destroy();
      await dynamo.stop();
    },
  };
  return result;
}
