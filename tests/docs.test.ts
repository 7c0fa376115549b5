/**
 * The commands README.md, docs/ and serverless.yml give an operator: each one is complete for a deployed
 * stage (stage and region everywhere, no per-deploy --param, secrets read without echo) and uses only
 * options the tool defines (osls's command schema; the parseArgs options of the project's own scripts).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from './helpers/service.ts';

const SOURCES = ['README.md', 'docs/deploy.md', 'docs/operations.md', 'serverless.yml'];
/** The README section about the local stack: its dlq commands are meant for it, without --stage. */
const LOCAL_SECTION = '## Set up and run locally';
const COMMAND = /^(npx sls|sls|serverless|npm run|npm test|npm start|aws|[A-Z_]+=\$\(aws)\b/;

interface Command {
  source: string;
  section: string;
  /** One shell command: continuation lines joined, comment removed, split at `&&`. */
  text: string;
  /** The fenced shell block it came from (empty for inline code). */
  block: string;
  /** Inline code naming a command without any option (`npx sls deploy`): a mention, not an invocation. */
  mention: boolean;
}

function commandsOf(source: string): Command[] {
  const text = readFileSync(join(ROOT, source), 'utf8');
  const out: Command[] = [];
  const add = (section: string, raw: string, block: string, inline: boolean) => {
    for (const part of raw.split(/\s&&\s/)) {
      const command = part.trim();
      const mention = inline && !words(command).some((w) => w.startsWith('-') && w !== '--');
      if (COMMAND.test(command)) out.push({ source, section, text: command, block, mention });
    }
  };
  // Line by line: a heading (markdown only, outside code) starts a section; ```sh blocks hold commands;
  // inline code spans in the prose between them may too.
  let section = '';
  let fence: { lang: string; lines: string[] } | undefined;
  let prose: string[] = [];
  const flushProse = () => {
    for (const [, span] of prose.join('\n').matchAll(/`([^`]+)`/g)) add(section, span!.replace(/\s*\n\s*/g, ' '), '', true);
    prose = [];
  };
  for (const line of text.split('\n')) {
    const marker = /^\s*```(\w*)\s*$/.exec(line);
    if (fence) {
      if (marker && !marker[1]) {
        if (fence.lang === 'sh') {
          const code = fence.lines.join('\n');
          for (const command of code.replace(/\\\n\s*/g, '').split('\n')) add(section, command.replace(/(^|\s)#\s.*$/, ''), code, false);
        }
        fence = undefined;
      } else {
        fence.lines.push(line);
      }
    } else if (marker) {
      flushProse();
      fence = { lang: marker[1] ?? '', lines: [] };
    } else if (source.endsWith('.md') && /^#{1,6} /.test(line)) {
      flushProse();
      section = line;
    } else {
      prose.push(line);
    }
  }
  flushProse();
  return out;
}

/** Shell words: quotes removed, variables left as they are. */
function words(command: string): string[] {
  return [...command.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3] ?? '');
}

const commands = SOURCES.flatMap(commandsOf);
/** Commands to run as they are: not a mention, not shortened with a trailing … (`npx sls logs -f …`). */
const invocations = commands.filter((c) => !c.mention && !c.text.endsWith('…'));
const where = (c: Command) => `${c.source} (${c.section.trim() || 'top'}): ${c.text}`;
const slsCommands = invocations.filter((c) => /^(npx sls|sls|serverless) /.test(c.text));
/** The words after the CLI's name: `deploy function -f ingest --stage prod …`. */
const slsWords = (c: Command) => words(c.text).slice(c.text.startsWith('npx ') ? 2 : 1);
const scriptCommands = (script: string) => invocations.filter((c) => words(c.text).slice(0, 3).join(' ') === `npm run ${script}`);

/** The options a script hands to node:util parseArgs (`name: { type: 'string', short: 'h' }` lines). */
function optionsOf(script: string): Map<string, { type: string; short?: string }> {
  const source = readFileSync(join(ROOT, 'scripts', `${script}.ts`), 'utf8');
  const options = new Map<string, { type: string; short?: string }>();
  for (const [, name, type, short] of source.matchAll(/^\s+'?([\w-]+)'?: \{ type: '(string|boolean)'(?:, short: '(\w)')?/gm)) {
    options.set(name!, { type: type!, ...(short && { short }) });
  }
  return options;
}

describe('documented commands', () => {
  it('are found in every document (the extraction works)', () => {
    for (const source of SOURCES) assert.ok(commands.some((c) => c.source === source), source);
    assert.ok(slsCommands.length > 0 && scriptCommands('dlq').length > 0 && scriptCommands('send').length > 0);
  });

  it('give every sls command on a deployed stage --stage and --region, and never --param', () => {
    for (const c of slsCommands) {
      if (slsWords(c)[0] === 'package') continue;
      assert.ok(/\s--stage \S/.test(c.text) && /\s--region \S/.test(c.text), `stage and region: ${where(c)}`);
    }
    for (const c of commands) assert.ok(!/(^|\s)--param\b/.test(c.text), `settings belong in params.<stage>: ${where(c)}`);
  });

  it('use only the options osls has for that command', () => {
    const schema = createRequire(join(ROOT, 'package.json'))('serverless/lib/cli/commands-schema') as Map<
      string,
      { options?: Record<string, { shortcut?: string }> }
    >;
    for (const c of slsCommands) {
      const w = slsWords(c);
      const firstOption = w.findIndex((x) => x.startsWith('-'));
      const positional = firstOption < 0 ? w : w.slice(0, firstOption);
      const name = [positional.slice(0, 2).join(' '), positional[0] ?? ''].find((n) => schema.has(n));
      assert.ok(name !== undefined, `an osls command: ${where(c)}`);
      const options = schema.get(name)?.options ?? {};
      const known = new Set([...Object.keys(options), ...Object.values(options).flatMap((o) => (o.shortcut ? [o.shortcut] : []))]);
      for (const flag of w.filter((x) => x.startsWith('-'))) {
        assert.ok(known.has(flag.replace(/^--?/, '').split('=')[0]!), `${flag} is an option of sls ${name}: ${where(c)}`);
      }
    }
  });

  it('give every aws command --region, so it reaches the stage\'s region whatever the CLI default', () => {
    const aws = invocations.filter((c) => /^(aws |[A-Z_]+=\$\(aws )/.test(c.text));
    assert.ok(aws.length >= 6);
    for (const c of aws) assert.match(c.text, /\s--region \S/, where(c));
  });

  it('point every dlq command outside the local section at a stage, or at both queue URLs, and a region', () => {
    for (const c of scriptCommands('dlq')) {
      if (c.source === 'README.md' && c.section.startsWith(LOCAL_SECTION)) continue;
      const stage = /\s--stage \S/.test(c.text) || (/\s--queue-url \S/.test(c.text) && /\s--dlq-url \S/.test(c.text));
      assert.ok(stage && /\s--region \S/.test(c.text), where(c));
    }
  });

  it('use only options the dlq, send and backfill scripts define, each with a value where it takes one', () => {
    for (const script of ['dlq', 'send', 'backfill']) {
      const options = optionsOf(script);
      assert.ok(options.size > 4, `the options of scripts/${script}.ts were read`);
      // --help / -h: every script's, through scripts/cli.ts.
      options.set('help', { type: 'boolean', short: 'h' });
      for (const c of scriptCommands(script)) {
        const args = words(c.text).slice(4); // after `npm run <script> --`
        for (let i = 0; i < args.length; i++) {
          const arg = args[i]!;
          if (!arg.startsWith('-')) continue;
          const [name = '', inline] = arg.replace(/^--?/, '').split('=');
          const option = arg.startsWith('--') ? options.get(name) : [...options.values()].find((o) => o.short === name);
          assert.ok(option, `${arg} is an option of scripts/${script}.ts: ${where(c)}`);
          if (option.type === 'boolean') assert.equal(inline, undefined, `${arg} takes no value: ${where(c)}`);
          else if (inline === undefined) assert.ok(args[++i] !== undefined && !args[i]!.startsWith('-'), `${arg} has a value: ${where(c)}`);
        }
      }
    }
  });

  it('name scripts that exist in package.json', () => {
    const { scripts } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    for (const c of invocations.filter((x) => x.text.startsWith('npm run '))) {
      assert.ok(words(c.text)[2]! in scripts, where(c));
    }
  });
});

describe('documented secrets', () => {
  it('are read without echo: every $VAR in an SSM --value comes from read -rs or from SSM itself', () => {
    const puts = invocations.filter((c) => c.text.startsWith('aws ssm put-parameter'));
    assert.ok(puts.length >= 4);
    for (const c of puts) {
      const value = /--value "([^"]*)"/.exec(c.text)?.[1];
      assert.ok(value !== undefined, `a quoted --value: ${where(c)}`);
      for (const [, name] of value.matchAll(/\$(\w+)/g)) {
        const fromRead = new RegExp(`read -rs ${name} &&`).test(c.block);
        const fromSsm = new RegExp(`^${name}=\\$\\(aws ssm get-parameter `, 'm').test(c.block);
        assert.ok(fromRead || fromSsm, `$${name} is read with read -rs or from SSM in its block: ${where(c)}`);
      }
    }
    for (const source of SOURCES) {
      const typed = /FRONT_(RULE|APP)_SECRET=[^$\s]\S*/.exec(readFileSync(join(ROOT, source), 'utf8'));
      assert.equal(typed, null, `${source}: a secret typed on the command line stays in the shell history`);
    }
  });

  it('are stored with the same commands in the README and the deploy guide', () => {
    const creates = (source: string) =>
      invocations
        .filter((c) => c.source === source && c.text.startsWith('aws ssm put-parameter') && !c.text.includes('--overwrite'))
        .map((c) => c.text.replace(/\s+/g, ' '));
    assert.equal(creates('README.md').length, 2);
    assert.deepEqual(creates('README.md'), creates('docs/deploy.md'));
  });
});

describe('documented logs', () => {
  it('show how to follow each function live on a deployed stage', () => {
    for (const source of ['docs/deploy.md', 'docs/operations.md']) {
      for (const fn of ['ingest', 'process']) {
        assert.ok(
          commands.some((c) => c.source === source && c.text === `npx sls logs -f ${fn} --tail --stage prod --region eu-west-1`),
          `${source}: sls logs -f ${fn} --tail`,
        );
      }
    }
  });
});

describe('docs/reliability.md', () => {
  /** The titles of every test in tests/<file>, as written (escaped quotes undone). */
  function titlesOf(file: string): string[] {
    const source = readFileSync(join(ROOT, 'tests', file), 'utf8');
    return [...source.matchAll(/\bit\((['`])((?:\\.|(?!\1).)*)\1/g)].map((m) => m[2]!.replace(/\\(.)/g, '$1'));
  }

  it('names only tests that exist: each failure mode stays shown by the suite', () => {
    const page = readFileSync(join(ROOT, 'docs/reliability.md'), 'utf8');
    // In a table cell: `file.test.ts`: title[; title …][; `other.test.ts`: title …]. Titles may hold "; " too,
    // so each is matched against the file's own titles, longest first; "…" ends a title named by its start.
    const cells = page.split('\n').filter((l) => l.startsWith('|')).flatMap((l) => l.split('|'));
    let named = 0;
    for (const cell of cells) {
      for (const [, file, text] of cell.matchAll(/`([a-z-]+\.test\.ts)`: ((?:(?!; `).)+)/g)) {
        const titles = titlesOf(file!).sort((x, y) => y.length - x.length);
        let rest = text!.trim();
        while (rest.length > 0) {
          const exact = titles.find((t) => rest === t || rest.startsWith(`${t}; `));
          const prefix = /^([^;…]+)…/.exec(rest);
          const title = exact ?? (prefix && titles.some((t) => t.startsWith(prefix[1]!.trim())) ? prefix[0] : undefined);
          assert.ok(title, `docs/reliability.md names "${rest}" in tests/${file}, which has no such test`);
          named += 1;
          rest = rest.slice(title.length).replace(/^; /, '').trim();
        }
      }
    }
    assert.ok(named >= 30, `found ${named} references`);
  });

});
