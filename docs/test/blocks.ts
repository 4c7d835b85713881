/**
 * Reads the code blocks of the guides (`docs/*.md`) and what each one is for, so that the guides test can
 * run every one of them and `pnpm --filter @ldl/docs run typecheck` can type-check the TypeScript ones.
 *
 * A ` ```ts ` block runs as it is; any other block needs an HTML comment right before it that says what to do:
 *
 * | block | what the test does |
 * |---|---|
 * | ` ```ts ` | writes it to `docs/.doctest/test/<guide>/line-<n>.ts` and imports it (an ES module, top-level `await` allowed), in the guide's own temporary working directory; it must not throw |
 * | `<!-- continues -->` + ` ```ts ` | the block continues the `ts` block before it (prose may stand between them): both are one module, run once at the first one |
 * | `<!-- run -->` + ` ```sh ` | runs it with `bash -euo pipefail` from the repository root; it must exit with 0 within 10 minutes (harmless commands that write only to temporary folders: `--help`, a small pipeline on synthetic faces) |
 * | `<!-- file: NAME -->` + any block | writes the block to NAME in the guide's working directory; a later `ts` block must name NAME |
 * | `<!-- output -->` + any block | every non-blank line of it must appear in what the block run before it printed (`console.log` of a `ts` module, stdout of a `sh` block); `…` stands for any text within a line |
 * | `<!-- not-run: REASON -->` + any block | not run; REASON (at least 3 words) says why |
 *
 * Any other block (a shell block without `run` or `not-run`, another language without a comment, an indented
 * code block) fails the test.
 */
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import MarkdownIt from 'markdown-it';

/** The repository root. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The folder of the guides. */
export const DOCS_DIR = path.join(REPO_ROOT, 'docs');
/** Where the TypeScript blocks are written (git-ignored): `test/` for the tests to import, `typecheck/` for `tsc`. */
export const DOCTEST_DIR = path.join(DOCS_DIR, '.doctest');

/** What the test does with a block (see the module comment). */
export type BlockAction =
  | { kind: 'ts' }
  | { kind: 'continues'; start: number }
  | { kind: 'sh' }
  | { kind: 'file'; name: string }
  | { kind: 'output' }
  | { kind: 'not-run'; reason: string };

/** One fenced code block of a guide. */
export interface CodeBlock {
  /** The guide's file name, e.g. `getting-started.md`. */
  guide: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** The fence's info string (language), `''` if none. */
  lang: string;
  /** The block's text. */
  code: string;
  /** What the test does with it. */
  action: BlockAction;
}

const TS_LANGS = new Set(['ts', 'typescript']);
const SH_LANGS = new Set(['sh', 'bash', 'shell']);
const DIRECTIVE = /^<!--\s*(not-run|file|output|continues|run)\s*(?::\s*([\s\S]*?))?\s*-->\s*$/;

/** The guides: every `.md` file directly in `docs/`, sorted. */
export function guideFiles(): string[] {
  return readdirSync(DOCS_DIR)
    .filter((f) => f.endsWith('.md'))
    .sort();
}

/**
 * The fenced code blocks of one guide with their actions.
 * @throws Error naming the guide and line for an indented code block, a block with an unknown or malformed
 * directive, a `not-run` without a reason of at least 3 words, or a block of a language that cannot run
 * (e.g. `text`, `csv`) without a directive.
 */
