#!/usr/bin/env node
/** `rampart` entry point: dispatches to the subcommand table, maps errors to exit codes. */
import { InputError, RampartError } from '../common/errors.js';
import type { CliIO, Command } from './command.js';
import { commands } from './commands/index.js';

const io: CliIO = {
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : text + '\n'),
  err: (text) => process.stderr.write(text.endsWith('\n') ? text : text + '\n'),
};

function help(): string {
  const width = Math.max(...commands.map((c) => c.name.join(' ').length), 4);
  const lines = commands.map((c) => `  ${c.name.join(' ').padEnd(width)}  ${c.summary}`);
  return [
    'usage: rampart <command> [options]',
    '',
    'commands:',
    ...lines,
    '',
    'exit codes: 0 success, 1 runtime failure, 2 bad input',
  ].join('\n');
}

/** Longest command name that prefixes argv wins, so `fw check` beats `fw`. */
function find(argv: string[]): { command: Command; rest: string[] } | undefined {
  let best: Command | undefined;
  for (const c of commands) {
    if (c.name.every((w, i) => argv[i] === w) && (!best || c.name.length > best.name.length)) best = c;
  }
  return best ? { command: best, rest: argv.slice(best.name.length) } : undefined;
}

/** An error is one line: control characters (a newline in a file name or a quoted token) are escaped. */
function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) => JSON.stringify(c).slice(1, -1));
}

export async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === 'help' || argv[0] === '--help' || argv[0] === '-h') {
    io.out(help());
    return argv.length === 0 ? 2 : 0;
  }
  const found = find(argv);
  if (!found) {
    io.err(`rampart: unknown command '${argv.join(' ')}'\n\n${help()}`);
    return 2;
  }
  if (found.rest.includes('--help') || found.rest.includes('-h')) {
    io.out(found.command.usage);
    return 0;
  }
  try {
    return await found.command.run(found.rest, io);
  } catch (e) {
    if (e instanceof InputError) {
      io.err(`rampart ${found.command.name.join(' ')}: ${oneLine(e.message)} [${e.code}]`);
      return 2;
    }
    if (e instanceof RampartError) {
      io.err(`rampart ${found.command.name.join(' ')}: ${oneLine(e.message)} [${e.code}]`);
      return 1;
    }
    io.err(`rampart ${found.command.name.join(' ')}: internal error: ${(e as Error).stack ?? String(e)}`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
