// sluice command line: `sluice <command> [--config FILE]`.
// Every failure is reported as one line per problem on stderr; no stack traces.
// Exit codes: 0 ok, 1 invalid config or failed start, 2 usage error.

import { parseArgs } from 'node:util';
import type { SluiceConfig } from './config/index.ts';
import type { RunningSupervisor } from './supervisor/supervisor.ts';
import { discardEarlyWorker, startWorkerEarly } from './supervisor/worker-thread.ts';

const USAGE = `Usage: sluice [command] [--config FILE]

Commands:
  run              start the proxy (default)
  validate         check the config file, start and stop its filters, and exit
  inspect FILE     describe a Proxy-Wasm module: ABI, entry point, allocator, SDK, imports

Options:
  -c, --config FILE  config file (default: ./config.yaml)
      --config-only  validate: check the file only (no filter is started)
      --json         inspect: print the report as JSON
  -h, --help         show this help
`;

const DEFAULT_CONFIG = './config.yaml';

interface Options { command: string; config: string; json: boolean; configOnly: boolean; rest: string[] }

async function main(argv: string[]): Promise<number> {
  const options = parseOptions(argv);
  if (typeof options === 'number') return options;
  if (options.rest.length > 0 && options.command !== 'inspect') {
    process.stderr.write(`sluice: unexpected argument "${options.rest[0]}" (the config file goes after --config)\n\n${USAGE}`);
    return 2;
  }
  switch (options.command) {
    case 'run':
      // The first worker thread boots while the configuration loads (worker-thread.ts): the
      // configuration code is imported only after this.
      startWorkerEarly();
      return run(options.config);
    case 'validate':
      return validate(options.config, options.configOnly);
    case 'inspect':
      return inspect(options);
    case 'help':
      process.stdout.write(USAGE);
      return 0;
    default:
      process.stderr.write(`sluice: unknown command "${options.command}"\n\n${USAGE}`);
      return 2;
  }
}

/** The parsed options, or the exit code when there is nothing more to do. */
function parseOptions(argv: string[]): Options | number {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c', default: DEFAULT_CONFIG },
        help: { type: 'boolean', short: 'h' },
        json: { type: 'boolean', default: false },
        'config-only': { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    process.stderr.write(`sluice: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (parsed.values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const [command = 'run', ...rest] = parsed.positionals;
  return { command, config: parsed.values.config, json: parsed.values.json, configOnly: parsed.values['config-only'], rest };
}

async function inspect(options: Options): Promise<number> {
  if (options.rest.length !== 1) {
    process.stderr.write(`sluice: inspect takes exactly one module file\n\n${USAGE}`);
    return 2;
  }
  const { inspectCommand } = await import('./inspect-command.ts');
  return inspectCommand(options.rest[0]!, options.json);
}

/** Loads the config, printing its issues when it is invalid. */
async function load(file: string): Promise<SluiceConfig | undefined> {
  const { ConfigError, loadConfig } = await import('./config/index.ts');
  try {
    return loadConfig(file);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return undefined;
  }
}

async function validate(file: string, configOnly: boolean): Promise<number> {
  const config = await load(file);
  if (!config) return 1;
  if (!configOnly && config.filters.length > 0) {
    // Every filter started as `run` starts it, and stopped: a module that does not load or a
    // filter that rejects its configuration is found here, not at deployment.
    const { checkFilters } = await import('./supervisor/check-filters.ts');
    const { problem, messages } = await checkFilters(config);
    if (problem !== null) {
      process.stderr.write(`${problem}\n${messages.map((m) => `  ${m}\n`).join('')}`);
      return 1;
    }
  }
  const { displayPath } = await import('./config/index.ts');
  const { listeners, clusters, filters } = config;
  process.stdout.write(`${displayPath(file)}: ok (${listeners.length} listeners, ${clusters.length} clusters, ${filters.length} filters)\n`);
  return 0;
}

/** How long a stop asked for while starting waits for the start to finish before giving up. */
const STOP_WHILE_STARTING_MS = 3000;

async function run(file: string): Promise<number> {
  const config = await load(file);
  if (!config) {
    discardEarlyWorker();
    return 1;
  }
  // Signals are handled from the start: one that arrives while workers are still starting
  // stops the proxy as soon as it is up, instead of killing it half-started.
  let stopRequested = false;
  let stop: (() => void) | null = null;
  const shutdown = (): void => {
    // A terminal's Ctrl-C reaches both bin/sluice.mjs's re-spawned child and the parent, which forwards it: ignore repeats.
    if (stopRequested) return;
    stopRequested = true;
    if (stop !== null) {
      stop();
      return;
    }
    // A start that never finishes (a filter looping in on_configure with the watchdog off)
    // must not make the process deaf to signals.
    setTimeout(() => fail(new Error(`stopped while starting: the start did not finish within ${STOP_WHILE_STARTING_MS / 1000} s`)), STOP_WHILE_STARTING_MS).unref();
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  // SIGQUIT stops gracefully: the requests in flight finish first (nginx's convention). A
  // SIGTERM or SIGINT meanwhile stops at once.
  let finish: (() => void) | null = null;
  let finishing = false;
  process.on('SIGQUIT', () => {
    if (stopRequested || finishing) return;
    if (finish === null) return shutdown(); // still starting: as SIGTERM
    finishing = true;
    finish();
  });
  // SIGHUP reloads the configuration file (by default it would end the process).
  let reload: (() => void) | null = null;
  process.on('SIGHUP', () => {
    if (reload !== null) reload();
    else process.stderr.write('sluice: SIGHUP while starting: ignored (send it again once the proxy serves to reload)\n');
  });
  // Loaded lazily: `validate` and `inspect` do not need the proxy.
  const { startSupervisor } = await import('./supervisor/supervisor.ts');
  let sluice;
  try {
    sluice = await startSupervisor(config);
  } catch (error) {
    discardEarlyWorker(); // when it failed before taking it (a port in use, say)
    throw error;
  }
  const running = sluice;
  reload = () => void reloadFrom(file, running);
  finish = () => {
    running.logger.info('stopping gracefully (SIGQUIT): the requests in flight finish first');
    running.finish().then(
      () => process.exit(0),
      (error: unknown) => fail(error),
    );
  };
  stop = () => {
    sluice.close().then(
      () => process.exit(0),
      (error: unknown) => fail(error),
    );
  };
  if (stopRequested) stop();
  return 0;
}

/**
 * Reads the configuration file again and, when it is valid, has the supervisor replace its
 * workers with ones running it; an invalid file is reported in the log and changes nothing.
 */
async function reloadFrom(file: string, sluice: RunningSupervisor): Promise<void> {
  const { ConfigError, formatIssue, loadConfig } = await import('./config/index.ts');
  let next: SluiceConfig;
  try {
    next = loadConfig(file);
  } catch (error) {
    if (!(error instanceof ConfigError)) {
      sluice.logger.error({ err: (error as Error).message }, 'reload failed; still serving with the previous configuration');
      return;
    }
    sluice.logger.error({ issues: error.issues.map(formatIssue) }, 'reload refused: the configuration file is not valid; still serving with the previous configuration');
    return;
  }
  sluice.logger.info({ file }, 'reloading the configuration (SIGHUP)');
  await sluice.reload(next);
}

/** Prints the one-line form of an unexpected error and exits 1. */
function fail(error: unknown): never {
  process.stderr.write(`sluice: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  fail(error);
}