export function extractBlocks(markdown: string, guide: string): CodeBlock[] {
  const tokens = new MarkdownIt({ html: true }).parse(markdown, {});
  const blocks: CodeBlock[] = [];
  tokens.forEach((token, i) => {
    const line = (token.map?.[0] ?? 0) + 1;
    const where = `${guide}:${line}`;
    if (token.type === 'code_block') {
      throw new Error(`Error in extractBlocks: ${where}: code must be in a fenced block (\`\`\`ts, \`\`\`sh, …) so the guides test can run it, but got an indented code block.`);
    }
    if (token.type !== 'fence') return;
    const lang = token.info.trim().split(/\s+/)[0] ?? '';
    const previous = tokens[i - 1];
    const comment = previous?.type === 'html_block' ? previous.content.trim() : '';
    let action: BlockAction;
    if (comment.startsWith('<!--')) {
      const m = DIRECTIVE.exec(comment);
      if (!m) {
        throw new Error(`Error in extractBlocks: ${where}: the comment before a code block must be <!-- run -->, <!-- not-run: REASON -->, <!-- file: NAME -->, <!-- output --> or <!-- continues -->, but got ${JSON.stringify(comment)}.`);
      }
      const [, kind, arg = ''] = m;
      if (kind === 'run') {
        if (arg || !SH_LANGS.has(lang)) {
          throw new Error(`Error in extractBlocks: ${where}: <!-- run --> must stand before a sh block and take no argument, but got ${JSON.stringify(comment)} before a \`\`\`${lang} block.`);
        }
        action = { kind: 'sh' };
      } else if (kind === 'continues') {
        const start = [...blocks].reverse().find((b) => b.action.kind === 'ts' || b.action.kind === 'continues');
        if (arg || !TS_LANGS.has(lang) || !start) {
          throw new Error(`Error in extractBlocks: ${where}: <!-- continues --> must stand before a ts block that follows another ts block, but got ${JSON.stringify(comment)} before a \`\`\`${lang} block.`);
        }
        if (blocks.slice(blocks.indexOf(start)).some((b) => b.action.kind === 'file')) {
          throw new Error(`Error in extractBlocks: ${where}: <!-- continues --> must not continue a ts block across a <!-- file: NAME --> block (the module runs at its first block, before the file is written).`);
        }
        action = { kind: 'continues', start: start.action.kind === 'continues' ? start.action.start : start.line };
      } else if (kind === 'not-run') {
        if (arg.split(/\s+/).filter(Boolean).length < 3) {
          throw new Error(`Error in extractBlocks: ${where}: <!-- not-run: REASON --> must give a reason of at least 3 words, but got ${JSON.stringify(arg)}.`);
        }
        action = { kind: 'not-run', reason: arg };
      } else if (kind === 'file') {
        if (!/^[\w./-]+$/.test(arg) || arg.startsWith('/') || arg.split('/').includes('..')) {
          throw new Error(`Error in extractBlocks: ${where}: <!-- file: NAME --> must name a relative path inside the guide's folder, but got ${JSON.stringify(arg)}.`);
        }
        action = { kind: 'file', name: arg };
      } else {
        if (arg) throw new Error(`Error in extractBlocks: ${where}: <!-- output --> takes no argument, but got ${JSON.stringify(arg)}.`);
        action = { kind: 'output' };
      }
    } else if (TS_LANGS.has(lang)) {
      action = { kind: 'ts' };
    } else if (SH_LANGS.has(lang)) {
      throw new Error(
        `Error in extractBlocks: ${where}: a shell block runs only when asked: mark it <!-- run --> (cheap, harmless commands such as --help) or <!-- not-run: REASON -->, but it has no such comment.`,
      );
    } else {
      throw new Error(
        `Error in extractBlocks: ${where}: a \`\`\`${lang} block cannot be run: mark it <!-- not-run: REASON -->, <!-- file: NAME --> or <!-- output -->, but it has no such comment.`,
      );
    }
    blocks.push({ guide, line, lang, code: token.content, action });
  });
  return blocks;
}

/** The module a TypeScript block is part of (named by the line of its first block), under `root`. */
export function blockPath(block: CodeBlock, root = path.join(DOCTEST_DIR, 'test')): string {
  const start = block.action.kind === 'continues' ? block.action.start : block.line;
  return path.join(root, block.guide.replace(/\.md$/, ''), `line-${String(start).padStart(4, '0')}.ts`);
}

/** Reads the blocks of one guide (a file name in `docs/`). */
export function guideBlocks(guide: string): CodeBlock[] {
  return extractBlocks(readFileSync(path.join(DOCS_DIR, guide), 'utf8'), guide);
}

/**
 * Writes the TypeScript modules of the given blocks to `root/<guide>/` (each guide's folder emptied first): a
 * block and the blocks that continue it are one module.
 */
export function writeTsModules(blocks: readonly CodeBlock[], root = path.join(DOCTEST_DIR, 'test')): void {
  const modules = new Map<string, string[]>();
  for (const block of blocks.filter((b) => b.action.kind === 'ts' || b.action.kind === 'continues')) {
    const file = blockPath(block, root);
    const parts = modules.get(file) ?? [`// written by docs/test/blocks.ts from docs/${block.guide}: edit the guide, not this file`];
    parts.push(`// ${block.guide} line ${block.line}`, block.code);
    modules.set(file, parts);
  }
  for (const guide of new Set(blocks.map((b) => b.guide))) {
    rmSync(path.join(root, guide.replace(/\.md$/, '')), { recursive: true, force: true });
  }
  for (const [file, parts] of modules) {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, parts.join('\n'));
  }
}
