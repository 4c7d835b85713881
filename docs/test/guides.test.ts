// Checks across the guides; each guide's blocks run in <guide>.test.ts (see run-guide.ts).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import MarkdownIt from 'markdown-it';
import { describe, expect, it } from 'vitest';
import { DOCS_DIR, guideBlocks, guideFiles, REPO_ROOT } from './blocks';

const blocks = guideFiles().flatMap(guideBlocks);

describe('the guides', () => {
  it('each have a test file that runs their blocks (where they have any)', () => {
    const here = path.dirname(fileURLToPath(import.meta.url));
    const withBlocks = guideFiles().filter((g) => guideBlocks(g).length > 0);
    const missing = withBlocks.filter((g) => !existsSync(path.join(here, g.replace(/\.md$/, '.test.ts'))));
    expect(missing, 'guides without docs/test/<guide>.test.ts (two lines: import testGuide and call it)').toEqual([]);
  });

  it('have code blocks, and every file a guide writes is read by a later TypeScript block', () => {
    expect(blocks.filter((b) => b.action.kind === 'ts').length).toBeGreaterThan(10);
    for (const [i, block] of blocks.entries()) {
      if (block.action.kind !== 'file') continue;
      const name = block.action.name;
      const readers = blocks.slice(i + 1).filter((b) => b.guide === block.guide && (b.action.kind === 'ts' || b.action.kind === 'continues') && b.code.includes(name));
      expect(readers, `${block.guide}:${block.line}: no later TypeScript block names ${name}`).not.toHaveLength(0);
    }
  });

  it('are all in the site: typedoc renders docs/Guides.md, whose frontmatter children list every other guide', () => {
    const typedoc = JSON.parse(readFileSync(path.join(REPO_ROOT, 'typedoc.json'), 'utf8')) as { projectDocuments?: string[] };
    expect(typedoc.projectDocuments).toEqual(['docs/Guides.md']);
    const frontmatter = /^---\n([\s\S]*?)\n---\n/.exec(readFileSync(path.join(DOCS_DIR, 'Guides.md'), 'utf8'))?.[1] ?? '';
    const children = [...frontmatter.matchAll(/^ {2}[^:\n]+: (\S+\.md)$/gm)].map((m) => m[1]);
    expect(children.slice().sort()).toEqual(guideFiles().filter((g) => g !== 'README.md' && g !== 'Guides.md'));
  });

  it('link only to files that exist', () => {
    const md = new MarkdownIt({ html: true });
    const broken: string[] = [];
    for (const guide of guideFiles()) {
      const walk = (tokens: ReturnType<typeof md.parse>): void => {
        for (const t of tokens) {
          const href = t.type === 'link_open' ? t.attrGet('href') : null;
          const target = href?.split('#')[0];
          if (target && !/^[a-z]+:/i.test(target) && !existsSync(path.resolve(DOCS_DIR, target))) broken.push(`${guide}: ${href}`);
          if (t.children) walk(t.children);
        }
      };
      walk(md.parse(readFileSync(path.join(DOCS_DIR, guide), 'utf8'), {}));
    }
    expect(broken).toEqual([]);
  });
});
