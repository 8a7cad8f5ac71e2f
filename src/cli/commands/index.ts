/** Every `rampart` subcommand, in the order `rampart help` lists them. One line per command module. */
import type { Command } from '../command.js';
import { fwCheck, fwReplay } from './fw.js';

export const commands: readonly Command[] = [fwCheck, fwReplay];
