/**
 * `sls deploy function -f ingest` builds first and uploads the tree's code, then updates the function's
 * configuration, against a fake Lambda and STS on loopback (AWS_ENDPOINT_URL): the real osls CLI, dummy
 * keys, no AWS account, no network.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { codeSha256, envWithoutAws, removeServiceCopies, serviceCopy, sls, unzipEntry } from './helpers/service.ts';

const ACCOUNT = '123456789012';

interface Call { method: string; path: string; body: Buffer }

/** Just enough of Lambda (REST JSON) and STS (query) for `deploy function`; anything else is refused and recorded. */
function fakeAws(calls: Call[]): Server {
  const read = (req: IncomingMessage) =>
    new Promise<Buffer>((resolve) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c)).on('end', () => resolve(Buffer.concat(chunks)));
    });
  return createServer(async (req, res) => {
    const body = await read(req);
    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    calls.push({ method: req.method ?? '', path, body });
    if (req.method === 'POST' && path === '/' && body.toString().includes('Action=GetCallerIdentity')) {
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.end(`<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>
        <Arn>arn:aws:iam::${ACCOUNT}:user/deployer</Arn><UserId>AIDTEST</UserId><Account>${ACCOUNT}</Account>
        </GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetCallerIdentityResponse>`);
      return;
    }
    const fn = /^\/2015-03-31\/functions\/([^/]+)(\/code|\/configuration)?$/.exec(path);
    if (fn) {
      const configuration = {
        FunctionName: fn[1], CodeSha256: 'the-code-deployed-before', PackageType: 'Zip', Handler: 'index.handler',
        State: 'Active', LastUpdateStatus: 'Successful',
      };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(req.method === 'GET' && !fn[2] ? { Configuration: configuration } : configuration));
      return;
    }
    res.writeHead(400, { 'content-type': 'application/json', 'x-amzn-errortype': 'UnexpectedCall' });
    res.end(JSON.stringify({ message: `the fake does not serve ${req.method} ${path}` }));
  });
}

const calls: Call[] = [];
const server = fakeAws(calls);
let endpoint = '';

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  await new Promise((resolve) => server.close(resolve));
  removeServiceCopies();
});

describe('sls deploy function', () => {
  it('builds, uploads the tree\'s code for that function, and updates its configuration with its role', async () => {
    const marker = `deploy-function-marker-${process.pid}-${Date.now()}`;
    const dir = serviceCopy((d) => {
      appendFileSync(join(d, 'functions', 'ingest.ts'), `\nexport const treeMarker = '${marker}';\n`);
      // What an earlier build left behind: must not be what is uploaded.
      mkdirSync(join(d, 'dist'));
      writeFileSync(join(d, 'dist', 'ingest.zip'), 'stale');
      writeFileSync(join(d, 'dist', 'process.zip'), 'stale');
    });

    const { stdout, stderr } = await sls(dir, ['deploy', 'function', '-f', 'ingest', '--stage', 'fntest'], envWithoutAws({
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_ENDPOINT_URL: endpoint,
      AWS_EC2_METADATA_DISABLED: 'true',
    }));
    const output = `${stdout}${stderr}`;

    assert.equal(output.split('\n').filter((l) => /^Built from the tree in \d+ ms: /.test(l)).length, 1, `built once:\n${output}`);
    const name = 'front-webhooks-fntest-ingest';
    const uploads = calls.filter((c) => c.method === 'PUT' && c.path === `/2015-03-31/functions/${name}/code`);
    assert.equal(uploads.length, 1, `one code upload in ${calls.map((c) => `${c.method} ${c.path}`).join(', ')}`);
    const uploaded = Buffer.from((JSON.parse(uploads[0]!.body.toString()) as { ZipFile: string }).ZipFile, 'base64');
    assert.equal(codeSha256(uploaded), codeSha256(readFileSync(join(dir, 'dist', 'ingest.zip'))), 'the zip the build wrote');
    assert.ok(unzipEntry(uploaded, 'index.mjs').toString().includes(marker), 'built from this tree');

    // osls finds the role by its name (RoleName in serverless.yml); without one it stops after the upload.
    const configurations = calls.filter((c) => c.method === 'PUT' && c.path === `/2015-03-31/functions/${name}/configuration`);
    assert.equal(configurations.length, 1);
    const { Role } = JSON.parse(configurations[0]!.body.toString()) as { Role?: string };
    assert.equal(Role, `arn:aws:iam::${ACCOUNT}:role/front-webhooks-fntest-eu-west-1-ingest`);
    assert.deepEqual(calls.filter((c) => !/^\/(2015-03-31\/functions\/.*)?$/.test(c.path)), [], 'no other AWS call');
  });
});
