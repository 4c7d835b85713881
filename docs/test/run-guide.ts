// Runs the code blocks of one guide in order (see blocks.ts for what each kind of block does). A block that
// throws, exits non-zero or prints something other than the output shown under it fails its test, named by
// guide and line. Each guide has its own test file (`<guide>.test.ts`), so each runs in a fresh process:
// nothing one guide imports or registers (a tfjs backend, kernels) can make another one's blocks pass.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { format } from 'node:util';
import { describe, expect, it } from 'vitest';
import { blockPath, type CodeBlock, guideBlocks, REPO_ROOT, writeTsModules } from './blocks';

/** Imports a TypeScript block in `cwd` and returns what it printed with `console.log`. */
async function runTs(block: CodeBlock, cwd: string): Promise<string> {
  const printed: string[] = [];
  const log = console.log;
  const home = process.cwd();
  console.log = (...args: unknown[]) => {
    printed.push(format(...args));
    log(...args);
  };
  process.chdir(cwd);
  try {
    await import(/* @vite-ignore */ pathToFileURL(blockPath(block)).href);
  } catch (err) {
    const stack = (err as Error).stack ?? String(err);
    throw new Error(`${guideLineOf(block, stack)}: the TypeScript block threw: ${stack}`, { cause: err });
  } finally {
    console.log = log;
    process.chdir(home);
  }
  return printed.join('\n');
}

/**
 * Where in the guide an error of `block`'s module arose: the stack's first line in the module file mapped back
 * through the `// <guide> line <n>` markers that `writeTsModules` puts before each block's code; the module's
 * first block if the stack does not name the module.
 */
function guideLineOf(block: CodeBlock, stack: string): string {
  const file = blockPath(block);
  const at = new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:(\\d+)`).exec(stack);
  if (!at) return `${block.guide}:${block.line}`;
  const moduleLine = Number(at[1]);
  const lines = readFileSync(file, 'utf8').split('\n');
  for (let i = Math.min(moduleLine, lines.length) - 1; i >= 0; i--) {
    const marker = /^\/\/ \S+ line (\d+)$/.exec(lines[i]!);
    if (marker) return `${block.guide}:${Number(marker[1]) + (moduleLine - (i + 1))}`;
  }
  return `${block.guide}:${block.line}`;
}

/** How long one block may run: a shell block may run a small pipeline end to end (pack, torchrun, import, export: about 30 s alone, minutes on a busy CI machine). */
const BLOCK_TIMEOUT_MS = 600_000;

/** Runs a shell block from the repository root and returns its standard output. */
function runSh(block: CodeBlock): string {
  try {
    return execFileSync('bash', ['-euo', 'pipefail', '-c', block.code], { cwd: REPO_ROOT, encoding: 'utf8', timeout: BLOCK_TIMEOUT_MS, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { status?: number; stderr?: string; stdout?: string };
    throw new Error(`${block.guide}:${block.line}: the shell block exited with ${e.status}:\n${e.stdout ?? ''}${e.stderr ?? ''}`, { cause: err });
  }
}

/** A line of an output block as a pattern: the text itself, where `…` stands for any text within one line. */
function outputLinePattern(line: string): RegExp {
  return new RegExp(line.split('…').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('[^\\n]*'));
}

/** Declares one test per code block of `guide` (a file name in docs/), run in order. */
export function testGuide(guide: string): void {
  const blocks = guideBlocks(guide);
  writeTsModules(blocks);
  describe(guide, () => {
    const cwd = mkdtempSync(path.join(os.tmpdir(), `ldl-docs-${guide.replace(/\.md$/, '')}-`));
    let lastOutput: string | null = null;
    const modules = new Map<number, Error | null>(); // first line of a TypeScript module → how its run ended
    for (const block of blocks) {
      const { action } = block;
      const title = `line ${block.line}: ${block.lang || 'block'}`;
      if (action.kind === 'not-run') {
        it.skip(`${title}, not run: ${action.reason}`, () => undefined);
        continue;
      }
      const detail = action.kind === 'file' ? ` ${action.name}` : action.kind === 'continues' ? ` line ${action.start}, run with it` : '';
      it(`${title} (${action.kind}${detail})`, async () => {
        if (action.kind === 'file') {
          const file = path.join(cwd, action.name);
          mkdirSync(path.dirname(file), { recursive: true });
          writeFileSync(file, block.code);
          lastOutput = null;
        } else if (action.kind === 'ts') {
          lastOutput = null;
          modules.set(block.line, new Error(`${guide}:${block.line}: the module did not finish`));
          lastOutput = await runTs(block, cwd);
          modules.set(block.line, null);
        } else if (action.kind === 'continues') {
          // Ran as part of the module that starts at action.start; lastOutput is that module's output.
          expect(modules.get(action.start), `${guide}:${block.line}: continues the module at line ${action.start}, which failed`).toBeNull();
        } else if (action.kind === 'sh') {
          lastOutput = null;
          lastOutput = runSh(block);
        } else {
          expect(lastOutput, `${guide}:${block.line}: an output block must follow a ts or sh block that ran without error`).not.toBeNull();
          const missing = block.code
            .split('\n')
            .map((l) => l.trim())
            .filter((l) => l && !outputLinePattern(l).test(lastOutput!));
          expect(missing, `${guide}:${block.line}: lines of the output block that the block before it did not print; it printed:\n${lastOutput}`).toEqual([]);
        }
      }, BLOCK_TIMEOUT_MS);
    }
  });
}
