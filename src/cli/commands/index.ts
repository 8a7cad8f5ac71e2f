/** Every `rampart` subcommand, in the order `rampart help` lists them. One line per command module. */
import type { Command } from '../command.js';
import { boardsCommand } from './boards.js';
import { demoEntryPointCommand, demoHelloCommand } from './demo.js';
import { bootCommand } from './boot.js';
import { imageCommands } from './image.js';
import { fwCheck, fwReplay } from './fw.js';
import { kernelCallsCommand } from './kernel.js';
import { proveCommand } from './prove.js';

export const commands: readonly Command[] = [
  boardsCommand,
  bootCommand,
  demoHelloCommand,
  demoEntryPointCommand,
  ...imageCommands,
  fwCheck,
  fwReplay,
  proveCommand,
  kernelCallsCommand,
];
