/**
 * Image recipes: a YAML file per board naming the signing key and, for each of the board's two images,
 * its version, security counter and components (kind, name, file). `rampart image build` signs one
 * recipe; `rampart image build-defaults` signs the recipe of every embedded default board with its
 * development key. Paths in a recipe are relative to the recipe file. Format: docs/boot.md §"Recipes".
 */
import { createHash } from 'node:crypto';
import { writeFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { InputError } from '../common/errors.js';
import { makeOutputDir, readInputFile, readInputText } from '../common/input-file.js';
import { packagePath } from '../common/paths.js';
import { parseStructured } from '../common/structured.js';
import { DEFAULT_BOARDS, developmentKeyFor } from './defaults.js';
import {
  COMPONENT_KIND_CODES,
  COMPONENT_NAME_PATTERN,
  type ComponentInput,
  type ComponentKind,
  type ImageKind,
  type ImageSpec,
  type ImageVersion,
} from './format.js';
import { loadPrivateKey } from './keys.js';
import { signImage } from './sign.js';

/** "MAJOR.MINOR.REVISION" or "MAJOR.MINOR.REVISION+BUILD" (MCUboot's version fields). */
export function parseVersion(text: string): ImageVersion | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,5})(?:\+(\d{1,10}))?$/.exec(text);
  if (!m) return undefined;
  const v = { major: Number(m[1]), minor: Number(m[2]), revision: Number(m[3]), build: Number(m[4] ?? 0) };
  if (v.major > 0xff || v.minor > 0xff || v.revision > 0xffff || v.build > 0xffffffff) return undefined;
  return v;
}

const componentKinds = Object.keys(COMPONENT_KIND_CODES) as [ComponentKind, ...ComponentKind[]];

const RecipeComponent = z.strictObject({
  kind: z.enum(componentKinds),
  name: z.string().regex(COMPONENT_NAME_PATTERN, 'a name is 1..48 of [A-Za-z0-9._/-]'),
  path: z.string().min(1),
});

const RecipeImage = z.strictObject({
  version: z
    .string()
    .refine((s) => parseVersion(s) !== undefined, 'a version is MAJOR.MINOR.REVISION[+BUILD]'),
  securityCounter: z.number().int().min(0).max(0xffffffff),
  components: z.array(RecipeComponent).min(1),
});

const RecipeSchema = z.strictObject({
  board: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'a board name is lowercase letters, digits and dashes'),
  key: z.string().min(1).optional(),
  images: z.strictObject({ 'secure-bundle': RecipeImage, 'normal-world': RecipeImage }),
});

export type Recipe = z.infer<typeof RecipeSchema>;

/** The two images of a board, ready to sign. */
export interface BoardImageSpecs {
  readonly board: string;
  readonly secureBundle: ImageSpec;
  readonly normalWorld: ImageSpec;
}

export interface BuiltBoardImages {
  readonly board: string;
  readonly secureBundle: Uint8Array;
  readonly normalWorld: Uint8Array;
}

/** Loads and validates a recipe file; errors name the file, line and field. */
export function loadRecipe(file: string): {
  recipe: Recipe;
  keyFile: string | undefined;
  specs: BoardImageSpecs;
} {
  const text = readInputText(file, { kind: 'recipe', what: 'the recipe', unreadableCode: 'NO_RECIPE' });
  const recipe = parseStructured(text, { file, schema: RecipeSchema, code: 'RECIPE' });
  const base = dirname(resolve(file));
  const spec = (kind: ImageKind): ImageSpec => {
    const r = recipe.images[kind];
    const components: ComponentInput[] = r.components.map((c, i) => {
      const path = resolve(base, c.path);
      try {
        return { kind: c.kind, name: c.name, bytes: readInputFile(path, { kind: 'component', what: path }) };
      } catch (e) {
        // Located at the recipe's field; the component's own path is in the message.
        const err = e as InputError;
        throw new InputError(
          err.code === 'INPUT_UNREADABLE' ? 'NO_COMPONENT' : err.code,
          err.code === 'INPUT_UNREADABLE' ? err.detail : `${path}: ${err.detail}`,
          { file, field: `images.${kind}.components[${i}].path` },
        );
      }
    });
    return { kind, version: parseVersion(r.version)!, securityCounter: r.securityCounter, components };
  };
  return {
    recipe,
    keyFile: recipe.key === undefined ? undefined : resolve(base, recipe.key),
    specs: { board: recipe.board, secureBundle: spec('secure-bundle'), normalWorld: spec('normal-world') },
  };
}

/** Signs both images of a board. The builder the setup step calls once the layers supply components. */
export function buildBoardImages(specs: BoardImageSpecs, keyPem: string, keyFile: string): BuiltBoardImages {
  const { key } = loadPrivateKey(keyPem, keyFile);
  return {
    board: specs.board,
    secureBundle: signImage(specs.secureBundle, key),
    normalWorld: signImage(specs.normalWorld, key),
  };
}

export const IMAGE_FILE_NAMES = {
  secureBundle: 'secure-bundle.img',
  normalWorld: 'normal-world.img',
} as const;

