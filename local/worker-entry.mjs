// Worker threads start without the tsx loader the local stack runs under (Node 20 does not apply --import hooks
// to a worker's entry): register it, then load the TypeScript module named by workerData.module.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.module);
