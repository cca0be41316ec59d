/**
 * The one font set every browser of the platform renders with — `npm start`, the tests,
 * the fleet image and the Lambda layer — taken from npm packages (no apt step), and the
 * fontconfig file that makes Chromium see those fonts and no others.
 *
 * A font set is a flat directory of TTFs, made by `stageFontSet`: at synth time for the
 * Lambda layer (`/opt/fonts`), in the image build for the fleet (`/app/fonts`), and on
 * first launch into the temp dir when neither is given (`npm start`, the tests).
 */
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** Files taken from each package, relative to the package's root. */
interface FontSource {
  readonly packageName: string;
  readonly files: readonly string[];
  /** WOFF2 files, which Chromium's bundled FreeType can't read: decoded to TTF when staged. */
  readonly woff2?: boolean;
}

const fourStyles = (family: string): string[] =>
  ['400Regular', '400Regular_Italic', '700Bold', '700Bold_Italic'].map((s) => `${s}/${family}_${s}.ttf`);
const regularAndBold = (family: string): string[] =>
  ['400Regular', '700Bold'].map((s) => `${s}/${family}_${s}.ttf`);

/**
 * Arimo, Tinos and Cousine have the metrics of Arial, Times New Roman and Courier New, so
 * pages laid out for those fonts wrap the same way. Noto Sans SC, JP and KR cover Han,
 * kana and Hangul (two weights each: CSS bold without a bold face is smeared, not drawn).
 * Noto Color Emoji is the COLRv1 build, shipped as WOFF2 subsets.
 */
export const FONT_SOURCES: readonly FontSource[] = [
  { packageName: '@expo-google-fonts/arimo', files: fourStyles('Arimo') },
  { packageName: '@expo-google-fonts/tinos', files: fourStyles('Tinos') },
  { packageName: '@expo-google-fonts/cousine', files: fourStyles('Cousine') },
  { packageName: '@expo-google-fonts/noto-sans-sc', files: regularAndBold('NotoSansSC') },
  { packageName: '@expo-google-fonts/noto-sans-jp', files: regularAndBold('NotoSansJP') },
  { packageName: '@expo-google-fonts/noto-sans-kr', files: regularAndBold('NotoSansKR') },
  {
    packageName: '@infolektuell/noto-color-emoji',
    files: Array.from({ length: 11 }, (_, i) => `files/${i}.woff2`),
    woff2: true,
  },
];

/** Written last by `stageFontSet` (the set's fingerprint): a directory without it is half-staged. */
const STAGED_MARKER = '.staged';

const packageRoot = (packageName: string): string => {
  const require = createRequire(import.meta.url);
  try {
    return dirname(require.resolve(`${packageName}/package.json`));
  } catch (error) {
    throw new Error(
      `The font package ${packageName} is not installed: run \`npm install\` (fonts are devDependencies; ` +
        'a production install gets them from a staged font directory, FONT_DIR).',
      { cause: error },
    );
  }
};

const stagedName = (packageName: string, file: string): string =>
  `${packageName.replace(/^@/, '').replace(/\//g, '-')}-${file.replace(/\//g, '-').replace(/\.woff2$/, '.ttf')}`;

/**
 * Copies the font set into `targetDir` (WOFF2 decoded to TTF) and answers it. Idempotent:
 * a directory already staged is left as it is.
 */
export const stageFontSet = async (targetDir: string): Promise<string> => {
  // The marker names the packages' versions and files: a temp dir staged from another set
  // (an older checkout, say) is staged again.
  const fingerprint = JSON.stringify(
    FONT_SOURCES.map((source) => {
      const { version } = JSON.parse(
        readFileSync(join(packageRoot(source.packageName), 'package.json'), 'utf8'),
      );
      return [source.packageName, version, source.files];
    }),
  );
  const marker = join(targetDir, STAGED_MARKER);
  if (existsSync(marker) && readFileSync(marker, 'utf8') === fingerprint) return targetDir;
  mkdirSync(targetDir, { recursive: true });
  // Half-written files wait beside the set, not in it: whoever copies the set meanwhile
  // (the CDK packaging the layer, in a parallel synth) never finds one that then vanishes.
  const partsDir = `${targetDir}.parts`;
  mkdirSync(partsDir, { recursive: true });
  for (const source of FONT_SOURCES) {
    const root = packageRoot(source.packageName);
    for (const file of source.files) {
      // Each file is written whole, then renamed: another worker staging the same temp dir
      // at the same time, or a browser reading it, never sees half a font.
      const name = stagedName(source.packageName, file);
      const target = join(targetDir, name);
      const part = join(partsDir, `${name}.${process.pid}.part`);
      if (source.woff2 === true) {
        // Imported here only: a runtime given a staged directory never loads the decoder.
        const { decompress } = (await import('wawoff2')).default;
        writeFileSync(part, await decompress(readFileSync(join(root, file))));
        renameSync(part, target);
      } else {
        copyFileSync(join(root, file), part);
        renameSync(part, target);
      }
    }
  }
  writeFileSync(marker, fingerprint);
  return targetDir;
};

