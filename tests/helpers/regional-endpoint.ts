import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LOOPBACK } from '../../local/sqs.ts';

/** The region and service a SigV4 request was signed for (`Credential=<key>/<date>/<region>/<service>/aws4_request`). */
export function signedFor(authorization: string | undefined): { region: string; service: string } | undefined {
  const match = /Credential=[^/]+\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(authorization ?? '');
  return match ? { region: match[1]!, service: match[2]! } : undefined;
}

export interface RegionalEndpoint {
  /** http://127.0.0.1:<port>: give it to a client as its endpoint (AWS_ENDPOINT_URL_<SERVICE>). */
  endpoint: string;
  /** Every request received, with the region and service it was signed for ('' when unsigned). */
  readonly requests: ReadonlyArray<{ region: string; service: string }>;
  stop(): Promise<void>;
}

/** Answers a request itself: the status, content type and JSON body to send. */
export type Answer = (body: string, request: IncomingMessage) => { status: number; contentType: string; body: unknown };

/**
 * An AWS service endpoint of one region, as far as the signature goes: a request signed for another region is refused
 * as AWS refuses it (400 InvalidSignatureException, "Credential should be scoped to a valid region"); the others go to
 * `upstream` (an emulator's http://127.0.0.1:<port>, which ignores regions), or are answered by `upstream` itself.
 */
export async function startRegionalEndpoint(region: string, upstream: string | Answer): Promise<RegionalEndpoint> {
  const requests: Array<{ region: string; service: string }> = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const signed = signedFor(req.headers.authorization) ?? { region: '', service: '' };
      requests.push(signed);
      if (signed.region !== region) {
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-errortype': 'InvalidSignatureException' });
        res.end(JSON.stringify({ __type: 'com.amazon.coral.service#InvalidSignatureException', message: `Credential should be scoped to a valid region, not '${signed.region}'.` }));
        return;
      }
      if (typeof upstream !== 'string') {
        const answer = upstream(body.toString('utf8'), req);
        res.writeHead(answer.status, { 'content-type': answer.contentType });
        res.end(JSON.stringify(answer.body));
        return;
      }
      const target = new URL(req.url ?? '/', upstream);
      const forward = httpRequest(target, { method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      forward.on('error', (error) => {
        res.writeHead(502);
        res.end(error.message);
      });
      forward.end(body);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://${LOOPBACK}:${port}`,
    requests,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
