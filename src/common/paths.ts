/** Locations inside the installed package, independent of the working directory. */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** The package root (the folder holding package.json); compiled code lives in `dist/src/`. */
export const packageRoot = fileURLToPath(new URL('../../../', import.meta.url));

export function packagePath(...parts: string[]): string {
  return join(packageRoot, ...parts);
}