/** Writes OUT/<board>/secure-bundle.img and OUT/<board>/normal-world.img; returns their paths. */
export function writeBoardImages(
  outDir: string,
  images: BuiltBoardImages,
): { secureBundle: string; normalWorld: string } {
  const dir = join(outDir, images.board);
  makeOutputDir(outDir);
  makeOutputDir(dir);
  const paths = {
    secureBundle: join(dir, IMAGE_FILE_NAMES.secureBundle),
    normalWorld: join(dir, IMAGE_FILE_NAMES.normalWorld),
  };
  writeFileSync(paths.secureBundle, images.secureBundle);
  writeFileSync(paths.normalWorld, images.normalWorld);
  return paths;
}

/** Reads the two images of a board as `writeBoardImages` wrote them into `dir`. */
export function readBoardImages(dir: string, board: string): BuiltBoardImages {
  const read = (name: string) => {
    const file = join(dir, board, name);
    return readInputFile(file, {
      kind: 'image',
      what: `the ${board} image`,
      unreadableCode: 'IMAGE_UNREADABLE',
    });
  };
  return {
    board,
    secureBundle: read(IMAGE_FILE_NAMES.secureBundle),
    normalWorld: read(IMAGE_FILE_NAMES.normalWorld),
  };
}

/** A recipe with its components read and its signing key resolved (the recipe's, else the development key). */
function resolveRecipe(
  file: string,
  expectBoard?: string,
): { specs: BoardImageSpecs; keyFile: string; pem: string } {
  const { specs, keyFile: own } = loadRecipe(file);
  if (expectBoard !== undefined && specs.board !== expectBoard)
    throw new InputError(
      'RECIPE_INVALID',
      `this recipe is for board ${specs.board}, expected ${expectBoard}`,
      {
        file,
        field: 'board',
      },
    );
  const dev = developmentKeyFor(specs.board);
  const keyFile = own ?? (dev ? packagePath(dev.privateKey) : undefined);
  if (!keyFile)
    throw new InputError('NO_KEY', `board ${specs.board} has no development key: name a key in the recipe`, {
      file,
      field: 'key',
    });
  const pem = readInputText(keyFile, { kind: 'key', what: 'the signing key', unreadableCode: 'NO_KEY' });
  return { specs, keyFile, pem };
}

/** Next to a board's images: the SHA-256 of the inputs they were built from (`recipeInputsDigest`). */
export const INPUTS_FILE_NAME = 'inputs.sha256';

function inputsDigest(recipeText: Uint8Array, specs: BoardImageSpecs, pem: string): string {
  const h = createHash('sha256').update(recipeText);
  for (const spec of [specs.secureBundle, specs.normalWorld])
    for (const c of spec.components)
      h.update(`\n${c.kind}:${c.name}:${createHash('sha256').update(c.bytes).digest('hex')}`);
  return h.update(`\nkey:${pem}`).digest('hex');
}

/**
 * SHA-256 (hex) of everything a recipe's images are made of: the recipe itself (versions, counters,
 * component list), every component's bytes and the signing key. Images whose recorded digest differs
 * were built from other inputs: they are stale.
 */
export function recipeInputsDigest(file: string): string {
  const { specs, pem } = resolveRecipe(file);
  return inputsDigest(readInputFile(file, { kind: 'recipe' }), specs, pem);
}

/** Whether `dir/<board>` holds images built from exactly the current inputs of recipe `file`. */
export function imagesAreCurrent(dir: string, board: string, file: string): boolean {
  let recorded: string;
  try {
    recorded = readInputText(join(dir, board, INPUTS_FILE_NAME), { kind: 'digest' }).trim();
  } catch {
    return false;
  }
  const names = Object.values(IMAGE_FILE_NAMES);
  return names.every((n) => existsSync(join(dir, board, n))) && recorded === recipeInputsDigest(file);
}

/** Builds one recipe: the recipe's key, else the board's development key. */
export function buildRecipe(
  file: string,
  outDir: string,
  expectBoard?: string,
): { board: string; paths: { secureBundle: string; normalWorld: string } } {
  const { specs, keyFile, pem } = resolveRecipe(file, expectBoard);
  const images = buildBoardImages(specs, pem, keyFile);
  const paths = writeBoardImages(outDir, images);
  const digest = inputsDigest(readInputFile(file, { kind: 'recipe' }), specs, pem);
  writeFileSync(join(outDir, specs.board, INPUTS_FILE_NAME), `${digest}\n`);
  return { board: specs.board, paths };
}

export const DEFAULT_RECIPES_DIR = packagePath('images');
export const DEFAULT_IMAGES_DIR = packagePath('.rampart', 'images');

/** Builds `<board>.yaml` from `recipesDir` for every default board; every default board needs one. */
export function buildDefaultImages(
  recipesDir = DEFAULT_RECIPES_DIR,
  outDir = DEFAULT_IMAGES_DIR,
): { board: string; paths: { secureBundle: string; normalWorld: string } }[] {
  const missing = DEFAULT_BOARDS.filter((b) => !existsSync(join(recipesDir, `${b}.yaml`)));
  if (missing.length > 0)
    throw new InputError(
      'NO_RECIPE',
      `no image recipe for ${missing.join(', ')} (expected ${missing.map((b) => `${b}.yaml`).join(', ')})`,
      { file: recipesDir },
    );
  return DEFAULT_BOARDS.map((board) => buildRecipe(join(recipesDir, `${board}.yaml`), outDir, board));
}
