'use strict';
/**
 * Local Serverless plugin (listed in serverless.yml `plugins:`): builds the functions from the tree before
 * their artifacts are used, the way serverless-esbuild hooks the package lifecycle, so `sls package`,
 * `sls deploy` and `sls deploy function -f …` always ship what is in the tree, never a stale dist/.
 *
 * It runs the project's one build (`npm run build`: scripts/build.ts writes dist/<function>.zip), then checks
 * that every local `package.artifact` in serverless.yml was written by that build, and prints one line with
 * the zip sizes. A failed build fails the command, with the build's own output. No AWS call, no credentials.
 *
 * CommonJS, because osls and Serverless v4 load plugins with require() and package.json says "type": "module".
 */
const { spawnSync } = require('node:child_process');
const { statSync } = require('node:fs');
const path = require('node:path');

const BUILD_COMMAND = ['npm', ['run', '--silent', 'build']];
/** Filesystems with coarse timestamps may date a file written during the build slightly before it started. */
const MTIME_TOLERANCE_MS = 2000;
/** IAM's limit on a role name. */
const IAM_NAME_MAX = 64;

class BuildPlugin {
  /**
   * @param {any} serverless
   * @param {Record<string, unknown>} options
   * @param {{ log?: any }} [utils] plugin writers osls and v4 hand to service plugins
   */
  constructor(serverless, options, utils = {}) {
    this.serverless = serverless;
    this.log = utils.log;
    this.built = false;
    const build = () => this.build();
    this.hooks = {
      // Before anything is built: a stage name too long for AWS's name limits fails here, not in CloudFormation.
      'before:package:initialize': () => this.checkNames(),
      // `sls package`, and `sls deploy` (which runs the package lifecycle unless given --package).
      'before:package:createDeploymentArtifacts': build,
      // `sls deploy function -f <name>` packages through this lifecycle instead; serverless-esbuild hooks
      // the deploy function event itself, so both are hooked (the build runs once either way).
      'before:deploy:function:packageFunction': build,
      'before:package:function:package': build,
    };
  }

  notice(message) {
    if (this.log) this.log.notice(message);
    else this.serverless.cli.log(message);
  }

  info(message) {
    if (this.log) this.log.info(message);
  }

  /** The functions' local artifacts, as serverless.yml names them (relative paths) with their absolute paths. */
  artifacts() {
    const service = this.serverless.service;
    return service
      .getAllFunctions()
      .map((name) => service.getFunction(name))
      .map((fn) => fn.package && fn.package.artifact)
      .filter((artifact) => typeof artifact === 'string' && !artifact.startsWith('s3://'))
      .map((artifact) => ({ artifact, file: path.resolve(this.serverless.serviceDir, artifact) }));
  }

  /**
   * IAM role names are at most 64 characters, and serverless.yml names each role
   * <service>-<stage>-<region>-<function> (unique per account). CloudFormation would refuse a longer one only
   * minutes into a deploy; say at once which stage length fits this region.
   */
  checkNames() {
    const provider = this.serverless.getProvider('aws');
    const stage = String(provider.getStage());
    const region = String(provider.getRegion());
    const resources = (this.serverless.service.resources && this.serverless.service.resources.Resources) || {};
    const roles = Object.entries(resources)
      .map(([id, resource]) => ({ id, name: resource && resource.Properties && resource.Properties.RoleName }))
      .filter((role) => typeof role.name === 'string');
    const longest = roles.sort((a, b) => b.name.length - a.name.length)[0];
    if (!longest || longest.name.length <= IAM_NAME_MAX) return;
    const fits = IAM_NAME_MAX - (longest.name.length - stage.length);
    throw new this.serverless.classes.Error(
      `The stage name "${stage}" is too long for ${region}: the IAM role ${longest.id} would be named "${longest.name}" ` +
        `(${longest.name.length} characters; IAM allows ${IAM_NAME_MAX}). Use a stage name of at most ${fits} characters.`,
      'FRONT_WEBHOOKS_STAGE_TOO_LONG',
    );
  }

  build() {
    // One build per command, even if both lifecycles run in it.
    if (this.built) return;
    const cwd = this.serverless.serviceDir;
    const started = Date.now();
    const [command, args] = BUILD_COMMAND;
    const result = spawnSync(command, args, {
      cwd,
      encoding: 'utf8',
      // npm is a .cmd script on Windows, which Node only runs through a shell.
      shell: process.platform === 'win32',
    });
    const output = `${result.stdout || ''}${result.stderr || ''}`.trim();
    const shown = `${command} ${args.join(' ')}`;
    if (result.error || result.status !== 0) {
      const why = result.error ? result.error.message : result.signal ? `killed by ${result.signal}` : `exit code ${result.status}`;
      throw new this.serverless.classes.Error(
        `The build failed (${shown}: ${why}), so nothing was packaged or deployed.\n${output}`,
        'FRONT_WEBHOOKS_BUILD_FAILED',
      );
    }
    this.info(output);

    const sizes = this.artifacts().map(({ artifact, file }) => {
      let stat;
      try {
        stat = statSync(file);
      } catch {
        throw new this.serverless.classes.Error(
          `The build (${shown}) did not write ${artifact}, which serverless.yml deploys. Does its functions/<name>.ts exist?`,
          'FRONT_WEBHOOKS_ARTIFACT_MISSING',
        );
      }
      if (stat.mtimeMs < started - MTIME_TOLERANCE_MS) {
        throw new this.serverless.classes.Error(
          `${artifact} predates this build (${shown} did not write it): it would deploy stale code.`,
          'FRONT_WEBHOOKS_ARTIFACT_STALE',
        );
      }
      return `${artifact} ${(stat.size / 1024).toFixed(1)} KiB`;
    });
    this.built = true;
    this.notice(`Built from the tree in ${Date.now() - started} ms: ${sizes.join(', ')}`);
  }
}

module.exports = BuildPlugin;
