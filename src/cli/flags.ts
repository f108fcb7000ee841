// Flag parsing shared by the commands that use a model: node:util parseArgs, with negative numbers
// accepted as values (so that the flag's own check rejects them), and one-line errors that name
// the flag and say what to pass.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';

import cliProgress from 'cli-progress';

import { setThreads } from '../backend.js';
import { loadOmniglot, type OmniglotSplit, type OmniglotSplitName, type OmniglotVariant } from '../data/omniglot.js';
import { loadModel } from '../model/load.js';

/** An error meant for the user of the command line: printed as its message alone, exit code 2. */
export class UsageError extends Error {}

type Options = NonNullable<ParseArgsConfig['options']>;
type ParsedValues<O extends Options> = { [K in keyof O]?: O[K] extends { type: 'boolean' } ? boolean : O[K] extends { multiple: true } ? string[] : string };

export function parseFlags<O extends Options>(command: string, args: string[], options: O, positionals = false): { values: ParsedValues<O>; positionals: string[] } {
  // "--flag -5" -> "--flag=-5": parseArgs would otherwise call a negative value ambiguous
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const name = args[i].startsWith('--') ? args[i].slice(2) : '';
    if (options[name]?.type === 'string' && i + 1 < args.length && /^-\d|^-\.\d/.test(args[i + 1])) joined.push(`${args[i]}=${args[++i]}`);
    else joined.push(args[i]);
  }
  try {
    const { values, positionals: rest } = parseArgs({ args: joined, options, strict: true, allowPositionals: positionals });
    return { values: values as ParsedValues<O>, positionals: rest };
  } catch (err) {
    throw new UsageError(`gmn ${command}: ${(err as Error).message.split('\n')[0]} (gmn ${command} --help lists the flags)`);
  }
}

/** Readers of flag values that throw a UsageError naming the flag. */
export function flagReaders(command: string) {
  const fail = (flag: string, what: string, v: string): never => {
    throw new UsageError(`gmn ${command}: --${flag} needs ${what}, not "${v}"`);
  };
  const int = (flag: string, v: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (v.trim() === '' || !Number.isInteger(n) || n < min || n > max) fail(flag, max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer from ${min} to ${max}`, v);
    return n;
  };
  const ints = (flag: string, v: string | undefined, min: number, max?: number): number[] | undefined =>
    v === undefined ? undefined : v.split(',').map((part) => int(flag, part.trim(), min, max) ?? fail(flag, 'a comma-separated list of integers', v));
  const oneOf = <T extends string>(flag: string, v: string | undefined, allowed: readonly T[]): T | undefined => {
    if (v === undefined) return undefined;
    if (!(allowed as readonly string[]).includes(v)) fail(flag, `one of ${allowed.join(', ')}`, v);
    return v as T;
  };
  return { int, ints, oneOf, fail };
}

/** The Omniglot folder: --data, else the GMN_DATA environment variable; a UsageError when neither is set. */
export function dataFolder(command: string, flag: string | undefined): string {
  const dir = flag ?? process.env.GMN_DATA;
  if (!dir) throw new UsageError(`gmn ${command}: --data DIR is required (the Omniglot folder; or set GMN_DATA)`);
  return dir;
}

/** A progress bar with an ETA on stderr; also a line every few seconds when stderr is not a terminal. */
export function progressBar(what: string): { update: (done: number, total: number) => void; stop: () => void } {
  const bar = new cliProgress.SingleBar(
    { format: `${what} {value}/{total} |{bar}| {percentage}% | eta {eta_formatted}`, hideCursor: true, etaBuffer: 30, noTTYOutput: true, notTTYSchedule: 5000, stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(done, total) {
      if (!started) bar.start(total, 0);
      started = true;
      bar.update(done);
    },
    stop: () => started && bar.stop(),
  };
}

/** The flags every model command has. */
export const modelFlags = {
  checkpoint: { type: 'string' },
  threads: { type: 'string' },
  seed: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** The flags of the commands that read the data folder and write a report (eval, classify). */
export const reportFlags = {
  data: { type: 'string' },
  split: { type: 'string' },
  variant: { type: 'string' },
  episodes: { type: 'string' },
  samples: { type: 'string' },
  quick: { type: 'boolean' },
  out: { type: 'string' },
  json: { type: 'string' },
} as const;

/** Prints a report (markdown tables and a timing line) and writes it to --out, and `json` to --json. */
export function writeReport(values: { out?: string; json?: string }, report: string, json: unknown): void {
  process.stdout.write(report);
  if (values.out) writeFileSync(values.out, report);
  if (values.json) writeFileSync(values.json, JSON.stringify(json, null, 2) + '\n');
}

export const modelUsage = `  --checkpoint FILE       a checkpoint of gmn train or a weights file        the default model
  --threads N             CPU threads                                        all cores
  --seed N                seed of episodes and noise                         0
`;

/** Loads --checkpoint (or the default model) and applies --threads. */
export async function loadModelFlags(command: string, values: { checkpoint?: string; threads?: string; seed?: string }) {
  const { int } = flagReaders(command);
  const threads = int('threads', values.threads, 1, 1024);
  if (threads !== undefined) setThreads(threads);
  const seed = int('seed', values.seed, 0, 2 ** 32 - 1);
  try {
    return { model: await loadModel(values.checkpoint), seed };
  } catch (err) {
    throw new UsageError(`gmn ${command}: --checkpoint: ${(err as Error).message}`);
  }
}

/** Loads the split a command reads from --data (or GMN_DATA), with errors that name the flag. */
export async function loadDataFlag(command: string, dir: string | undefined, split: OmniglotSplitName | undefined, variant: OmniglotVariant): Promise<OmniglotSplit> {
  const folder = dataFolder(command, dir);
  checkBinaryCopy(command, folder, variant, split ?? 'evaluation');
  try {
    return await loadOmniglot(folder, split ?? 'evaluation', { variant });
  } catch (err) {
    throw new UsageError(`gmn ${command}: --data: ${(err as Error).message}`);
  }
}

/**
 * Runs API work for a command; an argument error from the API (which names `options.someName`)
 * becomes a UsageError naming the flag (`--some-name`) instead.
 */
export async function asFlags<R>(command: string, work: () => Promise<R>): Promise<R> {
  try {
    return await work();
  } catch (err) {
    if (!(err instanceof TypeError || err instanceof RangeError)) throw err;
    const message = err.message.replace(/\boptions\.([A-Za-z]+)(\[\d+\])?/g, (_, name: string) => `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
    throw new UsageError(`gmn ${command}: ${message}`);
  }
}

/**
 * A UsageError when `dir` has the greyscale images but not the gmn-binary copy that `variant`
 * asks for (gmn import-omniglot makes only the greyscale files).
 */
export function checkBinaryCopy(command: string, dir: string, variant: OmniglotVariant, split: OmniglotSplitName): void {
  if (variant !== 'gmn-binary' || existsSync(join(dir, 'gmn-binary', `${split}.u8`)) || !existsSync(join(dir, `${split}.u8`))) return;
  throw new UsageError(
    `gmn ${command}: ${dir} has no gmn-binary/${split}.u8, the paper's binarised copy (gmn import-omniglot makes only the greyscale images); ` +
      `pass --variant greyscale to use the greyscale images (binarised by Bernoulli draws), or copy the gmn-binary/ folder there`,
  );
}