/** The families a generic CSS name and the common proprietary names resolve to. */
const CJK_AND_EMOJI = ['Noto Sans SC', 'Noto Sans JP', 'Noto Sans KR', 'Noto Color Emoji'];
const ALIASES: readonly { names: string[]; prefer: string[] }[] = [
  { names: ['sans-serif', 'Arial', 'Helvetica', 'system-ui'], prefer: ['Arimo', ...CJK_AND_EMOJI] },
  { names: ['serif', 'Times New Roman', 'Times'], prefer: ['Tinos', ...CJK_AND_EMOJI] },
  { names: ['monospace', 'Courier New', 'Courier'], prefer: ['Cousine', ...CJK_AND_EMOJI] },
  { names: ['emoji'], prefer: ['Noto Color Emoji'] },
];
/** Han is unified: a page that says it is Japanese or Korean gets that country's glyph shapes. */
const LANG_PREFERENCES: readonly { lang: string; family: string }[] = [
  { lang: 'ja', family: 'Noto Sans JP' },
  { lang: 'ko', family: 'Noto Sans KR' },
];

const xml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A fontconfig file that knows only `fontDir` (no system fonts) and caches in `cacheDir`. */
export const fontConfig = (fontDir: string, cacheDir: string): string =>
  [
    '<?xml version="1.0"?>',
    '<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">',
    '<fontconfig>',
    `  <dir>${xml(fontDir)}</dir>`,
    `  <cachedir>${xml(cacheDir)}</cachedir>`,
    ...ALIASES.flatMap(({ names, prefer }) =>
      names.map(
        (name) =>
          `  <alias binding="same"><family>${xml(name)}</family><prefer>${prefer.map((f) => `<family>${xml(f)}</family>`).join('')}</prefer></alias>`,
      ),
    ),
    ...LANG_PREFERENCES.map(
      ({ lang, family }) =>
        `  <match target="pattern"><test name="lang" compare="contains"><string>${lang}</string></test><edit name="family" mode="prepend"><string>${family}</string></edit></match>`,
    ),
    // Our fonts are outlines at every size: no bitmap strikes, no hinting (see the flags).
    '  <match target="font"><edit name="hinting" mode="assign"><bool>false</bool></edit></match>',
    '</fontconfig>',
    '',
  ].join('\n');

/** Where the temp-dir copy of the font set goes when no staged directory is given. */
export const defaultFontDir = (): string => join(tmpdir(), 'bf-fonts');

/**
 * Stages the font set if it has no directory yet, writes its fontconfig file beside the
 * cache in the temp dir (the only writable place on Lambda), and answers the environment
 * Chromium needs to use it. FONTCONFIG_FILE wins over the FONTCONFIG_PATH that
 * @sparticuz/chromium sets on Lambda (its /tmp/fonts config).
 */
export const fontEnvironment = async (fontDir: string | undefined): Promise<{ FONTCONFIG_FILE: string }> => {
  const dir = fontDir ?? (await stageFontSet(defaultFontDir()));
  if (fontDir !== undefined && !readdirSync(dir).some((f) => f.endsWith('.ttf'))) {
    throw new Error(`FONT_DIR ${dir} holds no .ttf files: stage the font set there (stageFontSet).`);
  }
  const configDir = join(tmpdir(), 'bf-fontconfig');
  mkdirSync(configDir, { recursive: true });
  const file = join(configDir, 'fonts.conf');
  const content = fontConfig(dir, join(configDir, 'cache'));
  if (!existsSync(file) || readFileSync(file, 'utf8') !== content) {
    // Written whole, then renamed: a browser launched by another worker never reads half a file.
    const part = `${file}.${process.pid}.part`;
    writeFileSync(part, content);
    renameSync(part, file);
  }
  return { FONTCONFIG_FILE: file };
};

/**
 * Where a staged font set lives in a deployed runtime: the Lambda layer's `fonts/` and the
 * fleet image's copy are both mounted here, so both run with the same files.
 */
export const DEPLOYED_FONT_DIR = '/opt/fonts';

/** The deployed font set if this machine has one, else undefined (stage into the temp dir). */
export const deployedFontDir = (): string | undefined =>
  existsSync(join(DEPLOYED_FONT_DIR, STAGED_MARKER)) ? DEPLOYED_FONT_DIR : undefined;

// `node shared/adapters/fonts/font-set.ts <dir>`: stages the set (the image build, the layer).
if (import.meta.url === `file://${process.argv[1]}` && process.argv[2] !== undefined) {
  await stageFontSet(process.argv[2]);
}
