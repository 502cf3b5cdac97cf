// Command-line flags of the bench scripts. `--help` (or `-h`) prints the script's usage; a flag
// the script does not know, or one missing its value, is a line on stderr and exit code 2, not
// Node's stack trace.

import { parseArgs } from 'node:util';

type Options = NonNullable<Parameters<typeof parseArgs>[0]>['options'] & {};
type Config<O extends Options> = { options: O & { help: { type: 'boolean'; short: 'h'; default: false } }; strict: true };

/**
 * Parses the command line for `command` (its npm script, e.g. `bench:streaming`); `usage` is
 * printed for `--help`. Every script gets `--help` whether or not `options` lists it.
 */
export function benchFlags<O extends Options>(command: string, options: O, usage: () => string): ReturnType<typeof parseArgs<Config<O>>>['values'] {
  const config = { options: { ...options, help: { type: 'boolean', short: 'h', default: false } }, strict: true } as Config<O>;
  let values: ReturnType<typeof parseArgs<Config<O>>>['values'];
  try {
    values = parseArgs(config).values;
  } catch (err) {
    // Node's message for an unknown flag goes on to explain positional arguments, which these
    // scripts take none of; its other messages are kept whole, on one line.
    const e = err as Error & { code?: string };
    const message = e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? e.message.split('. ')[0] : e.message.replace(/\n/g, ' ');
    process.stderr.write(`${command}: ${message} (npm run ${command} -- --help lists the flags)\n`);
    process.exit(2);
  }
  if ((values as { help?: boolean }).help === true) {
    process.stdout.write(usage());
    process.exit(0);
  }
  return values;
}

/**
 * A flag's number, or `fallback` when it is absent; anything that is not a number ≥ `min` (> 0
 * by default; an integer when `integer`) is a line on stderr and exit code 2.
 */
export function numberFlag(command: string, name: string, text: string | undefined, fallback: number, min = Number.MIN_VALUE, integer = false): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (text.trim() !== '' && Number.isFinite(n) && n >= min && (!integer || Number.isInteger(n))) return n;
  const bound = min === Number.MIN_VALUE ? '> 0' : `≥ ${min}`;
  process.stderr.write(`${command}: --${name} expects ${integer ? 'a whole number' : 'a number'} ${bound}, got ${text}\n`);
  process.exit(2);
}
