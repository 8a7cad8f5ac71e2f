/** Every `rampart` subcommand, in the order `rampart help` lists them. One line per command module. */
import type { Command } from '../command.js';
import { kernelCallsCommand } from './kernel.js';
import { proveCommand } from './prove.js';

export const commands: readonly Command[] = [proveCommand, kernelCallsCommand];
